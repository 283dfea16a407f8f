import AnalyticDB
import Foundation
import JSON
import Profiles
import Store

/// AnalyticDB vector upload jobs: the provider's job ids, and what its answers mean for a handle.
extension JobManager {
    static func state(forProviderStatus status: String) -> JobState {
        switch status {
        case "Success": return .succeeded
        case "Failed": return .failed
        case "Cancelled": return .cancelled
        case "Cancelling": return .cancelling
        default: return .running
        }
    }

    func apply(_ remote: AnalyticDBClient.UpsertJob, to id: String) -> JobRecord {
        let updated = try? store.database.transaction { connection -> JobRecord? in
            guard var record = try store.get(id, in: connection) else { return nil }
            guard !record.state.isTerminal else { return record }
            record.providerStatus = remote.status
            record.progressDone = max(record.progressDone, remote.progress)
            record.error = remote.error
            record.lastPolledAt = Self.now
            record.updatedAt = Self.now
            let next = Self.state(forProviderStatus: remote.status)
            if next == .running && record.state == .cancelling {
                // A cancel is on its way; keep saying so until the provider confirms or the job ends.
            } else {
                record.state = next
            }
            if record.state == .succeeded, let total = record.progressTotal { record.progressDone = max(record.progressDone, total) }
            if !record.state.isTerminal, let deadline = record.deadline, Self.now > deadline {
                record.state = .failed
                record.error = "no result by the deadline the provider's advice sets (rows / 1,000 per second + 30 minutes); the provider reported \(remote.status)"
            }
            try store.update(record, in: connection)
            return record
        }
        return (updated ?? nil) ?? ((try? store.get(id)) ?? nil)!
    }

    // MARK: Jobs known by their provider id

    /// The handle for a provider job id, made on first sight (a job started elsewhere can then be waited on too).
    public func adopt(profile: Profile, collection: String, namespace: String?, remoteJobID: String, kind: String = JobManager.upsertKind) throws(JobError) -> JobRecord {
        do {
            if let known = try store.find(profile: profile.name, remoteJobID: remoteJobID, kind: kind) { return known }
            var record = JobRecord(id: JobID.make(), profile: profile.name, provider: profile.provider.rawValue, kind: kind,
                                   queueKey: Self.queueKey(profile: profile, namespace: namespace, collection: collection),
                                   collection: collection, namespace: namespace, source: (["adopted": true] as JSON).serialized(),
                                   parameters: "{}", progressUnit: kind == Self.documentKind ? "percent" : "rows", now: Self.now)
            if kind == Self.documentKind { record.progressTotal = 100; record.queueKey = "document|\(record.id)" }
            record.remoteJobID = remoteJobID
            record.state = .running
            record.providerStatus = "Unknown"
            record.deadline = Self.now + 1800
            try store.insert(record)
            return record
        } catch let error as JobError {
            throw error
        } catch {
            throw JobError("cannot record the job: \(error)")
        }
    }

    /// Asks the provider about the job now and returns the handle with the provider's own answer.
    public func fetchRemote(_ id: String, password: String?) async throws(JobError) -> (JobRecord, JSON) {
        if let password { callPasswords.withLock { $0[id] = password } }
        let record = try get(id)
        guard let remoteID = record.remoteJobID else { return (record, .null) }
        let client = try client(for: record)
        let target = try target(record)
        do {
            if record.kind == Self.documentKind {
                let remote = try await client.getUploadDocumentJob(target, jobID: remoteID)
                return (apply(document: remote, to: id), remote.raw)
            }
            let remote = try await client.getUpsertCollectionDataJob(target, jobID: remoteID)
            return (apply(remote, to: id), remote.raw["Job"] ?? .null)
        } catch {
            throw JobError(error.description, record: record)
        }
    }

    /// Registers a namespace password given in a call for the life of this process (it is never stored).
    public func rememberPassword(_ password: String?, for id: String) {
        if let password { callPasswords.withLock { $0[id] = password } }
    }

}
