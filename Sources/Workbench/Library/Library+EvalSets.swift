import Foundation
import WorkbenchCore
import WorkbenchStore

/// An eval set as the workbench uses it: its record and parsed settings.
package struct LoadedEvalSet: Sendable {
    package var record: EvalSetRecord
    package var settings: EvalSetSettings

    package var name: String { record.name }
}

extension Library {
    /// The eval set called `name`, or a usage error suggesting the nearest.
    package func evalset(named name: String) throws -> LoadedEvalSet {
        guard let record = try store.evalset(named: name) else {
            let names = try store.evalsets().map(\.name)
            let hint: Message = Suggest.nearest(to: name, in: names).map { "; did you mean \($0)?" } ?? ""
            let known: Message = names.isEmpty ? " (none is imported yet: run \(command: "import"))" : hint
            throw Refusal("there is no eval set \"\(name)\"\(known)")
        }
        return LoadedEvalSet(record: record, settings: try EvalSetSettings(parsing: record.settingsJSON))
    }
}

/// An eval set's cases written out as a file a user reads: JSON Lines, or CSV safe to open in a
/// spreadsheet.
package enum CaseExport {
    /// The cases of an eval set as a JSONL text, one case per line, as `pwb import` reads them.
    package static func jsonl(_ cases: [StoredCase]) -> String {
        var out = ""
        for stored in cases {
            let line: JSONValue = [
                "id": .string(stored.evalCase.id), "vars": .object(stored.evalCase.vars),
                "expected": stored.evalCase.expected, "split": .string(stored.evalCase.split.rawValue),
            ]
            var object = line.objectValue!
            if !stored.evalCase.tags.isEmpty { object["tags"] = .array(stored.evalCase.tags.map { .string($0) }) }
            out += JSONValue.object(object).serialized() + "\n"
        }
        return out
    }

    /// The cases as CSV: `id`, one column per variable, `expected`, `split`, `tags`.
    package static func csv(_ cases: [StoredCase]) -> String {
        let variables = Set(cases.flatMap(\.evalCase.vars.keys)).sorted()
        var rows = [["id"] + variables + ["expected", "split", "tags"]]
        for stored in cases {
            let c = stored.evalCase
            rows.append(
                [c.id] + variables.map { c.vars[$0]?.text ?? "" } + [
                    c.expected.text, c.split.rawValue, c.tags.joined(separator: ";"),
                ])
        }
        return rows.map { $0.map(csvQuoted).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    package static func csvQuoted(_ text: String) -> String {
        let text = formulaSafe(text)
        // By scalar, not Character: a comma or quote with a combining mark after it is one
        // Character to Swift, but a comma or quote to a spreadsheet. A byte-order mark is quoted
        // too: starting a line unquoted, the reader would take it for a file's.
        guard
            text.unicodeScalars.contains(where: {
                $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\u{FEFF}"
            })
        else { return text }
        var quoted = String.UnicodeScalarView(["\""])
        for scalar in text.unicodeScalars {
            quoted.append(scalar)
            if scalar == "\"" { quoted.append("\"") }
        }
        quoted.append("\"")
        return String(quoted)
    }

    /// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or carriage return
    /// first, and not a number) gets a leading `'`, as does one that already starts with `'` and
    /// one of those, so the import can take exactly one off again (`EvalSetParser.unprotected`).
    package static func formulaSafe(_ text: String) -> String {
        guard let first = text.unicodeScalars.first else { return text }
        if EvalSetParser.formulaStarts.contains(first) && Double(text) == nil { return "'" + text }
        if first == "'", let second = text.unicodeScalars.dropFirst().first,
            EvalSetParser.formulaStarts.contains(second) || second == "'"
        {
            return "'" + text
        }
        return text
    }
}
