import Foundation
import Synchronization

/// Threads for blocking socket calls, so they never occupy the cooperative pool that Swift
/// concurrency runs on (two threads on this kind of machine).
///
/// At most `limit` threads: a job that finds them all busy waits its turn (its request's deadline
/// keeps running). A thread idle for `idleTimeout` seconds exits; one that finishes a job takes
/// the next waiting one.
final class Workers: Sendable {
    /// Shared by every `SocketTransport`: 64 requests at once (more wait their turn), as many as
    /// it keeps idle connections per host.
    static let shared = Workers(limit: 64)

    let limit: Int
    let idleTimeout: Double

    private struct Job {
        var id: Int
        /// Does the work; returns what hands its result back, called once the thread counts
        /// as free (so a caller that submits its next job at once finds it free).
        var run: @Sendable () -> @Sendable () -> Void
        /// Ends the job without running it (cancelled while it waited).
        var drop: @Sendable () -> Void
    }

    private struct State {
        var jobs: [Job] = []
        var nextID = 0
        var busy = 0
        var threads = 0
        var mostThreads = 0
    }

    /// Guarded by `condition`'s lock; the Mutex only makes the class `Sendable`.
    private let state = Mutex(State())
    private let condition = NSCondition()

    init(limit: Int, idleTimeout: Double = 10) {
        precondition(limit > 0, "a worker pool needs at least one thread")
        self.limit = limit
        self.idleTimeout = idleTimeout
    }

    /// Threads running now, busy or idle.
    var threads: Int { locked { $0.threads } }
    /// The most threads that ever ran at once.
    var mostThreads: Int { locked { $0.mostThreads } }

    /// Runs `work` on a worker thread and returns its result. Cancelling the calling task while
    /// `work` still waits for a thread ends it with `CancellationError` without running it.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let id = locked { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                submit(
                    Job(
                        id: id,
                        run: {
                            let result = Result { try work() }
                            return { continuation.resume(with: result) }
                        },
                        drop: { continuation.resume(throwing: CancellationError()) }))
            }
        } onCancel: {
            let dropped = locked { state -> Job? in
                guard let index = state.jobs.firstIndex(where: { $0.id == id }) else { return nil }
                return state.jobs.remove(at: index)
            }
            dropped?.drop()
        }
    }

    private func locked<T>(_ body: (inout State) -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return state.withLock { body(&$0) }
    }

    private func submit(_ job: Job) {
        let startThread = locked { state -> Bool in
            state.jobs.append(job)
            // A waiting job gets a thread of its own while there are fewer than `limit`.
            guard state.jobs.count > state.threads - state.busy, state.threads < limit else { return false }
            state.threads += 1
            state.mostThreads = max(state.mostThreads, state.threads)
            return true
        }
        condition.signal()
        if startThread {
            let thread = Thread { [self] in loop() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func loop() {
        condition.lock()
        while true {
            let next = state.withLock { state -> Job? in
                guard !state.jobs.isEmpty else { return nil }
                state.busy += 1
                return state.jobs.removeFirst()
            }
            if let job = next {
                condition.unlock()
                let handBack = job.run()
                condition.lock()
                state.withLock { $0.busy -= 1 }
                condition.unlock()
                handBack()
                condition.lock()
                continue
            }
            let woken = condition.wait(until: Date().addingTimeInterval(idleTimeout))
            let exits = state.withLock { state -> Bool in
                guard !woken, state.jobs.isEmpty else { return false }
                state.threads -= 1
                return true
            }
            if exits {
                condition.unlock()
                return
            }
        }
    }
}
