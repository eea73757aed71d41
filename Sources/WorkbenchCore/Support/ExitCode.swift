/// The documented exit codes (README "Exit codes", DESIGN §9).
package enum ExitCode {
    package static let ok: Int32 = 0
    /// A check failed: `--fail-under`, `--baseline`, or the command could not finish its job.
    package static let failed: Int32 = 1
    package static let usage: Int32 = 2
    package static let runtimeUnavailable: Int32 = 3
    package static let badInput: Int32 = 4
    /// The store could not be read or written (disk full, locked by another process, damaged).
    package static let storeFailure: Int32 = 5
    /// A bug in pwb: an error no part of it expected (not a failed check, which is 1).
    package static let internalError: Int32 = 70
    /// Interrupted by Ctrl-C; what was done is kept. (SIGTERM and SIGHUP: 143 and 129.)
    package static let interrupted: Int32 = 130
}

/// An error that states the documented exit code it ends a command with, and the sentence it
/// reads as. Each error type states both beside its definition; the command line asks this
/// protocol, never the type, so a new error type is one conformance where it is defined.
package protocol ExitCoded: Error {
    /// One of `ExitCode`'s. An interruption says `ExitCode.interrupted`, which the command line
    /// turns into the code of the signal that stopped it (143 for SIGTERM, 129 for SIGHUP).
    var exitCode: Int32 { get }

    /// The sentence for standard error; `wording` words a `Message`'s settings and commands the
    /// way the interface names them (`--split`, `pwb runs list`).
    func sentence(wording: (Message) -> String) -> String
}

extension ExitCoded where Self: CustomStringConvertible {
    /// The error's description, for errors whose text names no setting or command.
    package func sentence(wording: (Message) -> String) -> String { description }
}

/// An error whose whole text is one `Message`: its description names settings and commands
/// plainly, and its sentence is the message as the interface words it.
package protocol MessageError: ExitCoded, CustomStringConvertible {
    var message: Message { get }
}

extension MessageError {
    package var description: String { message.description }

    package func sentence(wording: (Message) -> String) -> String { wording(message) }
}
