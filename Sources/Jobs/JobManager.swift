import AnalyticDB
import Foundation
import VikingDB
import JSON
import Logging
import Profiles
import Store
import Synchronization

/// What a job reads its data from.
public enum JobSource: Sendable {
    /// A local file, already validated: `rows` vectors.
    case filePath(String, rows: Int)
    case fileURL(String)

    var json: JSON {
        switch self {
        case .filePath(let path, let rows): return ["file_path": .string(path), "rows": JSON(rows)]
        case .fileURL(let url): return ["file_url": .string(url)]
        }
    }

    init?(_ json: JSON) {
        if let path = json["file_path"]?.stringValue { self = .filePath(path, rows: Int(json["rows"]?.intValue ?? 0)) } else if let url = json["file_url"]?.stringValue { self = .fileURL(url) } else { return nil }
    }
}

/// Progress of a submission or a job, for whoever is watching (a progress notification, a terminal bar).
public typealias ProgressCallback = @Sendable (_ done: Double, _ total: Double?, _ message: String) -> Void

/// A job-level failure with a message an agent can act on.
public struct JobError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let record: JobRecord?
    public init(_ message: String, record: JobRecord? = nil) {
        self.message = message
        self.record = record
    }
    public var description: String { message }
}

/// Creates, runs, follows and cancels job handles.
///
/// Uploads to one collection form a queue (`queue_key`): only the oldest unfinished job of a queue is submitted;
/// the others wait as `queued`. Claims happen inside SQLite write transactions, so the rule holds across every
/// process on the same state directory, and a job whose claiming process died is claimed again.
public final class JobManager: Sendable {
    public static let upsertKind = "adbpg.upsert_collection_data"

    public let store: JobStore
    public let profiles: ProfilesConfig
    let clientFor: @Sendable (Profile) -> AnalyticDBClient
    let vikingClientFor: (@Sendable (Profile) -> VikingDBClient)?
    let logger = Logger(label: "vectorjobs.jobs")
    let pid = getpid()
    /// Namespace passwords given in calls (never stored): job id → password.
    let callPasswords = Mutex<[String: String]>([:])
    let submitting = Mutex<Set<String>>([])
    let schedulerStarted = Mutex(false)

    public init(store: JobStore, profiles: ProfilesConfig, clientFor: @escaping @Sendable (Profile) -> AnalyticDBClient,
                vikingClientFor: (@Sendable (Profile) -> VikingDBClient)? = nil) {
        self.store = store
        self.profiles = profiles
        self.clientFor = clientFor
        self.vikingClientFor = vikingClientFor
    }

    static var now: Double { Date().timeIntervalSince1970 }

    // MARK: Creating

    public static func queueKey(profile: Profile, namespace: String?, collection: String) -> String {
        "\(profile.name)|\(profile.instance ?? profile.workspace ?? "")|\(namespace ?? "public")|\(collection)"
    }

    /// Records a new upsert job as `queued`. Call `runIfHead` next to submit it when its queue is free.
    public func createUpsertJob(profile: Profile, collection: String, namespace: String?, password: String?,
                                source: JobSource) throws -> JobRecord {
        var record = JobRecord(id: JobID.make(), profile: profile.name, provider: profile.provider.rawValue, kind: Self.upsertKind,
                               queueKey: Self.queueKey(profile: profile, namespace: namespace, collection: collection),
                               collection: collection, namespace: namespace, source: source.json.serialized(),
                               parameters: (["password_from_call": .bool(password != nil)] as JSON).serialized(),
                               progressUnit: "rows", now: Self.now)
        if case .filePath(_, let rows) = source { record.progressTotal = Int64(rows) }
        if let password { callPasswords.withLock { $0[record.id] = password } }
        try store.insert(record)
        logger.info("job created", metadata: ["job": "\(record.id)", "collection": "\(collection)"])
        return record
    }

    func password(for record: JobRecord) throws(JobError) -> String {
        if let given = callPasswords.withLock({ $0[record.id] }) { return given }
        let namespace = record.namespace ?? "public"
        guard let profile = profiles.profile(named: record.profile) else {
            throw JobError("the profile \"\(record.profile)\" of this job is not in the current profiles file", record: record)
        }
        guard let password = profile.namespaces[namespace] else {
            throw JobError("no password for namespace \"\(namespace)\" in profile \"\(profile.name)\"; add it under namespaces.\(namespace).password",
                           record: record)
        }
        return password
    }

    func client(for record: JobRecord) throws(JobError) -> AnalyticDBClient {
        guard let profile = profiles.profile(named: record.profile) else {
            throw JobError("the profile \"\(record.profile)\" of this job is not in the current profiles file", record: record)
        }
        return clientFor(profile)
    }

