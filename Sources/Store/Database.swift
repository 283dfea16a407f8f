internal import CSQLite
import Foundation
import Synchronization

/// A value bound to or read from SQLite.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])

    public var string: String? { if case .text(let s) = self { return s } else { return nil } }
    public var int: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int64(d)
        default: return nil
        }
    }
    public var double: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }
    public var blob: [UInt8]? { if case .blob(let b) = self { return b } else { return nil } }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(_ s: String?) { self = s.map(SQLValue.text) ?? .null }
    public init(_ i: Int64?) { self = i.map(SQLValue.int) ?? .null }
    public init(_ i: Int?) { self = i.map { .int(Int64($0)) } ?? .null }
    public init(_ d: Double?) { self = d.map(SQLValue.double) ?? .null }
}

/// One result row, by column name.
public struct Row: Sendable {
    let columns: [String: Int]
    let values: [SQLValue]

    public subscript(_ name: String) -> SQLValue { columns[name].map { values[$0] } ?? .null }
    public subscript(_ index: Int) -> SQLValue { values[index] }
}

public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public var description: String { "SQLite error \(code): \(message)" }
}

/// A SQLite connection shared by the process: every use holds its lock, so statements never interleave.
/// Several processes may open the same file (WAL mode; writers wait up to `busyTimeout`).
public final class Database: Sendable {
    private let connection: Mutex<Connection>
    public let path: String

    public init(path: String, busyTimeout: Duration = .seconds(15)) throws {
        self.path = path
        connection = Mutex(try Connection(path: path, busyTimeoutMs: Int32(busyTimeout.components.seconds * 1000)))
    }

    /// Runs `body` with the connection to itself.
    public func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        try connection.withLock { try body($0) }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT` (rolled back if it throws): a write lock across processes.
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try connection.withLock { connection in
            try connection.execute("BEGIN IMMEDIATE")
            do {
                let result = try body(connection)
                try connection.execute("COMMIT")
                return result
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }

    public func execute(_ sql: String, _ parameters: [SQLValue] = []) throws {
        try withConnection { try $0.execute(sql, parameters) }
    }

    public func query(_ sql: String, _ parameters: [SQLValue] = []) throws -> [Row] {
        try withConnection { try $0.query(sql, parameters) }
    }
}

/// The raw connection. Only `Database` hands it out, under its lock.
public final class Connection: @unchecked Sendable {
    private let db: OpaquePointer
    private let statements: StatementCache

    init(path: String, busyTimeoutMs: Int32) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let handle { sqlite3_close(handle) }
            throw DatabaseError(code: rc, message: "\(message) (\(path))")
        }
        db = handle
        statements = StatementCache()
        _ = CSQLite_busy_timeout(db, busyTimeoutMs)
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=NORMAL")
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        statements.finalizeAll()
        sqlite3_close_v2(db)
    }

    private func error(_ rc: Int32) -> DatabaseError {
        DatabaseError(code: rc, message: String(cString: sqlite3_errmsg(db)))
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        if let cached = statements.take(sql) { return cached }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc) }
        return statement
    }

    private func bind(_ statement: OpaquePointer, _ parameters: [SQLValue]) throws {
        for (i, value) in parameters.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .int(let v): rc = sqlite3_bind_int64(statement, index, v)
            case .double(let v): rc = sqlite3_bind_double(statement, index, v)
            case .text(let v): rc = sqlite3_bind_text(statement, index, v, -1, CSQLite_transient())
            case .blob(let v):
                rc = v.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), CSQLite_transient()) }
            }
            guard rc == SQLITE_OK else { throw error(rc) }
        }
    }

    /// Runs a statement (or several, when there are no parameters).
    public func execute(_ sql: String, _ parameters: [SQLValue] = []) throws {
        if parameters.isEmpty && sql.contains(";") {
            var message: UnsafeMutablePointer<CChar>?
            let rc = sqlite3_exec(db, sql, nil, nil, &message)
            if rc != SQLITE_OK {
                let text = message.map { String(cString: $0) } ?? "error"
                sqlite3_free(message)
                throw DatabaseError(code: rc, message: text)
            }
            return
        }
        _ = try query(sql, parameters)
    }

    public func query(_ sql: String, _ parameters: [SQLValue] = []) throws -> [Row] {
        let statement = try prepare(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
            statements.put(sql, statement)
        }
        try bind(statement, parameters)
        var rows: [Row] = []
        var columns: [String: Int]?
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(rc) }
            let count = sqlite3_column_count(statement)
            if columns == nil {
                var map: [String: Int] = [:]
                for i in 0..<count { map[String(cString: sqlite3_column_name(statement, i))] = Int(i) }
                columns = map
            }
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for i in 0..<count {
                switch sqlite3_column_type(statement, i) {
                case SQLITE_INTEGER: values.append(.int(sqlite3_column_int64(statement, i)))
                case SQLITE_FLOAT: values.append(.double(sqlite3_column_double(statement, i)))
                case SQLITE_TEXT: values.append(.text(String(cString: sqlite3_column_text(statement, i))))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(statement, i))
                    let p = sqlite3_column_blob(statement, i)
                    values.append(.blob(n == 0 ? [] : Array(UnsafeRawBufferPointer(start: p, count: n))))
                default: values.append(.null)
                }
            }
            rows.append(Row(columns: columns!, values: values))
        }
        return rows
    }

    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(db)) }
}

/// Prepared statements kept for reuse, by SQL text.
private final class StatementCache: @unchecked Sendable {
    private var cache: [String: OpaquePointer] = [:]
    func take(_ sql: String) -> OpaquePointer? { cache.removeValue(forKey: sql) }
    func put(_ sql: String, _ statement: OpaquePointer) {
        if cache.count < 200 { cache[sql] = statement } else { sqlite3_finalize(statement) }
    }
    func finalizeAll() {
        for statement in cache.values { sqlite3_finalize(statement) }
        cache.removeAll()
    }
}
