import Dispatch
import Foundation
import Workbench

#if canImport(Glibc)
    import Glibc
#endif

/// Ctrl-C while a long command runs: the first asks it to finish what is in flight and stop,
/// the second abandons what is in flight. Either way what finished is kept. SIGTERM and SIGHUP
/// (a `kill`, a closed terminal, a CI job cancelled) abandon what is in flight at once, so the
/// runs are marked interrupted and resumable before the process exits with 128 + the signal.
@MainActor
enum Interrupts {
    /// The terminating signal received while a command ran, if one was.
    static var terminatedBy: Int32?

    /// The exit code of an interrupted command: 130 for Ctrl-C, 128 + the signal otherwise.
    static var exitCode: Int32 { terminatedBy.map { 128 + $0 } ?? ExitCode.interrupted }

    /// Runs `body` with Ctrl-C handled as above; restores the default handling afterwards.
    /// Without a `stop` request to honour, the first Ctrl-C cancels at once.
    static func run<T: Sendable>(
        output: Output, stop: StopRequest?,
        stopping: String = "pwb: stopping: finishing the requests in flight (Ctrl-C again to abandon them)",
        _ body: @escaping @MainActor () async throws -> T
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
                output.note(stopping)
            } else {
                output.clearProgress()
                output.note(stop == nil ? "pwb: cancelled" : "pwb: abandoning the requests in flight")
                task.cancel()
            }
        }
        source.resume()
        var terminators: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let terminator = DispatchSource.makeSignalSource(signal: number, queue: .main)
            terminator.setEventHandler {
                terminatedBy = number
                output.clearProgress()
                output.note("pwb: \(number == SIGTERM ? "terminated" : "hung up"): abandoning the requests in flight")
                task.cancel()
            }
            terminator.resume()
            terminators.append(terminator)
        }
        defer {
            source.cancel()
            signal(SIGINT, SIG_DFL)
            for terminator in terminators { terminator.cancel() }
            signal(SIGTERM, SIG_DFL)
            signal(SIGHUP, SIG_DFL)
        }
        return try await task.value
    }
}
