import Foundation
import WorkbenchCore

/// A model server answered, but not with a usable completion.
package enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A non-2xx status. `retryAfter` is the server's `Retry-After`, in seconds.
    case status(code: Int, url: String, message: String, retryAfter: Double?)
    /// The body is not the JSON the API promises (malformed, fields missing).
    case malformed(url: String, detail: String)
    /// The answer ended before its declared length: the server (or the network) broke mid-body.
    case truncated(url: String, detail: String)
    /// The prompt and the tokens asked for do not fit the context window.
    case promptTooLong(tokens: Int, maxTokens: Int, contextSize: Int, url: String)
    /// No answer within the per-request timeout.
    case timedOut(url: String, seconds: Double)

    package var description: String {
        switch self {
        case .status(let code, let url, let message, _):
            let detail = message.isEmpty ? "" : ": \(message.prefix(300))"
            let fix =
                switch code {
                case 401, 403: "; check the key (api_key_env) of this model in .pwb/config.json"
                case 404: "; check the endpoint URL and the model name in .pwb/config.json (or PWB_ENDPOINT)"
                case 300..<400:
                    "; pwb does not follow a redirect to another scheme, host or port, which would take the key along; if that server is the one to use, put its URL in .pwb/config.json (or PWB_ENDPOINT)"
                default: ""
                }
            return "\(url) answered HTTP \(code)\(detail)\(fix)"
        case .malformed(let url, let detail):
            return "\(url) sent an answer pwb cannot read (\(detail))"
        case .truncated(let url, let detail):
            return "\(url) sent an answer pwb cannot read (truncated: \(detail))"
        case .promptTooLong(let tokens, let maxTokens, let contextSize, let url):
            return
                "the prompt is \(tokens) tokens and \(maxTokens) more are asked for, but the context at \(url) holds \(contextSize); shorten the prompt, use fewer examples or passages, or lower max_tokens"
        case .timedOut(let url, let seconds):
            return
                "\(url) did not answer within \(JSONNumber.format(seconds)) s; raise timeout_seconds in .pwb/config.json or check the server"
        }
    }

    /// The server is there but refuses who is asking or what is asked for (HTTP 401, 403, 404),
    /// or sends it elsewhere (a redirect pwb does not follow): the configuration is wrong, not
    /// the runtime gone.
    package var isConfigurationRefusal: Bool {
        if case .status(let code, _, _, _) = self {
            return [401, 403, 404].contains(code) || (300..<400).contains(code)
        }
        return false
    }

    /// Worth another try: server errors, rate limits, and answers that never came or were cut
    /// short (a hung or dying server; another endpoint, or the same one later, may answer).
    package var isRetryable: Bool {
        switch self {
        case .status(let code, _, _, _): code == 429 || code >= 500
        case .timedOut, .truncated: true
        case .malformed, .promptTooLong: false
        }
    }
}

extension ModelError: ExitCoded {
    package var exitCode: Int32 {
        if case .promptTooLong = self { return ExitCode.badInput }
        // A server that answers "unauthorized" or "not found" is reachable: the key, the URL or
        // the model name is wrong, which is the configuration's to fix, not a lost runtime.
        if isConfigurationRefusal { return ExitCode.usage }
        return ExitCode.runtimeUnavailable
    }
}

/// No model server could be reached at all: exit code 3, with how to start one.
package struct RuntimeUnavailable: Error, Sendable, Equatable, CustomStringConvertible {
    package var endpoints: [String]
    package var reason: String

    package init(endpoints: [String], reason: String) {
        self.endpoints = endpoints
        self.reason = reason
    }

    /// What happened and how to start a runtime, the command named for the interface to word.
    package var message: Message {
        "no model runtime answers at \(endpoints.joined(separator: ", ")) (\(reason)); start one with \(command: "runtime start"), or point PWB_ENDPOINT or .pwb/config.json at a running server"
    }
}

extension RuntimeUnavailable: MessageError {
    package var exitCode: Int32 { ExitCode.runtimeUnavailable }
}

enum JSONNumber {
    static func format(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(format: "%.1f", value)
    }
}
