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

/// The command line was used wrongly: a missing argument, an unknown option or name.
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
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
    /// Runs one command line (without the program name) in `session`; returns its exit code. In
    /// the REPL (`inREPL`) the same commands run, plus those that work on the current variant.
    public static func run(_ words: [String], session: Session, inREPL: Bool = false) async -> Int32 {
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
        case let error as Refusal: return (ExitCode.usage, worded(error.message))
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
        case let error as UnansweredRequests: return (exitCode(error.cause), worded(error.message))
        case let error as IncompleteRung: return (exitCode(error.cause), error.description)
        case let error as RuntimeUnavailable: return (ExitCode.runtimeUnavailable, worded(error.message))
        case let error as TrainerError: return (ExitCode.runtimeUnavailable, worded(error.message))
        case let error as TrainingStopped: return (Interrupts.exitCode, error.description)
        case let error as HostedFineTuneStopped: return (Interrupts.exitCode, worded(error.message))
        case let error as FineTuningError: return (ExitCode.runtimeUnavailable, error.description)
        case let error as ManagedServerError:
            return (error.unavailable ? ExitCode.runtimeUnavailable : ExitCode.usage, worded(error.message))
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

    /// A message from below in the command line's words: settings as options, commands as `pwb` lines.
    static func worded(_ message: Message) -> String {
        message.worded(setting: { "--" + $0 }, command: { "pwb " + $0 })
    }

    /// Failed requests: the configuration's to fix (2), the input's (4) or the runtime's (3).
    static func exitCode(_ cause: UnansweredRequests.Cause) -> Int32 {
        switch cause {
        case .configuration: ExitCode.usage
        case .input: ExitCode.badInput
        case .runtime: ExitCode.runtimeUnavailable
        }
    }
}
