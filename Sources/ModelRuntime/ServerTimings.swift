import WorkbenchCore

/// The compute a server reports for one answer, in one shape whatever the server: what it read of
/// the prompt and how long that took, and what it generated and how long. llama.cpp's `timings`
/// and Ollama's durations are read here and nowhere else.
package struct ServerTimings: Sendable, Hashable {
    /// Prompt tokens the server read, and the milliseconds it took; those it found in its prompt
    /// cache are not read again.
    package var promptTokensRead: Int?
    package var promptMilliseconds: Double?
    /// Prompt tokens found in the prompt cache, when the server says.
    package var promptTokensCached: Int?
    package var generatedTokens: Int?
    package var generationMilliseconds: Double?

    package init(
        promptTokensRead: Int? = nil, promptMilliseconds: Double? = nil, promptTokensCached: Int? = nil,
        generatedTokens: Int? = nil, generationMilliseconds: Double? = nil
    ) {
        self.promptTokensRead = promptTokensRead
        self.promptMilliseconds = promptMilliseconds
        self.promptTokensCached = promptTokensCached
        self.generatedTokens = generatedTokens
        self.generationMilliseconds = generationMilliseconds
    }

    /// llama-server's `timings`: `prompt_n` tokens read in `prompt_ms`, `cache_n` found cached,
    /// `predicted_n` generated in `predicted_ms`.
    init?(llamaCpp timings: JSONValue?) {
        guard let timings, timings.objectValue != nil else { return nil }
        self.init(
            promptTokensRead: timings["prompt_n"]?.intValue, promptMilliseconds: timings["prompt_ms"]?.doubleValue,
            promptTokensCached: timings["cache_n"]?.intValue, generatedTokens: timings["predicted_n"]?.intValue,
            generationMilliseconds: timings["predicted_ms"]?.doubleValue)
    }

    /// Ollama's answer: `prompt_eval_count` tokens read in `prompt_eval_duration` nanoseconds,
    /// `eval_count` generated in `eval_duration`.
    init?(ollama answer: JSONValue) {
        let prompt = answer["prompt_eval_duration"]?.doubleValue
        let generation = answer["eval_duration"]?.doubleValue
        guard prompt != nil || generation != nil else { return nil }
        self.init(
            promptTokensRead: answer["prompt_eval_count"]?.intValue, promptMilliseconds: prompt.map { $0 / 1e6 },
            generatedTokens: answer["eval_count"]?.intValue, generationMilliseconds: generation.map { $0 / 1e6 })
    }

    /// As the response cache keeps it.
    package var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if let promptTokensRead { object["prompt_n"] = .number(Double(promptTokensRead)) }
        if let promptMilliseconds { object["prompt_ms"] = .number(promptMilliseconds) }
        if let promptTokensCached { object["cache_n"] = .number(Double(promptTokensCached)) }
        if let generatedTokens { object["predicted_n"] = .number(Double(generatedTokens)) }
        if let generationMilliseconds { object["predicted_ms"] = .number(generationMilliseconds) }
        return .object(object)
    }

    /// What `json` wrote, and what earlier versions stored: llama.cpp's own `timings`, or the
    /// Ollama durations in milliseconds (`prompt_eval_ms`, `eval_ms`) with the answer's token
    /// counts beside them.
    package init?(stored: JSONValue?, promptTokens: Int?, completionTokens: Int?) {
        guard let stored, stored.objectValue != nil else { return nil }
        if stored["prompt_ms"] != nil || stored["predicted_ms"] != nil {
            self.init(llamaCpp: stored)
        } else if stored["prompt_eval_ms"] != nil || stored["eval_ms"] != nil {
            self.init(
                promptTokensRead: promptTokens, promptMilliseconds: stored["prompt_eval_ms"]?.doubleValue,
                generatedTokens: completionTokens, generationMilliseconds: stored["eval_ms"]?.doubleValue)
        } else {
            return nil
        }
    }

    /// Every number a duration a server could mean and every count not negative; else the
    /// problem, for an error naming the server.
    var problem: String? {
        for (name, value) in [("prompt_ms", promptMilliseconds), ("predicted_ms", generationMilliseconds)] {
            if let value, !(0...3.2e10).contains(value) {
                return "timings.\(name) is \(value), not a duration in milliseconds"
            }
        }
        for (name, value) in [
            ("prompt_n", promptTokensRead), ("cache_n", promptTokensCached), ("predicted_n", generatedTokens),
        ] {
            if let value, value < 0 { return "timings.\(name) is \(value), not a count of tokens" }
        }
        return nil
    }
}