    func target(_ record: JobRecord) throws(JobError) -> AnalyticDBClient.Target {
        AnalyticDBClient.Target(collection: record.collection, namespace: record.namespace, password: try password(for: record))
    }

    // MARK: The queue

    static func processAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// Claims `id` for submission by this process when it is the head of its queue and nobody alive holds it.
    func claim(_ id: String) throws -> JobRecord? {
        try store.database.transaction { connection in
            guard var record = try store.get(id, in: connection), record.state == .queued else { return nil }
            if let owner = record.ownerPID, owner != pid, Self.processAlive(owner) { return nil }
            if record.ownerPID == pid, submitting.withLock({ $0.contains(id) }) { return nil }
            guard try store.activeInQueue(record.queueKey, in: connection).first?.id == id else { return nil }
            if callPasswords.withLock({ $0[id] }) == nil,
               (try? JSON.parse(record.parameters))?["password_from_call"]?.boolValue == true,
               profiles.profile(named: record.profile)?.namespaces[record.namespace ?? "public"] == nil {
                return nil // only the process that was given the password can submit it
            }
            record.ownerPID = pid
            record.claimedAt = Self.now
            record.providerStatus = "Submitting"
            record.updatedAt = Self.now
            try store.update(record, in: connection)
            return record
        }
    }

    /// Submits the job now if it heads its queue; otherwise leaves it queued. Returns the job as it stands.
    /// A submission that fails marks the job failed and throws, so the caller can report the provider's error.
    @discardableResult
    public func runIfHead(_ id: String, progress: ProgressCallback? = nil) async throws(JobError) -> JobRecord {
        let claimed: JobRecord?
        do { claimed = try claim(id) } catch { throw JobError("cannot claim the job: \(error)") }
        guard let record = claimed else {
            guard let current = try? store.get(id) else { throw JobError("unknown job \(id)") }
            return current
        }
        if Self.bulkKinds.contains(record.kind) {
            do { return try beginBulk(record) } catch { throw JobError("cannot start the job: \(error)") }
        }
        submitting.withLock { _ = $0.insert(id) }
        defer { submitting.withLock { _ = $0.remove(id) } }
        return try await submit(record, progress: progress)
    }

    private func submit(_ claimed: JobRecord, progress: ProgressCallback?) async throws(JobError) -> JobRecord {
        var record = claimed
        do {
            let client = try client(for: record)
            let target = try target(record)
            guard let source = (try? JSON.parse(record.source)).flatMap(JobSource.init) else {
                throw JobError("the job's source is unreadable", record: record)
            }
            let isDocument = record.kind == Self.documentKind
            let fileURL: String
            var rows: Int?
            switch source {
            case .fileURL(let url):
                fileURL = url
            case .filePath(let path, let count):
                rows = count
                fileURL = try await upload(path, client: client, validate: !isDocument, progress: progress)
            }
            if let current = try? store.get(record.id), current.state == .cancelled {
                return current // cancelled while uploading; nothing was submitted
            }
            let submitted = isDocument
                ? try await submitDocument(record, client: client, target: target, fileURL: fileURL)
                : try await submitWithClient(client, target: target, fileURL: fileURL)
            record = try finishSubmission(record.id, remoteID: submitted, rows: rows,
                                          deadline: isDocument ? Self.documentDeadline : nil)
            logger.info("job submitted", metadata: ["job": "\(record.id)", "remote_job_id": "\(submitted)"])
            return record
        } catch let error as JobError {
            fail(record.id, message: error.message)
            throw JobError(error.message, record: try? store.get(record.id))
        } catch {
            fail(record.id, message: "\(error)")
            throw JobError("\(error)", record: try? store.get(record.id))
        }
    }

    private func submitWithClient(_ client: AnalyticDBClient, target: AnalyticDBClient.Target, fileURL: String) async throws(JobError) -> String {
        do {
            return try await client.upsertCollectionDataAsync(target, fileURL: fileURL).jobID
        } catch {
            throw JobError(error.description)
        }
    }

    /// Streams the file to OSS, validating it again as it goes (it may have changed since it was checked).
    private func upload(_ path: String, client: AnalyticDBClient, validate: Bool, progress: ProgressCallback?) async throws(JobError) -> String {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
        let watcher = UploadWatcher(total: size, validate: validate, progress: progress)
        do {
            return try await client.uploadLocalFile(path, observer: { chunk in try watcher.observe(chunk) })
        } catch {
            if let fault = watcher.fault { throw JobError("the file changed while uploading and is no longer valid: \(fault)") }
            throw JobError(error.description)
        }
    }

