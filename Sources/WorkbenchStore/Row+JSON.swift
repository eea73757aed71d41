import WorkbenchCore

/// Columns pwb writes as JSON. Reading one back that is not JSON means the file was changed
/// outside pwb (or by a failing disk): that is the store's failure, named by row and column,
/// not a bug in pwb.
extension Row {
    /// A column pwb wrote as JSON, read back; a value that is not JSON is `StoreError.corrupt`
    /// naming `row` (`run 3`) and `name`, the column.
    func json(_ column: Int32, _ name: String, of row: @autoclosure () throws -> String) throws -> JSONValue {
        do {
            return try JSONValue(parsing: text(column))
        } catch {
            throw StoreError.corrupt("\(try row())'s \(name) is not JSON (\(error))")
        }
    }

    func optionalJSON(_ column: Int32, _ name: String, of row: @autoclosure () throws -> String) throws
        -> JSONValue?
    {
        isNull(column) ? nil : try json(column, name, of: try row())
    }

    func json(_ name: String, of row: @autoclosure () throws -> String) throws -> JSONValue {
        try json(try column(name), name, of: try row())
    }

    func optionalJSON(_ name: String, of row: @autoclosure () throws -> String) throws -> JSONValue? {
        try optionalJSON(try column(name), name, of: try row())
    }
}
