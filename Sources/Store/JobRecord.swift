import Foundation

/// A job's normalized state. `cancelling` sits between a cancel request and the provider's confirmation.
public enum JobState: String, Sendable, CaseIterable, Codable {
    case queued, running, cancelling, succeeded, failed, cancelled

    public var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// One job handle as stored. It never holds a secret: credentials and namespace passwords are looked up from the
/// profile whenever the job is worked on.
public struct JobRecord: Sendable, Equatable {
    public var id: String
    public var profile: String
    public var provider: String
    public var kind: String
    /// The serial queue this job belongs to: uploads with the same key run one after another.
    public var queueKey: String
    public var collection: String
    public var namespace: String?
    public var remoteJobID: String?
    /// Where the data comes from: `{"file_path": …}` or `{"file_url": …}`, as JSON text.
    public var source: String
    /// Non-secret parameters needed to (re)submit the job, as JSON text.
    public var parameters: String
    public var state: JobState
    public var providerStatus: String?
    public var progressDone: Int64
    public var progressTotal: Int64?
    public var progressUnit: String
    public var error: String?
    public var checkpoint: String?
    public var ownerPID: Int32?
    public var claimedAt: Double?
    public var deadline: Double?
    public var lastPolledAt: Double?
    public var createdAt: Double
    public var updatedAt: Double

    public init(id: String, profile: String, provider: String, kind: String, queueKey: String, collection: String,
                namespace: String?, source: String, parameters: String, progressUnit: String, now: Double) {
        self.id = id
        self.profile = profile
        self.provider = provider
        self.kind = kind
        self.queueKey = queueKey
        self.collection = collection
        self.namespace = namespace
        self.source = source
        self.parameters = parameters
        self.state = .queued
        self.progressDone = 0
        self.progressUnit = progressUnit
        self.createdAt = now
        self.updatedAt = now
    }
}
