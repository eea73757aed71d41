import Foundation
import Workbench
import WorkbenchCore

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
final class REPL {
    let session: Session
    let interactive: Bool
    private var firstFailure: Int32 = 0
    private static let quit: Int32 = -1

    /// `pwb repl`: what `pwb` alone starts on a terminal.
    static let command = Command(
        "repl", "the interactive workbench: every command, plus those that work on the current variant",
        scope: .commandLine,
        details: """
            On a terminal: line editing, history in .pwb/history, Tab completes commands, options and names.
            From piped input: one command per line, no prompt; the exit code is the first failing command's.
            help lists the commands there; quit (or Ctrl-D) leaves.
            """
    ) { invocation in
        let interactive = isatty(STDIN_FILENO) != 0
        let code = await REPL(session: invocation.session, interactive: interactive).run()
        if code != 0 { throw Silent(code: code) }
    }

    /// A message from below in the REPL's words: settings by their names, commands as they are
    /// typed at its prompt (without `pwb`).
    nonisolated static func worded(_ message: Message) -> String {
        message.worded(setting: { $0 }, command: { $0 })
    }

    init(session: Session, interactive: Bool) {
        self.session = session
        self.interactive = interactive
    }

    func run() async -> Int32 {
        if interactive {
            try? FileManager.default.createDirectory(
                atPath: session.directory + "/.pwb", withIntermediateDirectories: true)
            LineEditor.start(historyPath: session.directory + "/.pwb/history") { [session] before, partial in
                MainActor.assumeIsolated { Commands.completions(before: before, partial: partial, session: session) }
            }
            Interrupts.ignoreCtrlCBetweenCommands()
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
            // SIGTERM or SIGHUP ends the session once the command has kept what it finished.
            if let signal = Interrupts.terminatedBy { return 128 + signal }
            if code != 0 && firstFailure == 0 { firstFailure = code }
        }
        return firstFailure
    }

    func prompt() -> String {
        guard let template = session.currentTemplate else { return "pwb> " }
        guard let variant = session.currentVariant else { return "pwb \(template)> " }
        let number = try? session.workspace().library.resolve(RevisionReference(template: template, variant: variant))
            .revision
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
        // Ctrl-C cancels the command (or stops it, when it can finish what is in flight) and
        // comes back to the prompt.
        do {
            return try await Interrupts.run(output: session.output, stop: nil) { [session] in
                await CLI.run(words, session: session, inREPL: true)
            }
        } catch {
            return CLI.report(error, output: session.output)
        }
    }
}

/// A command that already reported its failures; only its exit code remains.
struct Silent: Error {
    var code: Int32
}

extension Silent: ExitCoded {
    var exitCode: Int32 { code }

    /// Nothing more to say: the failures were reported as they happened.
    func sentence(wording: (Message) -> String) -> String { "" }
}
