/// Reads eval-set files: JSON Lines (one case per line) and CSV (a header, then one case per row).
/// Errors name the line and the field; the caller adds the file.
package enum EvalSetParser {
    package static let caseKeys = ["id", "vars", "expected", "split", "tags"]

    /// Parses JSON Lines: `{"id": …, "vars": {…}, "expected": …, "split": "dev", "tags": […]}`.
    /// Blank lines are skipped; `id`, `split` and `tags` are optional.
    package static func parseJSONL(_ text: String) throws -> [EvalCase] {
        var cases: [EvalCase] = []
        var collector = DuplicateCheck()
        var copy = text
        try copy.withUTF8 { bytes in
            var lineStart = 0
            var lineNumber = 1
            while lineStart <= bytes.count {
                var lineEnd = lineStart
                while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
                var contentEnd = lineEnd
                if contentEnd > lineStart && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                // A byte-order mark starting a line (files saved with one, then put together)
                // marks the encoding, as at the start of the file; it is not part of the case.
                var contentStart = lineStart
                if contentEnd - lineStart >= 3 && bytes[lineStart] == 0xEF && bytes[lineStart + 1] == 0xBB
                    && bytes[lineStart + 2] == 0xBF
                {
                    contentStart += 3
                }
                let line = UnsafeBufferPointer(rebasing: bytes[contentStart..<contentEnd])
                if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    var parser = JSONParser(bytes: line)
                    let value: JSONValue
                    do {
                        value = try parser.parseDocument()
                    } catch {
                        throw InputError(line: lineNumber, "is not JSON: \(error)")
                    }
                    let evalCase = try makeCase(value, line: lineNumber)
                    try collector.check(evalCase)
                    cases.append(evalCase)
                }
                lineStart = lineEnd + 1
                lineNumber += 1
            }
        }
        guard !cases.isEmpty else { throw InputError("has no cases") }
        return cases
    }

    static func makeCase(_ value: JSONValue, line: Int) throws -> EvalCase {
        guard case .object(let fields) = value else {
            throw InputError(line: line, "a case must be a JSON object, found \(value.kindName)")
        }
        for key in fields.keys where !caseKeys.contains(key) {
            let hint = Suggest.nearest(to: key, in: caseKeys).map { "did you mean \"\($0)\"? " } ?? ""
            throw InputError(
                line: line, field: key, "is not a case field; \(hint)a case has \(caseKeys.joined(separator: ", "))")
        }
        guard case .object(let vars)? = fields["vars"] else {
            if let other = fields["vars"] {
                throw InputError(line: line, field: "vars", "must be an object of variables, found \(other.kindName)")
            }
            throw InputError(line: line, field: "vars", "is missing; a case needs \"vars\": {\"name\": \"value\", …}")
        }
        for (name, value) in vars {
            switch value {
            case .string, .number, .bool: continue
            default:
                throw InputError(
                    line: line, field: "vars.\(name)", "must be text, a number or a boolean, found \(value.kindName)")
            }
        }
        guard let expected = fields["expected"], expected != .null else {
            throw InputError(line: line, field: "expected", "is missing; every case needs the answer it expects")
        }
        let id: String?
        switch fields["id"] {
        case nil: id = nil
        case .string(let s)?:
            guard !s.isEmpty, !s.contains(where: { $0.isWhitespace }) else {
                throw InputError(line: line, field: "id", "must be non-empty text without spaces")
            }
            // An id is typed (--case ID) and shown: an invisible character would make it neither.
            if let hidden = s.unicodeScalars.first(where: {
                $0.properties.generalCategory == .control || $0.properties.generalCategory == .format
            }) {
                throw InputError(
                    line: line, field: "id",
                    "contains U+\(String(hidden.value, radix: 16, uppercase: true)), an invisible character; remove it")
            }
            id = s
        case .number(let n)? where n.rounded() == n: id = JSONValue.format(n)
        case let other?:
            throw InputError(line: line, field: "id", "must be text or a whole number, found \(other.kindName)")
        }
        let split: Split?
        switch fields["split"] {
        case nil: split = nil
        case .string(let s)?:
            guard let parsed = Split(rawValue: s) else {
                throw InputError(line: line, field: "split", "is \"\(s)\"; use train, dev or test")
            }
            split = parsed
        case let other?:
            throw InputError(line: line, field: "split", "must be train, dev or test, found \(other.kindName)")
        }
        var tags: [String] = []
        if let rawTags = fields["tags"] {
            guard case .array(let items) = rawTags, items.allSatisfy({ $0.stringValue != nil }) else {
                throw InputError(line: line, field: "tags", "must be a list of texts")
            }
            tags = items.compactMap(\.stringValue)
        }
        let hash = EvalCase.contentHash(vars: vars, expected: expected)
        return EvalCase(
            id: id ?? "h" + hash.prefix(10), vars: vars, expected: expected,
            split: split ?? Split.assigned(contentHash: hash), tags: tags, line: line)
    }

    /// Parses CSV (RFC 4180: quoted fields may hold commas, quotes and line breaks). The header
    /// names the columns: `expected` is required; `id`, `split` and `tags` (separated by `;`) are
    /// optional; every other column is a variable.
    package static func parseCSV(_ text: String) throws -> [EvalCase] {
        let records = try CSV.parse(text)
        guard let header = records.first else { throw InputError("has no header row") }
        let names = header.fields.map { $0.trimmingWhitespace() }
        guard names.contains("expected") else {
            throw InputError(line: 1, field: "expected", "the header has no \"expected\" column")
        }
        var seenNames = Set<String>()
        for name in names {
            if name.isEmpty { throw InputError(line: 1, "a header column has no name") }
            if !seenNames.insert(name).inserted { throw InputError(line: 1, field: name, "the column appears twice") }
        }
        var cases: [EvalCase] = []
        var collector = DuplicateCheck()
        for record in records.dropFirst() {
            if record.fields.count == 1 && record.fields[0].isEmpty { continue }
            guard record.fields.count == names.count else {
                throw InputError(
                    line: record.line, "has \(record.fields.count) fields; the header has \(names.count)")
            }
            var fields: [String: JSONValue] = [:]
            var vars: [String: JSONValue] = [:]
            for (index, name) in names.enumerated() {
                let value = unprotected(record.fields[index])
                switch name {
                case "id": if !value.isEmpty { fields["id"] = .string(value) }
                case "split": if !value.isEmpty { fields["split"] = .string(value) }
                case "tags":
                    let tags = value.split(separator: ";").map { JSONValue.string($0.trimmingWhitespace()) }
                    fields["tags"] = .array(tags)
                case "expected":
                    if !value.isEmpty { fields["expected"] = csvExpected(value) }
                default: vars[name] = .string(value)
                }
            }
            fields["vars"] = .object(vars)
            let evalCase = try makeCase(.object(fields), line: record.line)
            try collector.check(evalCase)
            cases.append(evalCase)
        }
        guard !cases.isEmpty else { throw InputError("has a header but no cases") }
        return cases
    }

    /// The first characters that make a spreadsheet run a cell as a formula.
    package static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// A cell with the `'` that a CSV export puts before a formula-like value taken off again.
    static func unprotected(_ value: String) -> String {
        let scalars = value.unicodeScalars
        guard scalars.first == "'", let second = scalars.dropFirst().first,
            formulaStarts.contains(second) || second == "'"
        else { return value }
        return String(value.dropFirst())
    }

    /// An expected value written as JSON (an object or a list) is taken as JSON; anything else as text.
    private static func csvExpected(_ value: String) -> JSONValue {
        if value.hasPrefix("{") || value.hasPrefix("["), let parsed = try? JSONValue(parsing: value) {
            return parsed
        }
        return .string(value)
    }

    /// Rejects a second case with an id already seen, naming both lines.
    struct DuplicateCheck {
        var lines: [String: Int] = [:]

        mutating func check(_ evalCase: EvalCase) throws {
            if let first = lines[evalCase.id] {
                if evalCase.id.hasPrefix("h"), evalCase.id.count == 11 {
                    throw InputError(
                        line: evalCase.line,
                        "repeats the case on line \(first) (same vars and expected); remove it or give each an id")
                }
                throw InputError(
                    line: evalCase.line, field: "id",
                    "\"\(evalCase.id)\" is already used on line \(first); ids must be unique")
            }
            lines[evalCase.id] = evalCase.line
        }
    }
}

