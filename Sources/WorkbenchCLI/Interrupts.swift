import Dispatch
import Foundation
import Workbench

#if canImport(Glibc)
    import Glibc
#endif

/// Ctrl-C while a long command runs: the first asks it to finish what is in flight and stop,
/// the second abandons what is in flight. Either way what finished is kept.
@MainActor
enum Interrupts {
    /// Runs `body` with Ctrl-C handled as above; restores the default handling afterwards.
    /// Without a `stop` request to honour, the first Ctrl-C cancels at once.
    static func run<T: Sendable>(
        output: Output, stop: StopRequest?, _ body: @escaping @MainActor () async throws -> T
    ) async throws -> T {
        let task = Task { @MainActor in try await body() }
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .main)
        var presses = 0
        source.setEventHandler {
            presses += 1
            if presses == 1, let stop {
                stop.request()
                output.clearProgress()
                output.note("pwb: stopping: finishing the requests in flight (Ctrl-C again to abandon them)")
            } else {
                output.clearProgress()
                output.note(stop == nil ? "pwb: cancelled" : "pwb: abandoning the requests in flight")
                task.cancel()
            }
        }
        source.resume()
        defer {
            source.cancel()
            signal(SIGINT, SIG_DFL)
        }
        return try await task.value
    }
}
