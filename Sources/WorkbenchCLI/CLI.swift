import Foundation
import ModelRuntime
import Workbench
import WorkbenchCore
import WorkbenchStore

/// The documented exit codes (README, DESIGN §9).
public enum ExitCode {
    public static let ok: Int32 = 0
    /// A check failed: `--fail-under`, `--baseline`, or the command could not finish its job.
    public static let failed: Int32 = 1
    public static let usage: Int32 = 2
    public static let runtimeUnavailable: Int32 = 3
    public static let badInput: Int32 = 4
    /// The store could not be read or written (disk full, locked by another process, damaged).
    public static let storeFailure: Int32 = 5
    /// A bug in pwb: an error no part of it expected (not a failed check, which is 1).
    public static let internalError: Int32 = 70
    /// Interrupted by Ctrl-C; what was done is kept. (SIGTERM and SIGHUP: 143 and 129.)
    public static let interrupted: Int32 = 130
}

/// A check the user asked for did not pass; the command has printed its report.
public struct CheckFailed: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// The command line: finds the command the words name, runs it, and turns any error into one
/// sentence on standard error and the exit code documented for it. The only place that does.
@MainActor
public enum CLI {
    /// Runs one command line (without the program name) in `session`; returns its exit code.
    public static func run(_ words: [String], session: Session) async -> Int32 {
        var words = words
        do {
            try takeGlobalOptions(&words, session: session)
            if words.isEmpty || words == ["--help"] || words == ["-h"] || words == ["help"] {
                session.output.lines(overview())
                return ExitCode.ok
            }
            if words == ["--version"] {
                session.output.line("pwb \(version)")
                return ExitCode.ok
            }
            if words.first == "help" {
                return try help(for: Array(words.dropFirst()), session: session)
            }
            let (command, rest) = try find(words)
            if rest.contains("--help") || rest.contains("-h") {
                session.output.lines(command.help)
                return ExitCode.ok
            }
            let arguments = try command.parse(rest)
            try await command.run(Invocation(command: command, arguments: arguments, session: session))
            return ExitCode.ok
        } catch {
            return report(error, output: session.output)
        }
    }

    public static let version = "0.1.0"

    /// Prints `error` as one sentence and returns its exit code.
    public static func report(_ error: any Error, output: Output) -> Int32 {
        let (code, message) = classify(error)
        if !message.isEmpty { output.error(message) }
        return code
    }

    static func classify(_ error: any Error) -> (Int32, String) {
        switch error {
        case let error as UsageError: return (ExitCode.usage, error.message)
        case let error as InputError: return (ExitCode.badInput, error.description)
        case let error as StoreVersionError: return (ExitCode.badInput, error.description)
        case let error as CheckFailed: return (ExitCode.failed, error.message)
        case let error as StoreError:
            if error.isBusy {
                return (
                    ExitCode.storeFailure,
                    "the store is locked by another pwb process; wait for it to finish, or use another --db"
                )
            }
            return (ExitCode.storeFailure, error.description)
        case let error as RunInUse: return (ExitCode.storeFailure, error.description)
        case is CancellationError: return (Interrupts.exitCode, "interrupted")
        case let error as Interrupted: return (Interrupts.exitCode, error.message)
        case let error as Silent: return (error.code, "")
        case let error as RuntimeStopped: return (ExitCode.runtimeUnavailable, error.message)
        case let error as UnansweredRequests: return (exitCode(error.cause), error.description)
        case let error as IncompleteRung: return (exitCode(error.cause), error.description)
        case let error as RuntimeUnavailable: return (ExitCode.runtimeUnavailable, error.description)
        case let error as TrainerError: return (ExitCode.runtimeUnavailable, error.description)
        case let error as TrainingStopped: return (Interrupts.exitCode, error.description)
        case let error as ManagedServerError:
            return (error.unavailable ? ExitCode.runtimeUnavailable : ExitCode.usage, error.message)
        case let error as ModelError:
            if case .promptTooLong = error { return (ExitCode.badInput, error.description) }
            // A server that answers "unauthorized" or "not found" is reachable: the key, the URL
            // or the model name is wrong, which is the configuration's to fix, not a lost runtime.
            if error.isConfigurationRefusal { return (ExitCode.usage, error.description) }
            return (ExitCode.runtimeUnavailable, error.description)
        case let error as TransportError: return (ExitCode.runtimeUnavailable, "\(error)")
        case let error as CocoaError: return (ExitCode.badInput, error.localizedDescription)
        default:
            return (
                ExitCode.internalError,
                "internal error: \(String(describing: error).prefix(300)); this is a bug in pwb, please report it with the command that caused it"
            )
        }
    }

