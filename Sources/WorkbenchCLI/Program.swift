import Foundation

/// What `pwb` does when started: one command, or the REPL when there is none.
@MainActor
public enum Program {
    public static func main(arguments: [String]) async -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        let output = Output(environment: environment)
        let session = Session(
            directory: FileManager.default.currentDirectoryPath, environment: environment, output: output)
        return await CLI.run(arguments, session: session)
    }
}
