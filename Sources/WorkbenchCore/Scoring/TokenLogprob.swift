/// One generated token with its log-probability and the most likely alternatives at that step.
package struct TokenLogprob: Sendable, Hashable {
    package var token: String
    package var logprob: Double
    package var top: [Alternative]

    package struct Alternative: Sendable, Hashable {
        package var token: String
        package var logprob: Double

        package init(token: String, logprob: Double) {
            self.token = token
            self.logprob = logprob
        }
    }

    package init(token: String, logprob: Double, top: [Alternative]) {
        self.token = token
        self.logprob = logprob
        self.top = top
    }

    package var json: JSONValue {
        [
            "token": .string(token), "logprob": .number(logprob),
            "top": .array(top.map { ["token": .string($0.token), "logprob": .number($0.logprob)] }),
        ]
    }

    package init?(json: JSONValue) {
        guard let token = json["token"]?.stringValue, let logprob = json["logprob"]?.doubleValue else { return nil }
        self.token = token
        self.logprob = logprob
        self.top = (json["top"]?.arrayValue ?? []).compactMap {
            guard let t = $0["token"]?.stringValue, let l = $0["logprob"]?.doubleValue else { return nil }
            return Alternative(token: t, logprob: l)
        }
    }
}
