import Foundation
import WorkbenchCore

/// JSON over HTTP to one endpoint, with the error mapping every provider shares: statuses
/// become `ModelError.status` (with the server's own message and `Retry-After`), bodies that are
/// not JSON become `ModelError.malformed`, answers cut short `ModelError.truncated`, silence
/// `ModelError.timedOut`.
struct JSONTransport: Sendable {
    let http: any HTTPTransport
    let base: URL
    let headers: [(String, String)]
    /// A query every URL ends in (Azure's `api-version=…`), or nil.
    let query: String?

    init(http: any HTTPTransport, base: URL, apiKey: String? = nil) {
        self.init(http: http, base: base, credential: apiKey.map(Credential.bearer) ?? .none)
    }

    init(http: any HTTPTransport, base: URL, credential: Credential, query: String? = nil) {
        self.http = http
        self.base = base
        self.query = query
        var headers = [("Accept", "application/json")]
        if let header = credential.header { headers.append(header) }
        self.headers = headers
    }

    func url(_ path: String) -> URL {
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        text += path
        if let query { text += (path.contains("?") ? "&" : "?") + query }
        return URL(string: text)!
    }

    /// POSTs `body` to `path`; returns the parsed answer and the wall time in milliseconds.
    func post(_ path: String, _ body: JSONValue, timeout: Double) async throws -> (JSONValue, Double) {
        try await exchange(
            HTTPRequest(
                method: "POST", url: url(path), headers: headers + [("Content-Type", "application/json")],
                body: Array(body.serialized().utf8)),
            timeout: timeout)
    }

    /// POSTs a form with files (an upload) to `path`; the answer as `post`'s.
    func post(_ path: String, form: MultipartForm, timeout: Double) async throws -> (JSONValue, Double) {
        try await exchange(
            HTTPRequest(
                method: "POST", url: url(path), headers: headers + [("Content-Type", form.contentType)],
                body: form.body),
            timeout: timeout)
    }

    func get(_ path: String, timeout: Double) async throws -> (JSONValue, Double) {
        try await exchange(HTTPRequest(method: "GET", url: url(path), headers: headers), timeout: timeout)
    }

    private func exchange(_ request: HTTPRequest, timeout: Double) async throws -> (JSONValue, Double) {
        let started = ContinuousClock.now
        let response: HTTPResponse
        do {
            response = try await http.send(request, timeout: timeout)
        } catch let error as TransportError {
            // An answer that never came or came broken is the model's error; a server that cannot
            // be reached stays a `TransportError`, for `ModelClient` to try elsewhere.
            let url = request.url.absoluteString
            switch error.reason {
            case .timedOut: throw ModelError.timedOut(url: url, seconds: timeout)
            case .truncated: throw ModelError.truncated(url: url, detail: error.reason.detail)
            case .malformed, .tooLarge: throw ModelError.malformed(url: url, detail: error.reason.detail)
            case .cannotConnect, .unsupportedScheme, .closedWithoutAnswer, .connectionLost: throw error
            }
        }
        let elapsed = started.duration(to: .now)
        let milliseconds = elapsed.inSeconds * 1000
        guard (200..<300).contains(response.status) else {
            // A redirect the transport did not follow: where it points is what the user must judge.
            let location = response.headers["location"].flatMap { URL(string: $0, relativeTo: request.url) }
            throw ModelError.status(
                code: response.status, url: request.url.absoluteString,
                message: (300..<400).contains(response.status) && location != nil
                    ? "redirects to \(location!.absoluteString)" : JSONTransport.errorMessage(response.body),
                retryAfter: response.headers["retry-after"].flatMap(JSONTransport.retryAfter))
        }
        do {
            return (try JSONValue(parsing: response.body), milliseconds)
        } catch {
            let preview = String(decoding: response.body.prefix(80), as: UTF8.self)
            throw ModelError.malformed(
                url: request.url.absoluteString, detail: "not JSON: \(error); the body starts \"\(preview)\"")
        }
    }

    /// The server's own words from an error body: `{"error": {"message": …}}`, `{"error": "…"}`,
    /// or the text itself.
    static func errorMessage(_ body: [UInt8]) -> String {
        guard let json = try? JSONValue(parsing: body) else {
            return String(decoding: body.prefix(300), as: UTF8.self).trimmingWhitespace()
        }
        if let message = json["error"]?["message"]?.stringValue { return message }
        if let message = json["error"]?.stringValue { return message }
        if let message = json["message"]?.stringValue { return message }
        if let detail = json["detail"]?.stringValue { return detail }
        return json.serialized()
    }

    /// `Retry-After` as seconds: a number, or an HTTP date.
    static func retryAfter(_ text: String) -> Double? {
        if let seconds = Double(text.trimmingWhitespace()) {
            // "nan" or "inf" are numbers to Double, not waits; a huge finite wait is capped by the caller.
            return seconds.isFinite ? max(0, seconds) : nil
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text).map { max(0, $0.timeIntervalSinceNow) }
    }

    /// Posts a generation request; a server's answer that the prompt outgrew the context becomes
    /// `.promptTooLong`, so every provider reports it the same way.
    func generate(_ path: String, _ body: JSONValue, maxTokens: Int, timeout: Double) async throws -> (
        JSONValue, Double
    ) {
        do {
            return try await post(path, body, timeout: timeout)
        } catch let error as ModelError {
            throw Self.contextOverflow(error, maxTokens: maxTokens) ?? error
        }
    }

    /// A context-overflow answer, recognized from the words servers use for it.
    static func contextOverflow(_ error: ModelError, maxTokens: Int) -> ModelError? {
        guard case .status(let code, let url, let message, _) = error, code == 400 || code == 413 else { return nil }
        let lower = message.lowercased()
        guard
            lower.contains("context")
                && (lower.contains("exceed") || lower.contains("maximum") || lower.contains("too long"))
        else { return nil }
        let numbers = message.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        let contextSize = numbers.first(where: { $0 >= 64 }) ?? 0
        return .promptTooLong(
            tokens: numbers.last ?? 0, maxTokens: maxTokens, contextSize: contextSize, url: url)
    }
}

extension JSONValue {
    /// Log-probabilities in the shape llama.cpp (`completion_probabilities`), OpenAI chat and
    /// Ollama use: `[{token, logprob, top_logprobs: [{token, logprob}]}]`.
    func tokenLogprobs() -> [TokenLogprob]? {
        guard let items = arrayValue else { return nil }
        return items.compactMap { item in
            guard let token = item["token"]?.stringValue, let logprob = item["logprob"]?.doubleValue else {
                return nil
            }
            let top = (item["top_logprobs"]?.arrayValue ?? []).compactMap { alternative -> TokenLogprob.Alternative? in
                guard let t = alternative["token"]?.stringValue, let l = alternative["logprob"]?.doubleValue else {
                    return nil
                }
                return TokenLogprob.Alternative(token: t, logprob: l)
            }
            return TokenLogprob(token: token, logprob: logprob, top: top)
        }
    }
}

/// How a request says who sends it; the key is read from the environment by the caller and
/// never stored or shown.
package enum Credential: Sendable {
    case none
    /// `Authorization: Bearer KEY`: OpenAI and the servers compatible with it.
    case bearer(String)
    /// `api-key: KEY`: Azure OpenAI's data plane.
    case apiKey(String)

    /// The header that carries it; none for no key, or an empty one.
    var header: (String, String)? {
        switch self {
        case .bearer(let key) where !key.isEmpty: ("Authorization", "Bearer \(key)")
        case .apiKey(let key) where !key.isEmpty: ("api-key", key)
        default: nil
        }
    }
}
