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
        let wantsREPL =
            words.isEmpty ? terminal : words.filter { $0 != "--db" && !$0.hasPrefix("--db=") }.last == "repl"
        if wantsREPL && !terminal { environment["NO_COLOR"] = "1" }
        let output = Output(environment: environment)
        let session = Session(
            directory: FileManager.default.currentDirectoryPath, environment: environment, output: output)
        guard wantsREPL else { return await CLI.run(words, session: session) }
        do {
            words.removeAll { $0 == "repl" }
            try CLI.takeGlobalOptions(&words, session: session)
            if !words.isEmpty { throw UsageError("pwb repl takes no arguments but --db PATH") }
        } catch {
            return CLI.report(error, output: output)
        }
        session.isInteractive = terminal
        return await REPL(session: session, interactive: terminal).run()
    }
}
