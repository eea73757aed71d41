import Foundation
import Synchronization

/// Plain `http://` over its own keep-alive HTTP/1.1 connections, for local servers: URLSession
/// costs over a millisecond of CPU per request on Linux, more than the whole engine's budget per
/// case. The blocking socket calls run on `Workers`, at most its `limit` requests at once.
package final class SocketTransport: HTTPTransport {
    private let pool = Mutex<[String: [RawConnection]]>([:])
    private let maxIdlePerHost = 64
    let workers: Workers

    package convenience init() { self.init(workers: .shared) }

    init(workers: Workers) {
        self.workers = workers
    }

    package func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
        guard request.url.scheme?.lowercased() == "http", let host = request.url.host else {
            throw TransportError(url: request.url, reason: .unsupportedScheme)
        }
        let port = request.url.port ?? 80
        let deadline = Date().addingTimeInterval(timeout)
        let inFlight = InFlight()
        do {
            return try await withTaskCancellationHandler {
                try await workers.run { [self] in
                    try exchange(request, host: host, port: port, deadline: deadline, inFlight: inFlight)
                }
            } onCancel: {
                inFlight.cancel()
            }
        } catch let error as TransportError where error.reason == .timedOut(seconds: 0) {
            // The connection knows the deadline, not the time allowed.
            throw TransportError(url: request.url, reason: .timedOut(seconds: timeout))
        }
    }

    /// The whole exchange, on a worker thread. A pooled connection that the server closed while
    /// it was idle fails at the send; the request then goes once more, on a new connection. Once
    /// the request went out, any failure is the answer's: it may have been seen, so it is not
    /// sent again here (the caller's retry policy decides).
    private func exchange(
        _ request: HTTPRequest, host: String, port: Int, deadline: Date, inFlight: InFlight
    ) throws -> HTTPResponse {
        let key = "\(host):\(port)"
        var reused = take(key)
        while true {
            if inFlight.isCancelled { throw CancellationError() }
            let connection =
                try reused
                ?? RawConnection(
                    host: host, port: port, url: request.url, deadline: deadline,
                    isCancelled: { inFlight.isCancelled })
            guard inFlight.attach(connection) else {
                connection.close()
                throw CancellationError()
            }
            do {
                let response = try connection.exchange(request, host: key, deadline: deadline)
                // An aborted connection, or one the server will close, is not used again.
                if inFlight.detach() && response.headers["connection"]?.lowercased() != "close" {
                    give(connection, key)
                } else {
                    connection.close()
                }
                return response
            } catch let failure as RawConnection.SendFailed {
                connection.close()
                if inFlight.isCancelled { throw CancellationError() }
                if reused != nil {
                    reused = nil
                    continue
                }
                throw TransportError(url: request.url, reason: .connectionLost(failure.reason))
            } catch {
                connection.close()
                if inFlight.isCancelled { throw CancellationError() }
                throw error
            }
        }
    }

    private func take(_ key: String) -> RawConnection? {
        pool.withLock { $0[key]?.popLast() }
    }

    private func give(_ connection: RawConnection, _ key: String) {
        let kept = pool.withLock { pool -> Bool in
            if pool[key, default: []].count >= maxIdlePerHost { return false }
            pool[key, default: []].append(connection)
            return true
        }
        if !kept { connection.close() }
    }
}

/// One request's cancellation: the flag its blocking calls look at, and the connection to wake.
private final class InFlight: Sendable {
    private struct State {
        var cancelled = false
        var connection: RawConnection?
    }

    private let state = Mutex(State())

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Marks the request cancelled and wakes the call blocked on its connection.
    func cancel() {
        let connection = state.withLock { state -> RawConnection? in
            state.cancelled = true
            return state.connection
        }
        connection?.abort()
    }

    /// Records the connection the request now uses; false when it was cancelled already.
    func attach(_ connection: RawConnection) -> Bool {
        state.withLock { state in
            guard !state.cancelled else { return false }
            state.connection = connection
            return true
        }
    }

    /// Forgets the connection; false when the request was cancelled (it may have been aborted).
    func detach() -> Bool {
        state.withLock { state in
            state.connection = nil
            return !state.cancelled
        }
    }
}