    private func finishSubmission(_ id: String, remoteID: String, rows: Int?, deadline: Double? = nil) throws -> JobRecord {
        try store.database.transaction { connection in
            guard var record = try store.get(id, in: connection) else { throw JobError("job \(id) vanished") }
            record.remoteJobID = remoteID
            record.ownerPID = nil
            record.providerStatus = "Start"
            record.updatedAt = Self.now
            // The docs' advice: plan by 1,000 rows per second, then allow 30 minutes more.
            record.deadline = Self.now + (deadline ?? (Double(rows ?? 0) / 1000 + 1800))
            if record.state == .queued { record.state = .running }
            try store.update(record, in: connection)
            return record
        }
    }

    func fail(_ id: String, message: String) {
        _ = try? store.database.transaction { connection in
            guard var record = try store.get(id, in: connection), !record.state.isTerminal else { return }
            record.state = .failed
            record.error = message
            record.ownerPID = nil
            record.updatedAt = Self.now
            try store.update(record, in: connection)
        }
    }

    // MARK: Following

    public func get(_ id: String) throws(JobError) -> JobRecord {
        guard JobID.isWellFormed(id) else { throw JobError("\"\(id)\" is not a job id (job ids look like job_ and 26 letters and digits)") }
        guard let record = try? store.get(id) else { throw JobError("unknown job \(id)") }
        return record
    }

    public func pollInterval(for record: JobRecord) -> Duration {
        if Self.bulkKinds.contains(record.kind) { return .milliseconds(200) } // our own job: its record is its state
        return profiles.profile(named: record.profile)?.pollInterval ?? .seconds(5)
    }

    /// The job, refreshed from the provider when its last poll is older than `maxAge`.
    public func refresh(_ id: String, maxAge: Duration = .zero) async throws(JobError) -> JobRecord {
        let record = try get(id)
        guard [.running, .cancelling].contains(record.state), let remoteID = record.remoteJobID else { return record }
        let age = Self.now - (record.lastPolledAt ?? 0)
        if age < Double(maxAge.components.seconds) + Double(maxAge.components.attoseconds) / 1e18 { return record }
        let client = try client(for: record)
        let target = try target(record)
        let remote: AnalyticDBClient.UpsertJob
        do {
            if record.kind == Self.documentKind {
                return apply(document: try await client.getUploadDocumentJob(target, jobID: remoteID), to: id)
            }
            remote = try await client.getUpsertCollectionDataJob(target, jobID: remoteID)
        } catch {
            logger.warning("poll failed", metadata: ["job": "\(id)", "error": "\(error)"])
            if case .api(let status, _, _, _, _) = error, (400..<500).contains(status), error.code?.hasPrefix("Throttling") != true {
                fail(id, message: "the provider no longer answers for this job: \(error)")
                return try get(id)
            }
            throw JobError("cannot reach the provider: \(error)", record: record)
        }
        return apply(remote, to: id)
    }

    /// Waits until the job ends or `timeout` passes, refreshing at the profile's poll interval.
    /// - Returns: the job, and whether the wait timed out.
    public func wait(_ id: String, timeout: Duration, onUpdate: (@Sendable (JobRecord) -> Void)? = nil) async throws(JobError) -> (JobRecord, Bool) {
        let clock = ContinuousClock()
        let end = clock.now + timeout
        var record = try get(id)
        while true {
            let interval = min(pollInterval(for: record), .seconds(5))
            do {
                record = try await refresh(id, maxAge: interval / 2)
            } catch {
                record = try get(id) // a passing provider fault: keep waiting
            }
            onUpdate?(record)
            if record.state.isTerminal { return (record, false) }
            if record.state == .queued, !submitting.withLock({ $0.contains(id) }) {
                _ = try? await runIfHead(id)
            }
            let remaining = end - clock.now
            if remaining <= .zero { return (record, true) }
            do {
                try await Task.sleep(for: min(interval, remaining))
            } catch {
                throw JobError("the wait was cancelled", record: record)
            }
        }
    }

