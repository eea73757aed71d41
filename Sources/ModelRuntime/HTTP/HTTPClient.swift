import Foundation

/// The transport the providers use unless told otherwise: plain `http://` over `SocketTransport`
/// (local servers, keep-alive, cheap per request), `https://` through `URLSessionTransport`
/// (hosted APIs; TLS comes with it).
package final class HTTPClient: HTTPTransport {
    let plain: SocketTransport
    let secure: URLSessionTransport

    package init() {
        plain = SocketTransport()
        secure = URLSessionTransport()
    }

    package func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
        switch request.url.scheme?.lowercased() {
        case "https": try await secure.send(request, timeout: timeout)
        case "http": try await plain.send(request, timeout: timeout)
        default: throw TransportError(url: request.url, reason: .unsupportedScheme)
        }
    }
}
