import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `https://` requests (and `http://`, though `SocketTransport` is far cheaper there) through
/// URLSession, with what URLSession does not give by itself: a total deadline (its own timeout
/// restarts with every byte, so a server trickling an answer would never time out), the same cap
/// on the answer's size as `SocketTransport`, and an answer cut short reported as truncated.
///
/// Each request has a session of its own, whose delegate is its `URLSessionExchange`: with one
/// shared session, one huge or hung answer held up the callbacks of every other request. The
/// session's calls that wait on its internal queue (resume, cancel) are made off Swift's
/// cooperative threads, which must never block.
package struct URLSessionTransport: HTTPTransport {
    package init() {}

    package func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        // URLSession's own timeout is one of silence, and on Linux whole seconds (0.5 would be 0,
        // an instant timeout): the deadline below is the one that counts.
        urlRequest.timeoutInterval = max(1, timeout.rounded(.up))
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }
        // An answer over the limit is refused as soon as it passes it.
        let exchange = URLSessionExchange(url: request.url, timeout: timeout, limit: HTTPResponse.maxBodyBytes)
        let prepared = urlRequest
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard exchange.wait(continuation) else { return }
                DispatchQueue.global().async { exchange.start(prepared) }
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                    exchange.finish(.failure(TransportError(url: request.url, reason: .timedOut(seconds: timeout))))
                }
            }
        } onCancel: {
            exchange.finish(.failure(CancellationError()))
        }
    }
}

/// One request's answer as it arrives: finished once, by whichever comes first of the answer,
/// an error, the size limit, the deadline or cancellation.
final class URLSessionExchange: NSObject, URLSessionDataDelegate, Sendable {
    private struct State {
        var continuation: CheckedContinuation<HTTPResponse, any Error>?
        /// Set when the exchange finished before anyone waited for it.
        var early: Result<HTTPResponse, any Error>?
        var finished = false
        var response: HTTPURLResponse?
        var body: [UInt8] = []
        var session: URLSession?
    }

    let url: URL
    let timeout: Double
    let limit: Int
    private let state = Mutex(State())

    init(url: URL, timeout: Double, limit: Int) {
        self.url = url
        self.timeout = timeout
        self.limit = limit
    }

    /// Opens the session and sends the request, unless the exchange has already ended.
    func start(_ request: URLRequest) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        let session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
        let started = state.withLock { state -> Bool in
            guard !state.finished else { return false }
            state.session = session
            return true
        }
        guard started else {
            session.invalidateAndCancel()
            return
        }
        session.dataTask(with: request).resume()
    }

    /// Waits for the result; false (the continuation already resumed) when it came first.
    func wait(_ continuation: CheckedContinuation<HTTPResponse, any Error>) -> Bool {
        let early = state.withLock { state -> Result<HTTPResponse, any Error>? in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        guard let early else { return true }
        continuation.resume(with: early)
        return false
    }

    /// Ends the exchange with `result` unless it has ended; true when this call ended it.
    @discardableResult
    func finish(_ result: Result<HTTPResponse, any Error>) -> Bool {
        let continuation = state.withLock { state -> CheckedContinuation<HTTPResponse, any Error>?? in
            guard !state.finished else { return nil }
            state.finished = true
            state.body = []
            if let session = state.session {
                state.session = nil
                // Ends the transfer (if any) and lets the session go; off the caller's thread.
                DispatchQueue.global().async { session.invalidateAndCancel() }
            }
            guard let continuation = state.continuation else {
                state.early = result
                return .some(nil)
            }
            state.continuation = nil
            return .some(continuation)
        }
        guard let continuation else { return false }
        continuation?.resume(with: result)
        return true
    }

    /// The head of the answer; false when it declares a body over the limit.
    func received(_ response: URLResponse) -> Bool {
        if response.expectedContentLength > Int64(limit) {
            finish(.failure(tooLarge()))
            return false
        }
        state.withLock { $0.response = response as? HTTPURLResponse }
        return true
    }

    /// More of the body; false when it passes the limit (the exchange has then failed).
    func received(_ data: Data) -> Bool {
        let fits = state.withLock { state -> Bool in
            guard !state.finished else { return true }
            guard state.body.count + data.count <= limit else { return false }
            state.body.append(contentsOf: data)
            return true
        }
        if !fits { finish(.failure(tooLarge())) }
        return fits
    }

    func complete(error: (any Error)?) {
        if let error {
            let (response, received) = state.withLock { ($0.response, $0.body.count) }
            // An answer that broke off before its declared length is truncated, however
            // URLSession words it.
            if let expected = response?.expectedContentLength, expected > received, !isCancellation(error) {
                finish(.failure(TransportError(url: url, reason: .truncated("got \(received) of \(expected) bytes"))))
                return
            }
            finish(.failure(transportError(error)))
            return
        }
        let (response, body) = state.withLock { ($0.response, $0.body) }
        guard let response else {
            finish(.failure(TransportError(url: url, reason: .malformed("the answer is not HTTP"))))
            return
        }
        var headers: [String: String] = [:]
        for (name, value) in response.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        finish(.success(HTTPResponse(status: response.statusCode, headers: headers, body: body)))
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        completionHandler(received(response) ? .allow : .cancel)
    }

    /// Follows a redirect only to the same scheme, host and port. URLSession would send every
    /// header along, the API key too, to wherever a server points it, plain http included; a
    /// redirect it does not follow arrives as the answer, for the provider to say where it pointed.
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(request.url.map(isSameOrigin) == true ? request : nil)
    }

    func isSameOrigin(_ other: URL) -> Bool {
        func origin(_ url: URL) -> (String, String, Int?) {
            let scheme = url.scheme?.lowercased() ?? ""
            let port = url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : nil)
            return (scheme, url.host?.lowercased() ?? "", port)
        }
        return origin(other) == origin(url)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        _ = received(data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        complete(error: error)
    }

    private func tooLarge() -> TransportError {
        TransportError(url: url, reason: .tooLarge(limit: limit))
    }

    private func isCancellation(_ error: any Error) -> Bool {
        (error as? URLError)?.code == .cancelled
    }

    private func transportError(_ error: any Error) -> any Error {
        guard let error = error as? URLError else {
            return TransportError(url: url, reason: .connectionLost(String(describing: error)))
        }
        // URLSession's own words on Linux are mostly "The operation could not be completed".
        let words = "\(error.localizedDescription.lowercased()) (URL error \(error.code.rawValue))"
        return switch error.code {
        case .timedOut: TransportError(url: url, reason: .timedOut(seconds: timeout))
        case .cancelled: CancellationError()
        case .cannotFindHost, .dnsLookupFailed:
            TransportError(url: url, reason: .cannotConnect("cannot resolve the host name \(url.host ?? "")"))
        case .cannotConnectToHost: TransportError(url: url, reason: .cannotConnect("connection refused"))
        case .notConnectedToInternet: TransportError(url: url, reason: .cannotConnect("this machine is offline"))
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            TransportError(url: url, reason: .cannotConnect("no secure connection: \(words)"))
        case .networkConnectionLost: TransportError(url: url, reason: .connectionLost("the connection broke"))
        default: TransportError(url: url, reason: .connectionLost(words))
        }
    }
}
