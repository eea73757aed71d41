import CSQLite
import Foundation
import WorkbenchCore

/// A failed SQLite call: the extended result code, SQLite's message and the statement.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    package var code: Int32
    package var message: String
    package var sql: String?
    /// The operating system's error behind an I/O failure (`sqlite3_system_errno`), 0 if none.
    package var systemError: Int32 = 0
    /// The store file, when known.
    package var path: String?

    package init(code: Int32, message: String, sql: String? = nil, systemError: Int32 = 0, path: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
        self.systemError = systemError
        self.path = path
    }

    /// A row that holds what no version of pwb writes.
    static func corrupt(_ message: String) -> StoreError { StoreError(code: SQLITE_CORRUPT, message: message) }

    package var description: String {
        if isFull {
            return
                "the store \(path ?? "") cannot grow: the disk (or a quota or file-size limit) is full; what was stored before is kept and sound; free some space, then run the command again (pwb eval --resume RUN finishes an interrupted evaluation)"
        }
        if code == SQLITE_CORRUPT && sql == nil {
            // A value pwb never writes, found by pwb reading it back: one row is damaged, not pwb.
            return
                "the store is damaged: \(message); pwb never writes that, so the file was changed outside pwb or by a failing disk; restore it from a backup (the other rows are readable)"
        }
        var text = "the store failed: \(message) (SQLite code \(code))"
        if let sql { text += " in: \(sql.prefix(200))" }
        return text
    }

    /// True when the store could not grow: SQLite found the disk full, or a write failed for want
    /// of room (no space, over a quota, past the file-size limit).
    package var isFull: Bool {
        code & 0xFF == SQLITE_FULL
            || (code & 0xFF == SQLITE_IOERR && [ENOSPC, EFBIG, EDQUOT].contains(systemError))
    }

    /// True when another process holds the database longer than the busy timeout.
    package var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }
}

extension StoreError: ExitCoded {
    package var exitCode: Int32 { ExitCode.storeFailure }

    package func sentence(wording: (Message) -> String) -> String {
        guard isBusy else { return description }
        return wording(
            "the store is locked by another pwb process; wait for it to finish, or use another \(setting: "db")")
    }
}

/// A value bound to, or read from, an SQL statement.
package enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral,
    ExpressibleByFloatLiteral
{
    package init(stringLiteral value: String) { self = .text(value) }
    package init(integerLiteral value: Int64) { self = .integer(value) }
    package init(nilLiteral: ()) { self = .null }
    package init(floatLiteral value: Double) { self = .real(value) }

    package init(_ value: Int) { self = .integer(Int64(value)) }
    package init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    package init(_ value: Double?) { self = value.map { .real($0) } ?? .null }
    package init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    package init(_ value: Bool) { self = .integer(value ? 1 : 0) }
}

/// SQLite's "copy the bytes now" destructor, defined once.
private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One connection to a SQLite file: the only owner of a `sqlite3` pointer in the project.
///
/// Not `Sendable`: a connection is used from one task at a time, as SQLite's own rules ask.
package final class Database {
    private let handle: OpaquePointer
    package let path: String
    private var statements: [String: Statement] = [:]

    /// Opens (creating when asked) the file at `path` with WAL, `synchronous=NORMAL`, foreign
    /// keys and a busy timeout, so a second process waits instead of failing at once. The
    /// timeout is long (five minutes) because a writer waiting is an eval whose answers would
    /// otherwise be lost to an import that happens to hold the lock a while.
    package init(path: String, create: Bool = true, busyTimeoutMilliseconds: Int32 = 300_000) throws {
        var pointer: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &pointer, flags, nil)
        guard let pointer else { throw StoreError(code: code, message: "cannot open \(path)") }
        guard code == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(pointer))
            sqlite3_close_v2(pointer)
            throw StoreError(code: code, message: "cannot open \(path): \(message)")
        }
        self.handle = pointer
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
        // Turning a new file to WAL takes an exclusive lock, and SQLite answers "busy" at once,
        // without its busy handler, when another process is doing the same: wait and ask again.
        let deadline = Date().addingTimeInterval(Double(busyTimeoutMilliseconds) / 1000)
        while true {
            do {
                try execute("PRAGMA journal_mode=WAL")
                break
            } catch let error as StoreError where error.isBusy && Date() < deadline {
                usleep(10_000)
            }
        }
        try execute("PRAGMA synchronous=NORMAL")
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that take no parameters.
    package func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(errorMessage)
            throw StoreError(
                code: code, message: message, sql: sql, systemError: systemError(handle), path: path)
        }
    }

    /// A prepared statement for `sql`, kept and reused for the life of the connection.
    package func statement(_ sql: String) throws -> Statement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        let statement = try Statement(database: self, handle: handle, sql: sql)
        statements[sql] = statement
        return statement
    }

    /// Runs `sql` with `values` bound and returns the number of rows it changed.
    @discardableResult
    package func run(_ sql: String, _ values: SQLValue...) throws -> Int {
        try statement(sql).run(values)
        return Int(sqlite3_changes(handle))
    }

    /// Runs a query and maps each row.
    package func query<T>(_ sql: String, _ values: SQLValue..., map: (Row) throws -> T) throws -> [T] {
        try statement(sql).query(values, map: map)
    }

    /// The first row of a query, mapped, or nil when there is none.
    package func queryFirst<T>(_ sql: String, _ values: SQLValue..., map: (Row) throws -> T) throws -> T? {
        try statement(sql).queryFirst(values, map: map)
    }

    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// `IMMEDIATE` takes the write lock up front, so two writers wait rather than deadlock.
    package func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }
}

