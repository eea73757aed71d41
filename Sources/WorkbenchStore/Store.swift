import WorkbenchCore

/// The workbench's SQLite file: opening it migrates an older schema and refuses a newer one.
package final class Store {
    package let database: Database

    /// Opens (creating) the store at `path` and brings its schema up to date.
    package init(path: String) throws {
        database = try Database(path: path)
        try migrate()
    }

    /// The schema version this build of `pwb` writes.
    package static var schemaVersion: Int { Schema.latestVersion }

    /// The schema version of the open file.
    package func userVersion() throws -> Int {
        try database.queryFirst("PRAGMA user_version") { $0.int(0) } ?? 0
    }

    private func migrate() throws {
        let seen = try userVersion()
        if seen > Schema.latestVersion {
            throw StoreVersionError(path: database.path, found: seen, known: Schema.latestVersion)
        }
        guard seen < Schema.latestVersion else { return }
        try database.transaction {
            // Read again under the write lock: another process opening the same new file may
            // have migrated it between the first look and this transaction.
            let current = try userVersion()
            if current > Schema.latestVersion {
                throw StoreVersionError(path: database.path, found: current, known: Schema.latestVersion)
            }
            for version in current..<Schema.latestVersion {
                try database.execute(Schema.migrations[version])
            }
            try database.execute("PRAGMA user_version = \(Schema.latestVersion)")
        }
    }

    /// Runs `body` in one transaction: all of it is stored, or none of it.
    package func transaction<T>(_ body: () throws -> T) throws -> T {
        try database.transaction(body)
    }
}

/// The file was written by a newer `pwb` whose schema this one does not know.
package struct StoreVersionError: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var found: Int
    package var known: Int

    package var description: String {
        "\(path) was written by a newer pwb (schema version \(found); this pwb knows up to \(known)); "
            + "upgrade pwb, or choose another store with --db PATH"
    }
}

extension StoreVersionError: ExitCoded {
    package var exitCode: Int32 { ExitCode.badInput }
}
