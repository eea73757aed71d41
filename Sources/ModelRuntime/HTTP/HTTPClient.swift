import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// An HTTP request to a model server.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(method: String, url: URL, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names in lowercase.
    public var headers: [String: String]
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why an HTTP exchange failed before a complete response arrived.
public enum TransportError: Error, Sendable, Equatable {
    /// Nothing listens, or the host cannot be reached: safe to retry elsewhere.
    case cannotConnect(String)
    /// The connection broke after the request was sent (a server that died mid-request).
    case connectionLost(String)
    /// The response ended before its declared length.
    case truncated(String)
    /// The response is not HTTP.
    case malformed(String)
    /// No answer within the time allowed.
    case timedOut(seconds: Double)
}

/// Sends HTTP requests: plain `http://` over its own keep-alive connections (URLSession costs
/// over a millisecond of CPU per request on Linux, more than the whole engine's budget per case),
/// `https://` through URLSession for hosted APIs.
public final class HTTPClient: Sendable {
    private let pool = Mutex<[String: [RawConnection]]>([:])
    private let maxIdlePerHost = 64

    public init() {}

    /// Sends `request`, giving up after `timeout` seconds without completing.
    public func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
        if request.url.scheme?.lowercased() == "https" {
            return try await sendWithURLSession(request, timeout: timeout)
        }
        guard request.url.scheme?.lowercased() == "http", let host = request.url.host else {
            throw TransportError.cannotConnect("\(request.url) is not an http:// or https:// URL")
        }
        let port = request.url.port ?? 80
        let key = "\(host):\(port)"
        let deadline = Date().addingTimeInterval(timeout)
        // A pooled connection may have been closed by the server while idle; such a failure
        // before any byte of the answer is retried once on a fresh connection.
        for attempt in 0..<2 {
            let reused = attempt == 0 ? take(key) : nil
            let cancel = Mutex(false)
            let connection: RawConnection
            if let reused {
                connection = reused
            } else {
                do {
                    connection = try await withTaskCancellationHandler {
                        try await Workers.shared.run {
                            try RawConnection(host: host, port: port, deadline: deadline) { cancel.withLock { $0 } }
                        }
                    } onCancel: {
                        cancel.withLock { $0 = true }
                    }
                } catch TransportError.timedOut {
                    throw TransportError.timedOut(seconds: timeout)
                }
            }
            do {
                let response = try await withTaskCancellationHandler {
                    try await Workers.shared.run {
                        try connection.exchange(request, host: key, deadline: deadline)
                    }
                } onCancel: {
                    cancel.withLock { $0 = true }
                    connection.abort()
                }
                // An aborted connection, or one the server will close, is not used again.
                if response.headers["connection"]?.lowercased() == "close" || cancel.withLock({ $0 }) {
                    connection.close()
                } else {
                    give(connection, key)
                }
                return response
            } catch RawConnection.Failure.staleBeforeResponse where reused != nil {
                connection.close()
                continue
            } catch {
                connection.close()
                if cancel.withLock({ $0 }) { throw CancellationError() }
                if case RawConnection.Failure.staleBeforeResponse = error {
                    throw TransportError.connectionLost("\(request.url) closed the connection without answering")
                }
                if case TransportError.timedOut = error { throw TransportError.timedOut(seconds: timeout) }
                throw error
            }
        }
        throw TransportError.connectionLost("\(request.url) closed the connection without answering")
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

    /// Closes every idle connection (a server that restarted leaves them dead).
    public func closeIdleConnections() {
        let all = pool.withLock { pool -> [RawConnection] in
            defer { pool.removeAll() }
            return pool.values.flatMap { $0 }
        }
        for connection in all { connection.close() }
    }

    /// `https://` (and, in tests, any URL) through URLSession: a total deadline and a size cap,
    /// as the plain-HTTP path has.
    func sendWithURLSession(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
        try await URLSessionTransport.send(request, timeout: timeout, limit: RawConnection.maxResponseBytes)
    }
}

/// Threads for blocking socket calls, so they never occupy the cooperative pool that Swift
/// concurrency runs on (two threads on this kind of machine). Idle threads wait for work;
/// more are started when all are busy.
final class Workers: Sendable {
    static let shared = Workers()

    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var idle = 0
        var threads = 0
    }

    private let state = Mutex(State())
    private let condition = NSCondition()

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit {
                continuation.resume(with: Result { try work() })
            }
        }
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        let startThread = state.withLock { state -> Bool in
            state.jobs.append(job)
            // Every waiting job needs a thread of its own: blocking work must not queue.
            if state.jobs.count <= state.idle { return false }
            state.threads += 1
            return true
        }
        condition.signal()
        condition.unlock()
        if startThread {
            let thread = Thread { [self] in loop() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func loop() {
        while true {
            condition.lock()
            var job = state.withLock { $0.jobs.isEmpty ? nil : $0.jobs.removeFirst() }
            while job == nil {
                state.withLock { $0.idle += 1 }
                condition.wait()
                job = state.withLock { state in
                    state.idle -= 1
                    return state.jobs.isEmpty ? nil : state.jobs.removeFirst()
                }
            }
            condition.unlock()
            job?()
        }
    }
}
