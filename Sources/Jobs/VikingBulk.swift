import Foundation
import JSON
import Profiles
import Store
import Synchronization
import VikingDB

/// Where a bulk job stands: everything before `offset` (line `line`) is acknowledged.
struct BulkCheckpoint: Codable, Sendable {
    var offset: Int64 = 0
    var line: Int = 0
    var done: Int64 = 0
    var skipped: Int = 0
    var skippedLines: [Int] = []
}

/// One batch of rows read from the file, with where it lies.
struct BulkBatch: Sendable {
    let index: Int
    var rows: [JSON]
    var lines: [Int]
    /// Lines that are not JSON objects (never sent).
    var broken: [Int]
    let endOffset: Int64
    let endLine: Int
}

/// Reads the file from the checkpoint, a batch at a time.
actor BulkSource {
    private let handle: FileHandle
    private let batchSize: Int
    private var buffer: [UInt8] = []
    private var offset: Int64
    private var line: Int
    private var index = 0
    private var atEnd = false

    init(path: String, from checkpoint: BulkCheckpoint, batchSize: Int) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw JobError("cannot open \(path)") }
        try handle.seek(toOffset: UInt64(checkpoint.offset))
        self.handle = handle
        self.batchSize = batchSize
        offset = checkpoint.offset
        line = checkpoint.line
    }

    func next() -> BulkBatch? {
        var batch = BulkBatch(index: index, rows: [], lines: [], broken: [], endOffset: 0, endLine: 0)
        while batch.rows.count + batch.broken.count < batchSize {
            guard let (text, length) = nextLine() else { break }
            line += 1
            offset += Int64(length)
            if text.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            if let row = try? JSON.parse(text), row.objectValue != nil {
                batch.rows.append(row)
                batch.lines.append(line)
            } else {
                batch.broken.append(line)
            }
        }
        guard !batch.rows.isEmpty || !batch.broken.isEmpty else { return nil }
        index += 1
        return BulkBatch(index: batch.index, rows: batch.rows, lines: batch.lines, broken: batch.broken, endOffset: offset, endLine: line)
    }

    /// The next line without its newline, and the bytes it took in the file.
    private func nextLine() -> ([UInt8], Int)? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let text = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                return (text, newline + 1)
            }
            if atEnd {
                guard !buffer.isEmpty else { return nil }
                let text = buffer
                buffer = []
                return (text, text.count)
            }
            let data = handle.readData(ofLength: 1 << 20)
            if data.isEmpty { atEnd = true } else { buffer.append(contentsOf: data) }
        }
    }
}

/// Records acknowledged batches and moves the checkpoint over the contiguous prefix.
actor BulkTracker {
    private var checkpoint: BulkCheckpoint
    private var nextIndex = 0
    private var finished: [Int: (BulkBatch, [Int])] = [:]
    private let save: @Sendable (BulkCheckpoint) -> Void

    init(checkpoint: BulkCheckpoint, save: @escaping @Sendable (BulkCheckpoint) -> Void) {
        self.checkpoint = checkpoint
        self.save = save
    }

    var current: BulkCheckpoint { checkpoint }

    func acknowledge(_ batch: BulkBatch, skippedLines: [Int]) {
        finished[batch.index] = (batch, skippedLines)
        var moved = false
        while let (done, skipped) = finished.removeValue(forKey: nextIndex) {
            checkpoint.offset = done.endOffset
            checkpoint.line = done.endLine
            checkpoint.done += Int64(done.rows.count + done.broken.count - skipped.count)
            checkpoint.skipped += skipped.count
            checkpoint.skippedLines.append(contentsOf: skipped.prefix(max(0, 20 - checkpoint.skippedLines.count)))
            nextIndex += 1
            moved = true
        }
        if moved { save(checkpoint) }
    }
}

extension JobManager {
    public static let vikingUpsertKind = "vikingdb.upsert_data"
    public static let vikingUpdateKind = "vikingdb.update_data"
    static let bulkKinds: Set<String> = [vikingUpsertKind, vikingUpdateKind]

