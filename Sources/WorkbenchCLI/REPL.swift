import Foundation
import Workbench
import WorkbenchCore
import WorkbenchStore

#if canImport(Glibc)
    import Glibc
#endif

/// The interactive workbench: every CLI command with the same words, plus commands that work on
/// the current template and variant (`use sentiment/question`): show, edit, set, try, eval, diff,
/// history, compare, new variant.
///
/// On a terminal it edits lines with libedit, keeps history in `.pwb/history` and completes
/// names; from piped input it reads one command per line, prints no prompt and no colour, and
/// its exit code is that of the first command that failed (0 when none did).
@MainActor
public final class REPL {
    let session: Session
    let interactive: Bool
    private var firstFailure: Int32 = 0
    private static let quit: Int32 = -1

    public init(session: Session, interactive: Bool) {
        self.session = session
        self.interactive = interactive
    }

    public func run() async -> Int32 {
        if interactive {
            try? FileManager.default.createDirectory(
                atPath: session.directory + "/.pwb", withIntermediateDirectories: true)
            LineEditor.start(historyPath: session.directory + "/.pwb/history") { [unowned self] before, partial in
                MainActor.assumeIsolated { completions(before: before, partial: partial) }
            }
            session.output.note("pwb \(CLI.version) — help lists the commands, quit leaves.")
        }
        reading: while true {
            let line: String
            if interactive {
                // Ctrl-C at the prompt clears the line and asks again; it never ends the session.
                switch LineEditor.read(prompt: prompt()) {
                case .line(let text): line = text
                case .interrupted:
                    session.output.raw("\n")
                    continue reading
                case .end:
                    session.output.raw("\n")
                    break reading
                }
            } else {
                guard let text = readLine(strippingNewline: true) else { break }
                line = text
            }
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if interactive { LineEditor.remember(trimmed) }
            let code = await execute(trimmed)
            if code == REPL.quit { break }
            if code != 0 && firstFailure == 0 { firstFailure = code }
        }
        return firstFailure
    }

    func prompt() -> String {
        guard let template = session.currentTemplate else { return "pwb> " }
        guard let variant = session.currentVariant else { return "pwb \(template)> " }
        let number = try? session.workspace().resolve(RevisionReference(template: template, variant: variant)).revision
            .number
        return "pwb \(template)/\(variant)\(number.map { "@\($0)" } ?? "")> "
    }

    /// Runs one line; returns its exit code (or `quit`).
    func execute(_ line: String) async -> Int32 {
        let words: [String]
        do {
            words = try ShellWords.split(line)
        } catch {
            return CLI.report(error, output: session.output)
        }
        guard let first = words.first else { return 0 }
        if first == "quit" || first == "exit" { return REPL.quit }
        if first == "help" { return await help(Array(words.dropFirst())) }
        if first == "eval" { return await CLI.run(evalWords(words), session: session) }
        if let (command, rest) = REPLCommands.find(words) {
            if rest.contains("--help") || rest.contains("-h") {
                session.output.lines(command.help)
                return 0
            }
            do {
                let arguments = try command.parse(rest)
                try await command.run(Invocation(command: command, arguments: arguments, session: session))
                return 0
            } catch {
                return CLI.report(error, output: session.output)
            }
        }
        let known = Set(
            CLI.commands.map { $0.path[0] } + REPLCommands.all.map { $0.path[0] } + ["help", "quit", "eval"])
        if !known.contains(first) {
            let hint = Suggest.nearest(to: first, in: known).map { "; did you mean \($0)?" } ?? ""
            return CLI.report(
                UsageError("unknown command \"\(first)\"\(hint) (help lists the commands)"), output: session.output)
        }
        return await CLI.run(words, session: session)
    }

    /// `eval` in the REPL scores the current variant unless told otherwise (`eval all`,
    /// `--variants`, another template, `--resume`).
    func evalWords(_ words: [String]) -> [String] {
        var rest = Array(words.dropFirst())
        if rest.first == "all" {
            rest.removeFirst()
            rest += ["--variants", "all"]
        }
        let hasTemplate = rest.first.map { !$0.hasPrefix("-") } ?? false
        if rest.contains("--resume") || rest.contains("--help") { return ["eval"] + rest }
        if !hasTemplate, let template = session.currentTemplate {
            rest.insert(template, at: 0)
            if !rest.contains("--variants"), let variant = session.currentVariant { rest += ["--variants", variant] }
        }
        return ["eval"] + rest
    }

