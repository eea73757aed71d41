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
        let terminal = isatty(STDIN_FILENO) != 0
        let words = arguments.isEmpty && terminal ? ["repl"] : arguments
        // The REPL reading piped input prints no colour, like any command whose output is not a terminal.
        if !terminal && (try? GlobalOptions.split(arguments).rest) == ["repl"] { environment["NO_COLOR"] = "1" }
        let output = Output(environment: environment)
        let session = Session(
            directory: FileManager.default.currentDirectoryPath, environment: environment, output: output)
        return await CLI.run(words, session: session)
    }
}

/// The options that may come anywhere on a line, before or after the command: `--db PATH`.
enum GlobalOptions {
    /// The store path given with `--db PATH` or `--db=PATH` (the last wins), and the other words.
    static func split(_ words: [String]) throws -> (database: String?, rest: [String]) {
        var rest: [String] = []
        var database: String?
        var index = 0
        while index < words.count {
            let word = words[index]
            if word == "--" {
                rest += words[index...]
                break
            }
            if word == "--db" {
                guard index + 1 < words.count else { throw UsageError("--db needs a path to a store file") }
                database = words[index + 1]
                index += 2
                continue
            }
            if word.hasPrefix("--db=") {
                database = String(word.dropFirst(5))
            } else {
                rest.append(word)
            }
            index += 1
        }
        return (database, rest)
    }

    /// Takes `--db` into the session (another store is opened for the commands that follow)
    /// and returns the other words.
    @MainActor
    static func take(_ words: [String], session: Session) throws -> [String] {
        let (database, rest) = try split(words)
        if let database { session.databasePath = database }
        return rest
    }
}