    /// Records a bulk write of a local JSONL file to a VikingDB collection as `queued`.
    public func createBulkJob(profile: Profile, kind: String, target: VikingDBClient.Target, filePath: String, lines: Int,
                              ttl: Int64?, skipInvalidRows: Bool, ignoreUnknownFields: Bool?) throws -> JobRecord {
        var parameters: JSON = ["file_path": .string(filePath), "skip_invalid_rows": .bool(skipInvalidRows)]
        switch target {
        case .name(let n): parameters["collection_name"] = .string(n)
        case .resourceID(let r): parameters["resource_id"] = .string(r)
        }
        if let ttl { parameters["ttl"] = .int(ttl) }
        if let ignoreUnknownFields { parameters["ignore_unknown_fields"] = .bool(ignoreUnknownFields) }
        var record = JobRecord(id: JobID.make(), profile: profile.name, provider: profile.provider.rawValue, kind: kind,
                               queueKey: "\(profile.name)|viking|\(target.label)", collection: target.label, namespace: nil,
                               source: (["file_path": .string(filePath)] as JSON).serialized(), parameters: parameters.serialized(),
                               progressUnit: "rows", now: Self.now)
        record.progressTotal = Int64(lines)
        try store.insert(record)
        logger.info("bulk job created", metadata: ["job": "\(record.id)", "collection": "\(target.label)", "lines": "\(lines)"])
        return record
    }

    /// Claims a running bulk job whose process died (or this process's own, never started) and runs it from its checkpoint.
    func resumeOrphans(_ active: [JobRecord]) {
        for record in active where Self.bulkKinds.contains(record.kind) && [.running, .cancelling].contains(record.state) {
            guard let owner = record.ownerPID, owner != pid, !Self.processAlive(owner) else { continue }
            let claimed = try? store.database.transaction { connection -> Bool in
                guard var current = try store.get(record.id, in: connection), let owner = current.ownerPID, owner != pid,
                      !Self.processAlive(owner) else { return false }
                current.ownerPID = pid
                current.updatedAt = Self.now
                try store.update(current, in: connection)
                return true
            }
            if claimed == true {
                logger.notice("resuming a bulk job from its checkpoint", metadata: ["job": "\(record.id)"])
                startBulk(record.id)
            }
        }
    }

    func startBulk(_ id: String) {
        submitting.withLock { _ = $0.insert(id) }
        Task.detached { [self] in
            await runBulk(id)
            submitting.withLock { _ = $0.remove(id) }
        }
    }

    /// Marks a claimed bulk job running (this process owns it) and starts it in the background.
    func beginBulk(_ claimed: JobRecord) throws -> JobRecord {
        var record = claimed
        record.state = .running
        record.providerStatus = "Sending"
        record.ownerPID = pid
        record.updatedAt = Self.now
        try store.update(record)
        startBulk(record.id)
        return record
    }

