import Dispatch
import Foundation
import Workbench
import WorkbenchCore

#if canImport(Glibc)
    import Glibc
#endif

/// Every signal pwb handles, in one place.
///
/// While a command runs, Ctrl-C is for the innermost work that asked for it: the first asks it
/// to finish what is in flight and stop (when it has a `StopRequest`), the second abandons what
/// is in flight. Either way what finished is kept. SIGTERM and SIGHUP (a `kill`, a closed
/// terminal, a CI job cancelled) abandon what is in flight at once, so the runs are marked
/// interrupted and resumable before the process exits with 128 + the signal. At the REPL's
/// prompt Ctrl-C clears the line; while an editor runs pwb leaves Ctrl-C to it.
@MainActor
enum Interrupts {
    /// The terminating signal received while a command ran, if one was.
    static var terminatedBy: Int32?

    /// The exit code of an interrupted command: 130 for Ctrl-C, 128 + the signal otherwise.
    static var exitCode: Int32 { terminatedBy.map { 128 + $0 } ?? ExitCode.interrupted }

    /// Work that Ctrl-C goes to; the innermost is last.
    private final class Target {
        let cancel: () -> Void
        let stop: StopRequest?
        let stopping: String
        /// Ctrl-C is not ours (an editor has the terminal).
        let ignores: Bool
        var presses = 0

        init(cancel: @escaping () -> Void, stop: StopRequest?, stopping: String, ignores: Bool) {
            self.cancel = cancel
            self.stop = stop
            self.stopping = stopping
            self.ignores = ignores
        }
    }

    private static var targets: [Target] = []
    private static var output: Output?
    /// The dispositions the handlers replaced, put back when no work is left to signal.
    private static var replaced: [Int32: sigaction] = [:]
    /// The handlers write the signal's number here; the main queue reads it and acts. (A handler
    /// may only do what is async-signal-safe; libdispatch's own signal sources are not used
    /// because the line editor's handler would unseat theirs.)
    nonisolated(unsafe) private static var wakeUp: Int32 = -1
    private static var wakeUpSource: (any DispatchSourceRead)?
    private static var wakeUpReadEnd: Int32 = -1

    /// The signals written to the pipe and not read yet.
    private static func takeWakeUps() -> [Int32] {
        var numbers: [Int32] = []
        var number: UInt8 = 0
        while wakeUpReadEnd >= 0 && read(wakeUpReadEnd, &number, 1) == 1 { numbers.append(Int32(number)) }
        return numbers
    }

    /// Runs `body` with Ctrl-C, SIGTERM and SIGHUP handled as above. Without a `stop` request
    /// to honour, the first Ctrl-C cancels at once. Calls nest: the innermost gets the signal.
    static func run<T: Sendable>(
        output: Output, stop: StopRequest?,
        stopping: String = "pwb: stopping: finishing the requests in flight (Ctrl-C again to abandon them)",
        _ body: @escaping @MainActor () async throws -> T
    ) async throws -> T {
        let task = Task { @MainActor in try await body() }
        let target = Target(cancel: { task.cancel() }, stop: stop, stopping: stopping, ignores: false)
        push(target, output: output)
        defer { pop(target) }
        return try await task.value
    }

    /// The interactive REPL: Ctrl-C between commands does nothing (at the prompt it clears the
    /// line; during a command it goes to the command).
    static func ignoreCtrlCBetweenCommands() {
        signal(SIGINT, SIG_IGN)
    }

    /// Runs `body` (which waits for a child that owns the terminal) with Ctrl-C left to the child.
    static func leavingCtrlC<T>(to body: () throws -> T) rethrows -> T {
        let target = Target(cancel: {}, stop: nil, stopping: "", ignores: true)
        push(target, output: nil)
        defer {
            // The main queue waited with the child, so its signals are still in the pipe: Ctrl-C
            // was the child's; a SIGTERM or SIGHUP is still ours.
            for number in takeWakeUps() where number != SIGINT { deliver(number) }
            pop(target)
        }
        return try body()
    }

    /// Set by the handler while the REPL reads a line; a signal handler may only set a flag.
    nonisolated(unsafe) static var lineInterrupted: sig_atomic_t = 0
    /// The thread reading the line: the main queue runs on a pool thread, not the process's
    /// main thread, and only a signal handled on the reading thread interrupts its `read`.
    nonisolated(unsafe) private static var reader = pthread_self()

    /// Runs `read` (the line editor) with Ctrl-C setting `lineInterrupted` and making the read
    /// return; restores what was there before.
    static func whileReadingLine<T>(_ read: () -> T) -> T {
        lineInterrupted = 0
        reader = pthread_self()
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { number in
            // Delivered to another thread: hand it to the reader. (No SA_RESTART: the read returns.)
            if pthread_equal(pthread_self(), Interrupts.reader) == 0 {
                pthread_kill(Interrupts.reader, number)
            } else {
                Interrupts.lineInterrupted = 1
            }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        var previous = sigaction()
        sigaction(SIGINT, &action, &previous)
        // The reader may be a pool thread that blocks signals; it must take this one.
        var ctrlC = sigset_t()
        sigemptyset(&ctrlC)
        sigaddset(&ctrlC, SIGINT)
        var mask = sigset_t()
        pthread_sigmask(SIG_UNBLOCK, &ctrlC, &mask)
        defer {
            pthread_sigmask(SIG_SETMASK, &mask, nil)
            sigaction(SIGINT, &previous, nil)
        }
        return read()
    }

    private static func push(_ target: Target, output: Output?) {
        targets.append(target)
        if let output { Interrupts.output = output }
        guard targets.count == 1 else { return }
        if wakeUpSource == nil {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { return }
            for end in ends {
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
                _ = fcntl(end, F_SETFL, O_NONBLOCK)
            }
            wakeUp = ends[1]
            wakeUpReadEnd = ends[0]
            let source = DispatchSource.makeReadSource(fileDescriptor: ends[0], queue: .main)
            source.setEventHandler {
                MainActor.assumeIsolated {
                    for number in takeWakeUps() { deliver(number) }
                }
            }
            source.resume()
            wakeUpSource = source
        }
        for number in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(Interrupts.wakeUp, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            var previous = sigaction()
            sigaction(number, &action, &previous)
            replaced[number] = previous
        }
    }

    private static func pop(_ target: Target) {
        targets.removeAll { $0 === target }
        guard targets.isEmpty else { return }
        // A signal still in the pipe came too late for the work it was sent to: a Ctrl-C is
        // dropped, a SIGTERM or SIGHUP still ends pwb once the command has returned.
        for number in takeWakeUps() where number != SIGINT { terminatedBy = number }
        for (number, previous) in replaced {
            var previous = previous
            sigaction(number, &previous, nil)
        }
        replaced = [:]
    }

    private static func deliver(_ number: Int32) {
        guard let target = targets.last else { return }
        if number != SIGINT {
            terminatedBy = number
            output?.clearProgress()
            output?.note("pwb: \(number == SIGTERM ? "terminated" : "hung up"): abandoning the requests in flight")
            for target in targets { target.cancel() }
            return
        }
        guard !target.ignores else { return }
        target.presses += 1
        output?.clearProgress()
        if target.presses == 1, let stop = target.stop {
            stop.request()
            output?.note(target.stopping)
        } else {
            output?.note(target.stop == nil ? "pwb: cancelled" : "pwb: abandoning the requests in flight")
            target.cancel()
        }
    }
}
