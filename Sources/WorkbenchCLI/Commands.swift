import Foundation
import Workbench
import WorkbenchCore

/// The one list of commands, and everything read from it: finding the command a line names,
/// help, and completion. The command line and the REPL both go through here.
@MainActor
enum Commands {
    /// Every command, in the order help lists them.
    static var all: [Command] {
        StoreCommands.all + TemplateCommands.all + EvalSetCommands.all + CorpusCommands.all + RuntimeCommands.all
            + EvalCommands.all + AdviseCommands.all + FineTuneCommands.all + ReportCommands.all + REPLCommands.all + [
                REPL.command
            ]
    }

    /// The commands that can be typed where the line is read.
    static func available(inREPL: Bool) -> [Command] {
        all.filter { command in
            switch command.scope {
            case .everywhere: true
            case .repl: inREPL
            case .commandLine: !inREPL
            }
        }
    }

    /// The words that start a command, plus `help` (and in the REPL, `quit`).
    static func firstWords(inREPL: Bool) -> [String] {
        var words: [String] = []
        for command in available(inREPL: inREPL) where !words.contains(command.path[0]) {
            words.append(command.path[0])
        }
        return words + (inREPL ? ["help", "quit"] : ["help"])
    }

    /// The command named by the longest prefix of `words`, and the words after it.
    static func find(_ words: [String], inREPL: Bool) throws -> (Command, [String]) {
        guard let first = words.first else {
            throw UsageError("name a command (\(inREPL ? "help" : "pwb --help") lists them)")
        }
        let commands = available(inREPL: inREPL)
        for length in stride(from: min(3, words.count), through: 1, by: -1) {
            let path = Array(words.prefix(length))
            if let command = commands.first(where: { $0.path == path }) {
                return (command, Array(words.dropFirst(length)))
            }
        }
        let group = commands.filter { $0.path.first == first }
        if !group.isEmpty {
            let subcommand = words.count > 1 ? words[1] : nil
            let names = group.map { $0.path.dropFirst().joined(separator: " ") }
            if let subcommand, !subcommand.hasPrefix("-") {
                let hint = Suggest.nearest(to: subcommand, in: names).map { "did you mean \(first) \($0)? " } ?? ""
                throw UsageError(
                    "\(first) has no subcommand \"\(subcommand)\"; \(hint)try: \(names.joined(separator: ", "))")
            }
            let help = inREPL ? "help \(first)" : "pwb help \(first)"
            throw UsageError("\(first) needs a subcommand: \(names.joined(separator: ", ")); see \(help)")
        }
        if !inREPL, let replOnly = all.first(where: { $0.scope == .repl && $0.path[0] == first }) {
            throw UsageError(
                "\(replOnly.path[0]) works on the REPL's current variant; start the REPL with pwb repl and type it there"
            )
        }
        let hint = Suggest.nearest(to: first, in: firstWords(inREPL: inREPL)).map { "; did you mean \($0)?" } ?? ""
        let list = inREPL ? "help lists the commands" : "pwb --help lists the commands"
        throw UsageError("unknown command \"\(first)\"\(hint) (\(list))")
    }

    /// `help`, `help COMMAND` or `help GROUP`.
    static func help(_ topic: [String], inREPL: Bool) throws -> [String] {
        guard !topic.isEmpty else { return overview(inREPL: inREPL) }
        let commands = available(inREPL: inREPL)
        if let command = commands.first(where: { $0.path == topic }) { return command.help(inREPL: inREPL) }
        let group = commands.filter { $0.path.first == topic[0] }
        if group.count > 1 || (group.count == 1 && topic.count == 1 && group[0].path.count > 1) {
            return group.map { "  " + DisplayWidth.pad($0.name, to: 22) + "  " + $0.summary }
        }
        return try find(topic, inREPL: inREPL).0.help(inREPL: inREPL)
    }

    static func overview(inREPL: Bool) -> [String] {
        if inREPL {
            var lines = ["Working on the current variant (use TEMPLATE/VARIANT to choose it):"]
            let current =
                all.filter { $0.scope == .repl } + all.filter { $0.scope != .repl && $0.replSummary != nil }
            for command in current {
                let line = command.usage(inREPL: true).replacingOccurrences(of: " [options]", with: "")
                lines.append("  " + DisplayWidth.pad(line, to: 30) + "  " + (command.replSummary ?? command.summary))
            }
            lines += ["", "Every pwb command, with the same words:"]
            for command in available(inREPL: false) where command.scope == .everywhere {
                lines.append("  " + DisplayWidth.pad(command.name, to: 30) + "  " + command.summary)
            }
            lines += ["", "help COMMAND shows a command's options; quit (or Ctrl-D) leaves."]
            return lines
        }
        var lines = [
            "pwb — a prompt workbench: write prompt variants, score them on eval sets against a local model,",
            "and measure whether few-shot, retrieval or fine-tuning is worth it.",
            "",
            "usage: pwb [--db PATH] COMMAND [options]",
            "       pwb [--db PATH] repl                   (or pwb alone on a terminal: the interactive workbench)",
            "",
            "commands:",
        ]
        for command in available(inREPL: false) where command.scope == .everywhere {
            lines.append("  " + DisplayWidth.pad(command.name, to: 22) + "  " + command.summary)
        }
        lines += [
            "",
            "pwb COMMAND --help shows a command's options. Exit codes: 0 ok, 1 check failed, 2 usage,",
            "3 runtime unavailable, 4 bad input file, 5 store failure, 70 internal error, 130 interrupted.",
        ]
        return lines
    }

    /// Tab completion in the REPL: command words first, then what the command's arguments or the
    /// option before the cursor take.
    static func completions(before: [String], partial: String, session: Session) -> [String] {
        guard let first = before.first else { return firstWords(inREPL: true).sorted() }
        if first == "help" { return firstWords(inREPL: true).sorted() }
        let commands = available(inREPL: true)
        let subcommands = commands.filter { $0.path.count > 1 && $0.path[0] == first }.map { $0.path[1] }
        if before.count == 1 && !subcommands.isEmpty { return subcommands.sorted() }
        guard let (command, rest) = try? find(before, inREPL: true) else { return [] }
        if partial.hasPrefix("--") { return command.options.map { "--" + $0.name }.sorted() }
        if let previous = rest.last, previous.hasPrefix("--"),
            let option = command.options.first(where: { "--" + $0.name == previous }), !option.isFlag
        {
            return values(option.completion, session: session)
        }
        return values(command.argumentCompletion, session: session)
    }

    private static func values(_ completion: Suggestions, session: Session) -> [String] {
        if case .words(let words) = completion { return words }
        if case .none = completion { return [] }
        guard let workspace = try? session.workspace() else { return [] }
        let names = workspace.knownNames
        switch completion {
        case .none, .words: return []
        case .templates: return names.templates()
        case .references: return names.references()
        case .variants, .variantsOrAll:
            let variants = session.currentTemplate.map { names.variants(of: $0) } ?? []
            return completion == .variantsOrAll ? variants + ["all"] : variants
        case .evalsets: return names.evalsets()
        case .corpora: return names.corpora()
        case .runs: return names.runs()
        case .adapters: return names.adapters()
        case .revisions:
            guard let template = session.currentTemplate, let variant = session.currentVariant else { return [] }
            return names.revisions(of: template, variant)
        case .caseVariables:
            guard let template = session.currentTemplate, let variant = session.currentVariant else {
                return ["case"]
            }
            return ["case"] + names.caseVariables(of: template, variant).map { $0 + "=" }
        }
    }
}