/// A row of a query result, valid only inside the `map` closure that receives it.
package struct Row {
    fileprivate let handle: OpaquePointer

    package func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    package func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }

    package func optionalInt(_ column: Int32) -> Int? { isNull(column) ? nil : int(column) }

    package func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    package func optionalDouble(_ column: Int32) -> Double? { isNull(column) ? nil : double(column) }

    package func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    package func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    package func bool(_ column: Int32) -> Bool { int(column) != 0 }

    /// The index of the result column called `name` (queries name their columns with `AS`).
    package func column(_ name: String) throws -> Int32 {
        for index in 0..<sqlite3_column_count(handle) {
            if String(cString: sqlite3_column_name(handle, index)) == name { return index }
        }
        throw StoreError(code: SQLITE_ERROR, message: "the query has no column \(name)")
    }

    package func int(_ name: String) throws -> Int { int(try column(name)) }

    package func text(_ name: String) throws -> String { text(try column(name)) }

    package func optionalText(_ name: String) throws -> String? { optionalText(try column(name)) }
}

/// A prepared statement; finalized when released.
package final class Statement {
    private let handle: OpaquePointer
    private let databaseHandle: OpaquePointer
    package let sql: String

    fileprivate init(database: Database, handle databaseHandle: OpaquePointer, sql: String) throws {
        var pointer: OpaquePointer?
        let code = sqlite3_prepare_v3(databaseHandle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &pointer, nil)
        guard code == SQLITE_OK, let pointer else {
            throw StoreError(
                code: code, message: String(cString: sqlite3_errmsg(databaseHandle)), sql: sql)
        }
        self.handle = pointer
        self.databaseHandle = databaseHandle
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    fileprivate func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    private func bind(_ values: [SQLValue]) throws {
        sqlite3_reset(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(handle, index)
            case .integer(let v): code = sqlite3_bind_int64(handle, index, v)
            case .real(let v): code = sqlite3_bind_double(handle, index, v)
            case .text(let v):
                // An explicit length: a NUL inside the text (a model may send one) is kept, not an end.
                code = v.withCString { sqlite3_bind_text(handle, index, $0, Int32(v.utf8.count), SQLITE_TRANSIENT) }
            }
            guard code == SQLITE_OK else { throw failure(code) }
        }
    }

    private func failure(_ code: Int32) -> StoreError {
        StoreError(
            code: sqlite3_extended_errcode(databaseHandle), message: String(cString: sqlite3_errmsg(databaseHandle)),
            sql: sql, systemError: systemError(databaseHandle),
            path: sqlite3_db_filename(databaseHandle, "main").map { String(cString: $0) })
    }

    /// Runs the statement to completion with `values` bound.
    package func run(_ values: [SQLValue]) throws {
        try bind(values)
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            if code != SQLITE_ROW { throw failure(code) }
        }
    }

    package func query<T>(_ values: [SQLValue], map: (Row) throws -> T) throws -> [T] {
        try bind(values)
        defer { sqlite3_reset(handle) }
        var rows: [T] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw failure(code) }
            let row = Row(handle: handle)
            rows.append(try map(row))
        }
    }

    package func queryFirst<T>(_ values: [SQLValue], map: (Row) throws -> T) throws -> T? {
        try bind(values)
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        if code == SQLITE_DONE { return nil }
        guard code == SQLITE_ROW else { throw failure(code) }
        let row = Row(handle: handle)
        return try map(row)
    }
}

/// The operating system's error behind the connection's last I/O failure. SQLite's own
/// `sqlite3_system_errno` reads `errno` after the fact, when later calls may have cleared it;
/// each file keeps the error of its last failed call, so the write-ahead log (where a commit
/// writes) and the database file are asked too.
private func systemError(_ handle: OpaquePointer) -> Int32 {
    let reported = sqlite3_system_errno(handle)
    if reported != 0 { return reported }
    var journal: UnsafeMutablePointer<sqlite3_file>?
    if sqlite3_file_control(handle, "main", SQLITE_FCNTL_JOURNAL_POINTER, &journal) == SQLITE_OK, let journal,
        let control = journal.pointee.pMethods?.pointee.xFileControl
    {
        var value: Int32 = 0
        if control(journal, SQLITE_FCNTL_LAST_ERRNO, &value) == SQLITE_OK, value != 0 { return value }
    }
    var value: Int32 = 0
    if sqlite3_file_control(handle, "main", SQLITE_FCNTL_LAST_ERRNO, &value) == SQLITE_OK { return value }
    return 0
}
