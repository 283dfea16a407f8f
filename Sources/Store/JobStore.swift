import Foundation

/// Job handles in SQLite (`jobs.sqlite` in the state directory), shared by every process on that directory.
public final class JobStore: Sendable {
    public let database: Database

    public init(path: String) throws {
        database = try Database(path: path)
        try database.execute("""
            CREATE TABLE IF NOT EXISTS jobs (
                id TEXT PRIMARY KEY,
                profile TEXT NOT NULL,
                provider TEXT NOT NULL,
                kind TEXT NOT NULL,
                queue_key TEXT NOT NULL,
                collection TEXT NOT NULL,
                namespace TEXT,
                remote_job_id TEXT,
                source TEXT NOT NULL,
                parameters TEXT NOT NULL,
                state TEXT NOT NULL,
                provider_status TEXT,
                progress_done INTEGER NOT NULL DEFAULT 0,
                progress_total INTEGER,
                progress_unit TEXT NOT NULL,
                error TEXT,
                checkpoint TEXT,
                owner_pid INTEGER,
                claimed_at REAL,
                deadline REAL,
                last_polled_at REAL,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL
            );
            CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(queue_key, state, created_at);
            CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at);
            CREATE INDEX IF NOT EXISTS jobs_remote ON jobs(profile, remote_job_id);
            """)
        try createTaskTable()
    }

    static let columns = """
        id, profile, provider, kind, queue_key, collection, namespace, remote_job_id, source, parameters, state,
        provider_status, progress_done, progress_total, progress_unit, error, checkpoint, owner_pid, claimed_at,
        deadline, last_polled_at, created_at, updated_at
        """

    static func values(_ r: JobRecord) -> [SQLValue] {
        [.text(r.id), .text(r.profile), .text(r.provider), .text(r.kind), .text(r.queueKey), .text(r.collection),
         SQLValue(r.namespace), SQLValue(r.remoteJobID), .text(r.source), .text(r.parameters), .text(r.state.rawValue),
         SQLValue(r.providerStatus), .int(r.progressDone), SQLValue(r.progressTotal), .text(r.progressUnit),
         SQLValue(r.error), SQLValue(r.checkpoint), SQLValue(r.ownerPID.map(Int64.init)), SQLValue(r.claimedAt),
         SQLValue(r.deadline), SQLValue(r.lastPolledAt), .double(r.createdAt), .double(r.updatedAt)]
    }

    static func record(_ row: Row) -> JobRecord {
        var r = JobRecord(id: row["id"].string!, profile: row["profile"].string!, provider: row["provider"].string!,
                          kind: row["kind"].string!, queueKey: row["queue_key"].string!,
                          collection: row["collection"].string!, namespace: row["namespace"].string,
                          source: row["source"].string!, parameters: row["parameters"].string!,
                          progressUnit: row["progress_unit"].string!, now: row["created_at"].double!)
        r.remoteJobID = row["remote_job_id"].string
        r.state = JobState(rawValue: row["state"].string!) ?? .failed
        r.providerStatus = row["provider_status"].string
        r.progressDone = row["progress_done"].int ?? 0
        r.progressTotal = row["progress_total"].int
        r.error = row["error"].string
        r.checkpoint = row["checkpoint"].string
        r.ownerPID = row["owner_pid"].int.map { Int32($0) }
        r.claimedAt = row["claimed_at"].double
        r.deadline = row["deadline"].double
        r.lastPolledAt = row["last_polled_at"].double
        r.updatedAt = row["updated_at"].double!
        return r
    }

    public func insert(_ record: JobRecord, in connection: Connection? = nil) throws {
        let sql = "INSERT INTO jobs (\(Self.columns)) VALUES (\(Array(repeating: "?", count: 23).joined(separator: ",")))"
        if let connection { try connection.execute(sql, Self.values(record)) } else { try database.execute(sql, Self.values(record)) }
    }

    /// Writes every field of `record` back.
    public func update(_ record: JobRecord, in connection: Connection? = nil) throws {
        let assignments = Self.columns.split(separator: ",").dropFirst()
            .map { "\($0.trimmingCharacters(in: .whitespacesAndNewlines)) = ?" }.joined(separator: ", ")
        let values = Array(Self.values(record).dropFirst()) + [.text(record.id)]
        let sql = "UPDATE jobs SET \(assignments) WHERE id = ?"
        if let connection { try connection.execute(sql, values) } else { try database.execute(sql, values) }
    }

    public func get(_ id: String, in connection: Connection? = nil) throws -> JobRecord? {
        let sql = "SELECT * FROM jobs WHERE id = ?"
        let rows = try connection.map { try $0.query(sql, [.text(id)]) } ?? database.query(sql, [.text(id)])
        return rows.first.map(Self.record)
    }

    public func find(profile: String, remoteJobID: String, kind: String) throws -> JobRecord? {
        try database.query("SELECT * FROM jobs WHERE profile = ? AND remote_job_id = ? AND kind = ? ORDER BY created_at LIMIT 1",
                           [.text(profile), .text(remoteJobID), .text(kind)]).first.map(Self.record)
    }

    /// Jobs that are not finished, oldest first.
    public func active() throws -> [JobRecord] {
        try database.query("SELECT * FROM jobs WHERE state IN ('queued','running','cancelling') ORDER BY created_at, id")
            .map(Self.record)
    }

    /// The unfinished jobs of one queue, oldest first.
    public func activeInQueue(_ key: String, in connection: Connection) throws -> [JobRecord] {
        try connection.query("""
            SELECT * FROM jobs WHERE queue_key = ? AND state IN ('queued','running','cancelling')
            ORDER BY created_at, id
            """, [.text(key)]).map(Self.record)
    }

    public struct Filter: Sendable {
        public var states: [JobState] = []
        public var profile: String?
        public var provider: String?
        public var collection: String?
        public var kind: String?
        public init() {}
    }

    /// A page of jobs, newest first. `after` is the (created_at, id) of the last job of the previous page.
    public func list(_ filter: Filter, limit: Int, after: (Double, String)?) throws -> [JobRecord] {
        var clauses: [String] = []
        var values: [SQLValue] = []
        if !filter.states.isEmpty {
            clauses.append("state IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
            values += filter.states.map { .text($0.rawValue) }
        }
        for (column, value) in [("profile", filter.profile), ("provider", filter.provider),
                                ("collection", filter.collection), ("kind", filter.kind)] {
            if let value { clauses.append("\(column) = ?"); values.append(.text(value)) }
        }
        if let after {
            clauses.append("(created_at < ? OR (created_at = ? AND id < ?))")
            values += [.double(after.0), .double(after.0), .text(after.1)]
        }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        return try database.query("SELECT * FROM jobs \(whereClause) ORDER BY created_at DESC, id DESC LIMIT ?",
                                   values + [.int(Int64(limit))]).map(Self.record)
    }
}