    func runBulk(_ id: String) async {
        guard let record = try? store.get(id), let profile = profiles.profile(named: record.profile),
              let makeClient = vikingClientFor else {
            fail(id, message: "the job's profile is not configured in this process")
            return
        }
        let parameters = (try? JSON.parse(record.parameters)) ?? [:]
        guard let path = parameters["file_path"]?.stringValue else { fail(id, message: "the job has no file"); return }
        let target: VikingDBClient.Target = parameters["collection_name"]?.stringValue.map { .name($0) } ?? .resourceID(parameters["resource_id"]?.stringValue ?? "")
        let vectorize = parameters["collection_name"]?.stringValue.flatMap { profile.collections[$0]?.vectorize } ?? false
        let skipInvalid = parameters["skip_invalid_rows"]?.boolValue ?? false
        let ttl = parameters["ttl"]?.intValue
        let ignoreUnknown = parameters["ignore_unknown_fields"]?.boolValue
        let isUpdate = record.kind == Self.vikingUpdateKind
        let client = VikingDBClient(profile: profile, http: makeClient(profile).http, attempts: max(10, profile.retryAttempts))
        let limiter = rateLimiter(record.queueKey, rowsPerSecond: profile.rowsPerSecond)

        let start = (record.checkpoint.flatMap { try? JSONDecoder().decode(BulkCheckpoint.self, from: Data($0.utf8)) }) ?? BulkCheckpoint()
        let source: BulkSource
        do { source = try BulkSource(path: path, from: start, batchSize: vectorize ? 1 : 100) } catch {
            fail(id, message: "\(error)")
            return
        }
        let tracker = BulkTracker(checkpoint: start) { [self] checkpoint in saveCheckpoint(id, checkpoint) }
        let failure = FirstFailure()

        @Sendable func send(_ rows: [JSON]) async throws(VikingDBError) {
            await limiter.acquire(rows.count)
            if isUpdate {
                _ = try await client.update(target, data: rows, ttl: ttl)
            } else {
                _ = try await client.upsert(target, data: rows, ttl: ttl, ignoreUnknownFields: ignoreUnknown)
            }
        }

        @Sendable func attempt(_ rows: [JSON]) async -> VikingDBError? {
            do {
                try await send(rows)
                return nil
            } catch {
                return error
            }
        }

        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, profile.concurrency) {
                group.addTask { [self] in
                    while failure.value.withLock({ $0 == nil }), !isStopping(id), let batch = await source.next() {
                        var skipped = batch.broken
                        if !batch.broken.isEmpty && !skipInvalid {
                            failure.value.withLock { $0 = $0 ?? "line \(batch.broken[0]) is not a JSON object; nothing after the last checkpoint was sent from this batch" }
                            return
                        }
                        if !batch.rows.isEmpty, let error = await attempt(batch.rows) {
                            if !error.isRetryable && skipInvalid {
                                // Isolate the bad rows: send the batch row by row.
                                for (row, line) in zip(batch.rows, batch.lines) {
                                    guard let rowError = await attempt([row]) else { continue }
                                    if rowError.isRetryable {
                                        failure.value.withLock { $0 = $0 ?? "gave up on line \(line) after retries: \(rowError)" }
                                        return
                                    }
                                    skipped.append(line)
                                }
                            } else {
                                let first = batch.lines.first ?? 0, last = batch.lines.last ?? 0
                                let message = error.isRetryable
                                    ? "gave up on lines \(first)–\(last) after retries: \(error)"
                                    : "the service rejected the batch of lines \(first)–\(last): \(error). Fix those rows, or run again with skip_invalid_rows: true"
                                failure.value.withLock { $0 = $0 ?? message }
                                return
                            }
                        }
                        await tracker.acknowledge(batch, skippedLines: skipped.sorted())
                    }
                }
            }
        }
        let checkpoint = await tracker.current
        if let message = failure.value.withLock({ $0 }) {
            fail(id, message: message)
        } else {
            _ = try? store.database.transaction { connection in
                guard var current = try store.get(id, in: connection), !current.state.isTerminal else { return }
                current.state = isStopping(current) ? .cancelled : .succeeded
                current.providerStatus = current.state == .cancelled ? "Cancelled" : "Done"
                current.progressDone = checkpoint.done
                if checkpoint.skipped > 0 {
                    current.error = "skipped \(checkpoint.skipped) invalid row(s); first lines: \(checkpoint.skippedLines.map(String.init).joined(separator: ", "))"
                }
                current.ownerPID = nil
                current.updatedAt = Self.now
                try store.update(current, in: connection)
            }
        }
    }

    func isStopping(_ id: String) -> Bool {
        (try? store.get(id)).flatMap { $0 }.map(isStopping) ?? true
    }

    func isStopping(_ record: JobRecord) -> Bool { record.state == .cancelling || record.state == .cancelled }

    func saveCheckpoint(_ id: String, _ checkpoint: BulkCheckpoint) {
        _ = try? store.database.transaction { connection in
            guard var current = try store.get(id, in: connection), !current.state.isTerminal else { return }
            current.checkpoint = String(decoding: try JSONEncoder().encode(checkpoint), as: UTF8.self)
            current.progressDone = checkpoint.done
            current.updatedAt = Self.now
            try store.update(current, in: connection)
        }
    }
}

/// Rate limiters per collection queue, shared by every job of this process.
private let limiters = Mutex<[String: RowRateLimiter]>([:])

extension JobManager {
    func rateLimiter(_ key: String, rowsPerSecond: Double) -> RowRateLimiter {
        limiters.withLock { all in
            if let existing = all[key], existing.rowsPerSecond == rowsPerSecond { return existing }
            let limiter = RowRateLimiter(rowsPerSecond: rowsPerSecond)
            all[key] = limiter
            return limiter
        }
    }
}

/// The first failure of a bulk job's workers; the others stop when they see it.
final class FirstFailure: Sendable {
    let value = Mutex<String?>(nil)
}
