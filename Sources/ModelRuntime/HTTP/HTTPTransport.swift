import Foundation
import WorkbenchCore

/// Sends one HTTP request and returns the whole answer: what the providers talk to, whatever
/// carries the bytes (`SocketTransport` for plain `http://`, `URLSessionTransport` for
/// `https://`, `HTTPClient` choosing between them by scheme).
package protocol HTTPTransport: Sendable {
    /// Sends `request` and gives up `timeout` seconds after it started, however the answer
    /// trickles in.
    ///
    /// - Throws: `TransportError` when no complete answer arrived; `CancellationError` when the
    ///   task was cancelled (promptly, whatever the request was waiting for).
    func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse
}

/// An HTTP request to a model server.
package struct HTTPRequest: Sendable {
    package var method: String
    package var url: URL
    package var headers: [(String, String)]
    package var body: [UInt8]

    package init(method: String, url: URL, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

package struct HTTPResponse: Sendable {
    package var status: Int
    /// Header names in lowercase.
    package var headers: [String: String]
    package var body: [UInt8]

    package var text: String { String(decoding: body, as: UTF8.self) }

    /// The largest answer read: far above any model answer, far below what exhausts memory.
    package static let maxBodyBytes = 64 << 20
}

/// Why an HTTP exchange ended without a complete answer, and with which URL.
package struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Reason: Sendable, Equatable {
        /// Nothing listens, or the host cannot be reached (the system's words): safe to retry
        /// elsewhere.
        case cannotConnect(String)
        /// The URL is neither `http://` nor `https://`.
        case unsupportedScheme
        /// The server closed the connection after the request went out, before a byte of the
        /// answer: it may have seen the request, so it is not sent again here.
        case closedWithoutAnswer
        /// The connection broke (the system's words, e.g. "connection reset by peer").
        case connectionLost(String)
        /// The server closed the connection before the answer was complete (how far it got).
        case truncated(String)
        /// The answer is not HTTP, or breaks its rules (what is wrong).
        case malformed(String)
        /// The answer is longer than pwb reads (`limit` bytes).
        case tooLarge(limit: Int)
        /// No complete answer within the time allowed.
        case timedOut(seconds: Double)

        /// What happened, without the URL: for messages that name the URL themselves.
        package var detail: String {
            switch self {
            case .cannotConnect(let reason), .connectionLost(let reason), .malformed(let reason):
                reason
            case .unsupportedScheme: "not an http:// or https:// URL"
            case .closedWithoutAnswer: "the server closed the connection without answering"
            case .truncated(let extent): extent
            case .tooLarge(let limit): "the answer is larger than the \(limit >> 20) MiB pwb accepts"
            case .timedOut(let seconds): "no answer within \(JSONNumber.format(seconds)) s"
            }
        }
    }

    /// The request's URL.
    package var url: URL
    package var reason: Reason

    package init(url: URL, reason: Reason) {
        self.url = url
        self.reason = reason
    }

    package var description: String {
        let url = url.absoluteString
        return switch reason {
        case .cannotConnect(let reason): "pwb cannot connect to \(url) (\(reason))"
        case .unsupportedScheme: "\(url) is not an http:// or https:// URL"
        case .closedWithoutAnswer: "the server at \(url) closed the connection without answering"
        case .connectionLost(let reason): "the connection to \(url) broke before the answer was complete (\(reason))"
        case .truncated(let extent):
            "the server at \(url) closed the connection before the answer was complete (\(extent))"
        case .malformed(let problem): "the server at \(url) sent an answer that is not valid HTTP (\(problem))"
        case .tooLarge(let limit): "the answer from \(url) is larger than the \(limit >> 20) MiB pwb accepts"
        case .timedOut(let seconds): "the server at \(url) did not answer within \(JSONNumber.format(seconds)) s"
        }
    }
}

extension TransportError: ExitCoded {
    package var exitCode: Int32 { ExitCode.runtimeUnavailable }
}
