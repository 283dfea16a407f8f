import Jobs
import Testing

@Suite struct JobIDTests {
    @Test func idsAreWellFormedAndDistinct() {
        let ids = (0..<1000).map { _ in JobID.make() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy(JobID.isWellFormed))
        #expect(!JobID.isWellFormed("job_short") && !JobID.isWellFormed("task_" + String(repeating: "a", count: 26)))
    }
}
