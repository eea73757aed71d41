import Foundation
import ModelRuntime
import Workbench
import WorkbenchCore
import WorkbenchStore

/// The command line was used wrongly: a missing argument, an unknown option or name.
struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}

extension UsageError: ExitCoded {
    var exitCode: Int32 { ExitCode.usage }
}

/// A check the user asked for did not pass; the command has printed its report.
struct CheckFailed: Error, Sendable, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}

extension CheckFailed: ExitCoded {
    var exitCode: Int32 { ExitCode.failed }
}

/// The command line: finds the command the words name, runs it, and turns any error into one
/// sentence on standard error and the exit code documented for it. The only place that does.
@MainActor
enum CLI {
    /// Runs one command line (without the program name) in `session`; returns its exit code. In
    /// the REPL (`inREPL`) the same commands run, plus those that work on the current variant.
    static func run(_ words: [String], session: Session, inREPL: Bool = false) async -> Int32 {
        do {
            let words = try GlobalOptions.take(words, session: session)
            // In the REPL, a line of only --db PATH switches the store for the lines after it.
            if inREPL && words.isEmpty { return ExitCode.ok }
            if words.isEmpty || words == ["--help"] || words == ["-h"] {
                session.output.lines(Commands.overview(inREPL: inREPL))
                return ExitCode.ok
            }
            if words == ["--version"] {
                session.output.line("pwb \(version)")
                return ExitCode.ok
            }
            if words.first == "help" {
                session.output.lines(try Commands.help(Array(words.dropFirst()), inREPL: inREPL))
                return ExitCode.ok
            }
            let (command, rest) = try Commands.find(words, inREPL: inREPL)
            if rest.contains("--help") || rest.contains("-h") {
                session.output.lines(command.help(inREPL: inREPL))
                return ExitCode.ok
            }
            let arguments = try command.parse(rest, inREPL: inREPL)
            try await command.run(arguments, session: session, inREPL: inREPL)
            return ExitCode.ok
        } catch {
            return report(error, output: session.output)
        }
    }

    static let version = "0.1.0"

    /// Prints `error` as one sentence and returns its exit code.
    static func report(_ error: any Error, output: Output) -> Int32 {
        let (code, message) = classify(error)
        if !message.isEmpty { output.error(message) }
        return code
    }

    /// The exit code and the sentence for `error`: what it states of itself, else the few
    /// errors from the system that cannot say (a cancelled task, a file Foundation could not read),
    /// else an internal error.
    static func classify(_ error: any Error) -> (Int32, String) {
        switch error {
        case let error as any ExitCoded:
            // An interruption ends with the code of the signal that stopped it.
            let code = error.exitCode == ExitCode.interrupted ? Interrupts.exitCode : error.exitCode
            return (code, error.sentence(wording: worded))
        case is CancellationError: return (Interrupts.exitCode, "interrupted")
        case let error as CocoaError: return (ExitCode.badInput, error.localizedDescription)
        default:
            return (
                ExitCode.internalError,
                "internal error: \(String(describing: error).prefix(300)); this is a bug in pwb, please report it with the command that caused it"
            )
        }
    }

    /// A message from below in the command line's words: settings as options, commands as `pwb` lines.
    nonisolated static func worded(_ message: Message) -> String {
        message.commandLine
    }
}
