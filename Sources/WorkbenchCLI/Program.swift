import Foundation
import WorkbenchCore

#if canImport(Glibc)
    import Glibc
#endif

/// What `pwb` does when started: one command, or the REPL (`pwb repl`, or `pwb` alone on a
/// terminal).
@MainActor
public enum Program {
    public static func main(arguments: [String]) async -> Int32 {
        var environment = ProcessInfo.processInfo.environment
        var words = arguments
        let terminal = isatty(STDIN_FILENO) != 0
        let wantsREPL = words.isEmpty ? terminal : Program.withoutDatabaseOption(words) == ["repl"]
        if wantsREPL && !terminal { environment["NO_COLOR"] = "1" }
        let output = Output(environment: environment)
        let session = Session(
            directory: FileManager.default.currentDirectoryPath, environment: environment, output: output)
        guard wantsREPL else { return await CLI.run(words, session: session) }
        do {
            try CLI.takeGlobalOptions(&words, session: session)
        } catch {
            return CLI.report(error, output: output)
        }
        session.isInteractive = terminal
        return await REPL(session: session, interactive: terminal).run()
    }

    /// The words without `--db PATH` / `--db=PATH`.
    static func withoutDatabaseOption(_ words: [String]) -> [String] {
        var rest: [String] = []
        var skipNext = false
        for word in words {
            if skipNext {
                skipNext = false
            } else if word == "--db" {
                skipNext = true
            } else if !word.hasPrefix("--db=") {
                rest.append(word)
            }
        }
        return rest
    }
}