    func help(_ topic: [String]) async -> Int32 {
        if !topic.isEmpty {
            if let (command, _) = REPLCommands.find(topic) {
                session.output.lines(command.help)
                return 0
            }
            return await CLI.run(["help"] + topic, session: session)
        }
        var lines = ["Working on the current variant (use TEMPLATE/VARIANT to choose it):"]
        for command in REPLCommands.all {
            lines.append(
                "  " + DisplayWidth.pad(command.name + " " + command.arguments, to: 30) + "  " + command.summary)
        }
        lines.append(
            "  " + DisplayWidth.pad("eval [all] [options]", to: 30)
                + "  score the current variant (all: every variant); options as pwb eval")
        lines.append("")
        lines.append("Every pwb command, with the same words:")
        for command in CLI.commands {
            lines.append("  " + DisplayWidth.pad(command.name, to: 30) + "  " + command.summary)
        }
        lines += ["", "help COMMAND shows a command's options; quit (or Ctrl-D) leaves."]
        session.output.lines(lines)
        return 0
    }

    /// Tab completion: commands first, then names that fit the command.
    func completions(before: [String], partial: String) -> [String] {
        let commandWords = Set(
            CLI.commands.map { $0.path[0] } + REPLCommands.all.map { $0.path[0] } + ["help", "quit", "eval"])
        guard let first = before.first else { return commandWords.sorted() }
        if partial.hasPrefix("--") {
            let path =
                before.count >= 2 && CLI.commands.contains { $0.path == Array(before.prefix(2)) }
                ? Array(before.prefix(2)) : [first]
            let command = CLI.commands.first { $0.path == path } ?? REPLCommands.all.first { $0.path == path }
            return (command?.options.map { "--" + $0.name } ?? []).sorted()
        }
        let subcommands = CLI.commands.filter { $0.path.count > 1 && $0.path[0] == first }.map { $0.path[1] }
        if before.count == 1 && !subcommands.isEmpty { return subcommands.sorted() }
        guard let workspace = try? session.workspace() else { return [] }
        let previous = before.last ?? ""
        switch previous {
        case "--evalset": return ((try? workspace.store.evalsets().map(\.name)) ?? []).sorted()
        case "--rag": return ((try? workspace.store.corpora().map(\.corpus.name)) ?? []).sorted()
        case "--resume", "--baseline": return runIDs(workspace)
        case "--split": return Split.allCases.map(\.rawValue)
        case "--select": return Strategy.Selection.allCases.map(\.rawValue)
        case "--variants":
            guard let template = session.currentTemplate, let record = try? workspace.store.template(named: template)
            else { return [] }
            return ((try? workspace.store.variants(templateID: record.id).map(\.name)) ?? []) + ["all"]
        default: break
        }
        switch (first, before.count > 1 ? before[1] : "") {
        case ("evalset", _), ("export-finetune", _):
            return ((try? workspace.store.evalsets().map(\.name)) ?? []).sorted()
        case ("corpus", "search"), ("corpus", "add"):
            return ((try? workspace.store.corpora().map(\.corpus.name)) ?? []).sorted()
        case ("runs", _), ("compare", _): return runIDs(workspace)
        case ("new", _): return before.count == 1 ? ["variant"] : variantNames(workspace)
        case ("diff", _), ("show", _):
            guard let template = session.currentTemplate, let variant = session.currentVariant,
                let resolved = try? workspace.resolve(RevisionReference(template: template, variant: variant))
            else { return [] }
            return (1...resolved.revision.number).map { "@\($0)" }
        case ("set", _), ("unset", _): return before.count == 1 ? ["body"] + PromptSettings.keys : []
        case ("try", _):
            guard let template = session.currentTemplate, let variant = session.currentVariant,
                let resolved = try? workspace.resolve(RevisionReference(template: template, variant: variant))
            else { return ["case"] }
            return ["case"] + resolved.file.body.caseVariables.map { $0 + "=" }
        default:
            return references(workspace)
        }
    }

    private func runIDs(_ workspace: Workspace) -> [String] {
        ((try? workspace.store.runListings(limit: 50)) ?? []).map { String($0.run.id) }
    }

    private func variantNames(_ workspace: Workspace) -> [String] {
        guard let template = session.currentTemplate, let record = try? workspace.store.template(named: template) else {
            return []
        }
        return (try? workspace.store.variants(templateID: record.id).map(\.name)) ?? []
    }

    /// `template` and `template/variant` for every stored variant.
    private func references(_ workspace: Workspace) -> [String] {
        guard let summaries = try? workspace.store.templateSummaries() else { return [] }
        return summaries.flatMap { summary in
            [summary.template.name] + summary.variants.map { "\(summary.template.name)/\($0.name)" }
        }
    }
}