/// A minimal RFC 4180 reader that remembers on which line each record starts.
package enum CSV {
    package struct Record: Sendable {
        package var fields: [String]
        package var line: Int
    }

    /// Reads by Unicode scalar, as a spreadsheet does by byte: a comma or quote followed by a
    /// combining mark is one Character to Swift but still a comma or quote in the file.
    package static func parse(_ text: String) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var quoteLine = 1
        var atFieldStart = true
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending {
                pending = nil
                return p
            }
            return iterator.next()
        }
        func endRecord() {
            fields.append(String(field))
            records.append(Record(fields: fields, line: recordLine))
            fields = []
            field = String.UnicodeScalarView()
            atFieldStart = true
            line += 1
            recordLine = line
        }
        while let c = next() {
            // A byte-order mark starting a record (files saved with one, then put together)
            // marks the encoding, as at the start of the file; it is not part of the case.
            if c == "\u{FEFF}" && !inQuotes && fields.isEmpty && field.isEmpty && atFieldStart { continue }
            if inQuotes {
                if c == "\"" {
                    if let following = next() {
                        if following == "\"" {
                            field.append("\"")
                        } else {
                            inQuotes = false
                            pending = following
                        }
                    } else {
                        inQuotes = false
                    }
                } else {
                    // A line break inside quotes is kept; "\r\n" counts as one line.
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where atFieldStart:
                inQuotes = true
                quoteLine = line
                atFieldStart = false
            case "\"":
                throw InputError(
                    line: line, "a quote inside an unquoted field; quote the whole field and double the quote")
            case ",":
                fields.append(String(field))
                field = String.UnicodeScalarView()
                atFieldStart = true
            case "\r":
                if let following = next(), following != "\n" { pending = following }
                endRecord()
            case "\n":
                endRecord()
            default:
                field.append(c)
                atFieldStart = false
            }
        }
        if inQuotes { throw InputError(line: quoteLine, "a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty {
            fields.append(String(field))
            records.append(Record(fields: fields, line: recordLine))
        }
        return records
    }
}
