import Foundation

/// An MCP task as stored: which job backs it, and what the tool call that made it returned.
public struct TaskRecord: Sendable {
    public var id: String
    public var jobID: String?
    public var tool: String
    public var createdAt: Double
    public var ttlMs: Int64?
    public var pollMs: Int64
    /// The structured content of the tool call that started the job (no secrets: job handles hold none).
    public var initialResult: String?
    /// Why the tool call failed, when it did before any job existed.
    public var failure: String?
    public var cancelled: Bool

    public init(id: String, jobID: String?, tool: String, createdAt: Double, ttlMs: Int64?, pollMs: Int64,
                initialResult: String?, failure: String?) {
        self.id = id
        self.jobID = jobID
        self.tool = tool
        self.createdAt = createdAt
        self.ttlMs = ttlMs
        self.pollMs = pollMs
        self.initialResult = initialResult
        self.failure = failure
        self.cancelled = false
    }

    public var isExpired: Bool {
        guard let ttlMs else { return false }
        return Date().timeIntervalSince1970 > createdAt + Double(ttlMs) / 1000
    }
}

extension JobStore {
    func createTaskTable() throws {
        try database.execute("""
            CREATE TABLE IF NOT EXISTS tasks (
                id TEXT PRIMARY KEY, job_id TEXT, tool TEXT NOT NULL, created_at REAL NOT NULL, ttl_ms INTEGER,
                poll_ms INTEGER NOT NULL, initial_result TEXT, failure TEXT, cancelled INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX IF NOT EXISTS tasks_created ON tasks(created_at);
            """)
    }

    public func insertTask(_ task: TaskRecord) throws {
        try database.execute("""
            INSERT INTO tasks (id, job_id, tool, created_at, ttl_ms, poll_ms, initial_result, failure, cancelled)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(task.id), SQLValue(task.jobID), .text(task.tool), .double(task.createdAt), SQLValue(task.ttlMs),
                  .int(task.pollMs), SQLValue(task.initialResult), SQLValue(task.failure), .int(task.cancelled ? 1 : 0)])
    }

    static func taskRecord(_ row: Row) -> TaskRecord {
        var task = TaskRecord(id: row["id"].string!, jobID: row["job_id"].string, tool: row["tool"].string!,
                              createdAt: row["created_at"].double!, ttlMs: row["ttl_ms"].int, pollMs: row["poll_ms"].int ?? 1000,
                              initialResult: row["initial_result"].string, failure: row["failure"].string)
        task.cancelled = row["cancelled"].int == 1
        return task
    }

    public func task(_ id: String) throws -> TaskRecord? {
        try database.query("SELECT * FROM tasks WHERE id = ?", [.text(id)]).first.map(Self.taskRecord)
    }

    public func markTaskCancelled(_ id: String) throws {
        try database.execute("UPDATE tasks SET cancelled = 1 WHERE id = ?", [.text(id)])
    }

    /// Tasks newest first, skipping `offset`.
    public func tasks(limit: Int, offset: Int) throws -> [TaskRecord] {
        try database.query("SELECT * FROM tasks ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                           [.int(Int64(limit)), .int(Int64(offset))]).map(Self.taskRecord)
    }
}
