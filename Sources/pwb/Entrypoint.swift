import Foundation
import WorkbenchCLI

@main
struct Entrypoint {
    @MainActor
    static func main() async {
        let code = await Program.main(arguments: Array(CommandLine.arguments.dropFirst()))
        exit(code)
    }
}