    /// Failed requests: the configuration's to fix (2), the input's (4) or the runtime's (3).
    static func exitCode(_ cause: UnansweredRequests.Cause) -> Int32 {
        switch cause {
        case .configuration: ExitCode.usage
        case .input: ExitCode.badInput
        case .runtime: ExitCode.runtimeUnavailable
        }
    }

    /// `--db PATH` may come anywhere on the line.
    static func takeGlobalOptions(_ words: inout [String], session: Session) throws {
        var index = 0
        while index < words.count {
            if words[index] == "--" { break }
            if words[index] == "--db" {
                guard index + 1 < words.count else { throw UsageError("--db needs a path to a store file") }
                session.databasePath = words[index + 1]
                words.removeSubrange(index...(index + 1))
                continue
            }
            if words[index].hasPrefix("--db=") {
                session.databasePath = String(words[index].dropFirst(5))
                words.remove(at: index)
                continue
            }
            index += 1
        }
    }

    /// The command named by the longest prefix of `words`, and the words after it.
    static func find(_ words: [String]) throws -> (Command, [String]) {
        let all = commands
        for length in stride(from: min(3, words.count), through: 1, by: -1) {
            let path = Array(words.prefix(length))
            if let command = all.first(where: { $0.path == path }) {
                return (command, Array(words.dropFirst(length)))
            }
        }
        let first = words[0]
        let group = all.filter { $0.path.first == first }
        if !group.isEmpty {
            let subcommand = words.count > 1 ? words[1] : nil
            let names = group.map { $0.path.dropFirst().joined(separator: " ") }
            if let subcommand, !subcommand.hasPrefix("-") {
                let hint = Suggest.nearest(to: subcommand, in: names).map { "did you mean \(first) \($0)? " } ?? ""
                throw UsageError(
                    "\(first) has no subcommand \"\(subcommand)\"; \(hint)try: \(names.joined(separator: ", "))")
            }
            throw UsageError("\(first) needs a subcommand: \(names.joined(separator: ", ")); see pwb help \(first)")
        }
        let topWords = Set(all.map { $0.path[0] } + ["help", "quit"])
        let hint = Suggest.nearest(to: first, in: topWords).map { "; did you mean \($0)?" } ?? ""
        throw UsageError("unknown command \"\(first)\"\(hint) (pwb --help lists the commands)")
    }

    static func help(for words: [String], session: Session) throws -> Int32 {
        guard !words.isEmpty else {
            session.output.lines(overview())
            return ExitCode.ok
        }
        if let command = commands.first(where: { $0.path == words }) {
            session.output.lines(command.help)
            return ExitCode.ok
        }
        let group = commands.filter { $0.path.first == words[0] }
        guard !group.isEmpty else {
            _ = try find(words)
            return ExitCode.usage
        }
        session.output.lines(group.map { "  " + DisplayWidth.pad($0.name, to: 22) + "  " + $0.summary })
        return ExitCode.ok
    }

    static func overview() -> [String] {
        var lines = [
            "pwb — a prompt workbench: write prompt variants, score them on eval sets against a local model,",
            "and measure whether few-shot, retrieval or fine-tuning is worth it.",
            "",
            "usage: pwb [--db PATH] COMMAND [options]",
            "       pwb [--db PATH] repl                   (or pwb alone on a terminal: the interactive workbench)",
            "",
            "commands:",
        ]
        for command in commands {
            lines.append("  " + DisplayWidth.pad(command.name, to: 22) + "  " + command.summary)
        }
        lines += [
            "",
            "pwb COMMAND --help shows a command's options. Exit codes: 0 ok, 1 check failed, 2 usage,",
            "3 runtime unavailable, 4 bad input file, 5 store failure, 70 internal error, 130 interrupted.",
        ]
        return lines
    }

    /// Every command, in the order help lists them.
    static var commands: [Command] {
        StoreCommands.all + TemplateCommands.all + EvalSetCommands.all + CorpusCommands.all + RuntimeCommands.all
            + EvalCommands.all + AdviseCommands.all + FineTuneCommands.all + ReportCommands.all
    }
}