    /// Cancels a job: a queued one never reaches the provider; a running one is cancelled there.
    public func cancel(_ id: String) async throws(JobError) -> JobRecord {
        let record = try get(id)
        if record.state.isTerminal {
            throw JobError("job \(id) has already ended (\(record.state.rawValue)) and cannot be cancelled", record: record)
        }
        if record.state == .queued {
            let cancelled = try? store.database.transaction { connection -> JobRecord? in
                guard var current = try store.get(id, in: connection), current.state == .queued else { return nil }
                current.state = .cancelled
                current.providerStatus = current.providerStatus == "Submitting" ? "Submitting" : nil
                current.updatedAt = Self.now
                try store.update(current, in: connection)
                return current
            }
            if let cancelled = cancelled ?? nil { return cancelled }
        }
        let current = try get(id)
        if Self.bulkKinds.contains(current.kind) {
            _ = try? store.database.transaction { connection in
                guard var r = try store.get(id, in: connection), !r.state.isTerminal else { return }
                let orphaned = r.ownerPID.map { $0 != pid && !Self.processAlive($0) } ?? true
                r.state = orphaned ? .cancelled : .cancelling
                r.updatedAt = Self.now
                try store.update(r, in: connection)
            }
            return try get(id)
        }
        guard let remoteID = current.remoteJobID else { return current }
        let client = try client(for: current)
        let target = try target(current)
        do {
            if current.kind == Self.documentKind {
                _ = try await client.cancelUploadDocumentJob(target, jobID: remoteID)
            } else {
                _ = try await client.cancelUpsertCollectionDataJob(target, jobID: remoteID)
            }
        } catch {
            // The job may have finished meanwhile: report what it is now.
            let now = try await refresh(id)
            if now.state.isTerminal {
                throw JobError("job \(id) has already ended (\(now.state.rawValue)) and cannot be cancelled", record: now)
            }
            throw JobError("the provider refused the cancel: \(error)", record: now)
        }
        _ = try? store.database.transaction { connection in
            guard var r = try store.get(id, in: connection), !r.state.isTerminal else { return }
            r.state = .cancelling
            r.lastPolledAt = nil
            r.updatedAt = Self.now
            try store.update(r, in: connection)
        }
        return try await refresh(id)
    }

    // MARK: Listing

    public struct Page: Sendable {
        public var jobs: [JobRecord]
        public var nextCursor: String?
    }

    public func list(_ filter: JobStore.Filter, limit: Int, cursor: String?) throws(JobError) -> Page {
        var after: (Double, String)?
        if let cursor {
            guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8),
                  let bar = text.firstIndex(of: "|"), let time = Double(text[..<bar]) else {
                throw JobError("invalid cursor: pass the next_cursor of the previous page")
            }
            after = (time, String(text[text.index(after: bar)...]))
        }
        let jobs: [JobRecord]
        do { jobs = try store.list(filter, limit: limit + 1, after: after) } catch { throw JobError("cannot read the job store: \(error)") }
        let page = Array(jobs.prefix(limit))
        let next = jobs.count > limit ? page.last.map { Data("\($0.createdAt)|\($0.id)".utf8).base64EncodedString() } : nil
        return Page(jobs: page, nextCursor: next)
    }

    // MARK: Background work

    /// Starts the loop that submits queued jobs when their turn comes and polls running ones.
    public func startScheduler(tick: Duration = .milliseconds(250)) {
        let already = schedulerStarted.withLock { started -> Bool in defer { started = true }; return started }
        guard !already else { return }
        Task.detached { [self] in
            while true {
                await schedulerTick()
                try? await Task.sleep(for: tick)
            }
        }
    }

    func schedulerTick() async {
        guard let active = try? store.active() else { return }
        resumeOrphans(active)
        var heads = Set<String>()
        for record in active where !heads.contains(record.queueKey) {
            heads.insert(record.queueKey)
            if record.state == .queued, !submitting.withLock({ $0.contains(record.id) }) {
                Task { _ = try? await self.runIfHead(record.id) }
            }
        }
        for record in active where [.running, .cancelling].contains(record.state) {
            _ = try? await refresh(record.id, maxAge: pollInterval(for: record))
        }
    }
}

/// Watches a file as it uploads: validates it incrementally and reports bytes sent.
final class UploadWatcher: Sendable {
    private struct State {
        var validator = VectorsValidator(maxFaults: 1)
        var sent: Int64 = 0
        var lastReport: Double = 0
    }
    private let state = Mutex(State())
    private let total: Int64?
    private let progress: ProgressCallback?
    private let faultBox = Mutex<String?>(nil)

    private let validate: Bool

    init(total: Int64?, validate: Bool, progress: ProgressCallback?) {
        self.total = total
        self.validate = validate
        self.progress = progress
    }

    var fault: String? { faultBox.withLock { $0 } }

    struct Invalid: Error, CustomStringConvertible { let description: String }

    func observe(_ chunk: UnsafeRawBufferPointer) throws {
        nonisolated(unsafe) let bytes = chunk // read synchronously under the lock, never kept
        let validate = self.validate
        let (fault, sent, report) = state.withLock { s -> (String?, Int64, Bool) in
            if validate { s.validator.consume(bytes) }
            s.sent += Int64(chunk.count)
            let now = Date().timeIntervalSince1970
            let report = now - s.lastReport >= 0.5
            if report { s.lastReport = now }
            return (s.validator.report.faults.first?.description, s.sent, report)
        }
        if let fault {
            faultBox.withLock { $0 = fault }
            throw Invalid(description: fault)
        }
        if report || sent == total {
            progress?(Double(sent), total.map(Double.init), "uploading the file: \(sent / 1_048_576) of \((total ?? 0) / 1_048_576) MiB")
        }
    }
}
