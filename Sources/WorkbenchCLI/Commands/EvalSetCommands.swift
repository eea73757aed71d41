import Foundation
import Workbench
import WorkbenchCore
import WorkbenchStore

/// `pwb evalset list|show|export`.
@MainActor
enum EvalSetCommands {
    static var all: [Command] { [list, show, export] }

    /// `evalset show`'s and `evalset export`'s.
    nonisolated static let split = OptionKey<Split>.choice(
        "split", placeholder: "SPLIT", "only cases of this split: train, dev or test")

    struct ShowOptions: CommandOptions {
        let split = EvalSetCommands.split
        let limit = OptionKey<Int>.number(
            "limit", "N", in: 0...Options.caseCountRange.upperBound, "show at most N cases (default 20; 0 for all)")
        let json = Options.json
    }

    /// The formats `evalset export` writes.
    enum ExportFormat: String, CaseIterable, Sendable {
        case jsonl, csv
    }

    struct ExportOptions: CommandOptions {
        let split = EvalSetCommands.split
        let format = OptionKey<ExportFormat>.choice("format", "the file format (default jsonl)")
        let out = Options.out
    }

    static let list = Command(
        "evalset list", "list eval sets with their split sizes and scorers", options: JSONOptions.self
    ) { invocation in
        let workspace = try invocation.session.workspace()
        var rows: [(LoadedEvalSet, [Split: Int])] = []
        for record in try workspace.store.evalsets() {
            let loaded = try workspace.library.evalset(named: record.name)
            rows.append((loaded, try workspace.store.splitCounts(evalsetID: loaded.record.id)))
        }
        if invocation.json {
            let items: [JSONValue] = rows.map { loaded, counts in
                [
                    "name": .string(loaded.name), "description": .string(loaded.settings.description),
                    "source": .string(loaded.record.source),
                    "splits": .object(
                        Dictionary(
                            uniqueKeysWithValues: Split.allCases.map { ($0.rawValue, .number(Double(counts[$0] ?? 0))) }
                        )),
                    "scorers": .array(loaded.settings.scorers.map(\.json)),
                ]
            }
            invocation.output.line(JSONValue.array(items).serialized(pretty: true))
            return
        }
        guard !rows.isEmpty else {
            invocation.output.note("No eval sets yet. Add evalsets/<name>.jsonl and run pwb import.")
            return
        }
        var table = Table([
            .init("EVALSET"), .init("CASES", right: true), .init("TRAIN", right: true), .init("DEV", right: true),
            .init("TEST", right: true), .init("SCORERS"), .init("DESCRIPTION", maxWidth: 48),
        ])
        for (loaded, counts) in rows {
            table.add([
                loaded.name, String(counts.values.reduce(0, +)), String(counts[.train] ?? 0), String(counts[.dev] ?? 0),
                String(counts[.test] ?? 0), loaded.settings.scorers.map(\.name).joined(separator: ","),
                loaded.settings.description,
            ])
        }
        invocation.output.lines(table.render())
    }

    static let show = Command(
        "evalset show", "show an eval set's settings and cases",
        arguments: "NAME", min: 1, max: 1, completing: .evalsets,
        options: ShowOptions.self
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let loaded = try workspace.library.evalset(named: invocation.positionals[0])
        let cases = try workspace.store.cases(evalsetID: loaded.record.id, split: invocation.split)
        let limit = invocation.limit ?? 20
        let shown = limit == 0 ? cases : Array(cases.prefix(limit))
        if invocation.json {
            let value: JSONValue = [
                "name": .string(loaded.name), "settings": loaded.settings.json, "source": .string(loaded.record.source),
                "cases": .array(
                    shown.map {
                        [
                            "id": .string($0.evalCase.id), "vars": .object($0.evalCase.vars),
                            "expected": $0.evalCase.expected,
                            "split": .string($0.evalCase.split.rawValue),
                        ]
                    }),
                "total": .number(Double(cases.count)),
            ]
            invocation.output.line(value.serialized(pretty: true))
            return
        }
        let counts = try workspace.store.splitCounts(evalsetID: loaded.record.id)
        var lines = ["\(loaded.name)  (\(loaded.record.source))"]
        if !loaded.settings.description.isEmpty { lines.append(loaded.settings.description) }
        lines.append(
            "cases: " + Split.allCases.map { "\($0.rawValue) \(counts[$0] ?? 0)" }.joined(separator: ", "))
        lines.append("scorers: " + loaded.settings.scorers.map { $0.json.serialized() }.joined(separator: ", "))
        if let input = loaded.settings.input { lines.append("input: \(input)") }
        if let corpus = loaded.settings.corpus { lines.append("corpus: \(corpus)") }
        lines.append("")
        let variables = Set(shown.flatMap(\.evalCase.vars.keys)).sorted()
        var table = Table(
            [.init("ID"), .init("SPLIT")] + variables.map { .init($0.uppercased(), maxWidth: 60) }
                + [.init("EXPECTED", maxWidth: 40)])
        for stored in shown {
            let c = stored.evalCase
            table.add([c.id, c.split.rawValue] + variables.map { c.vars[$0]?.text ?? "" } + [c.expected.text])
        }
        lines += table.render()
        if shown.count < cases.count { lines.append("… \(cases.count - shown.count) more (--limit 0 shows all)") }
        invocation.output.lines(lines)
    }

    static let export = Command(
        "evalset export", "write an eval set's cases as JSONL (default) or CSV",
        arguments: "NAME", min: 1, max: 1, completing: .evalsets,
        options: ExportOptions.self
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let loaded = try workspace.library.evalset(named: invocation.positionals[0])
        let cases = try workspace.store.cases(evalsetID: loaded.record.id, split: invocation.split)
        let text: String
        switch invocation.format ?? .jsonl {
        case .jsonl: text = CaseExport.jsonl(cases)
        case .csv: text = CaseExport.csv(cases)
        }
        if let out = invocation.out {
            try workspace.writeUserFile(text, to: out)
            invocation.output.note("wrote \(cases.count) cases to \(out)")
        } else {
            invocation.output.raw(text)
        }
    }
}
