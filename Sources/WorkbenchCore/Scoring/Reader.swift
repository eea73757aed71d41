/// How an answer is read from the model. Like the model, it is part of what a score measures: the
/// same prompt read two ways is two systems, and a score only says how the one read that way does.
package enum Reader: String, Sendable, Hashable, Codable, CaseIterable {
    /// The model generates its answer and the scorers read the text: what a deployed prompt does.
    case generate
    /// Label tasks: the label is read from the log-probabilities of the first answering token (past
    /// any token that is only whitespace), one or two tokens generated instead of a whole answer.
    /// Faster; it measures a classifier that reads the label the same way.
    case oneToken = "one-token"
    /// Label tasks: generation constrained to the labels (llama.cpp's grammar, vLLM's guided choice,
    /// a JSON schema with an enum for OpenAI and Ollama), as many deployed classifiers do.
    case choice

    /// The reader a run stored before readers were named was made with.
    package init(storedOneToken: Bool) {
        self = storedOneToken ? .oneToken : .generate
    }

    /// Whether it reads labels only (and so needs a label eval set).
    package var readsLabels: Bool { self != .generate }

    /// How the answers were read, for a report's heading.
    package var summary: String {
        switch self {
        case .generate: "answers generated and read by the scorers"
        case .oneToken: "labels read from one token's log-probabilities"
        case .choice: "answers constrained to the labels"
        }
    }

    /// How to deploy a prompt so that it is read as it was measured.
    package var deployment: String {
        switch self {
        case .generate:
            "send the prompt as it is and read the generated text the way the eval set's scorers do"
        case .oneToken:
            "ask for the first answering token with its top log-probabilities and take the label whose spelling has the most probability (past a whitespace-only token)"
        case .choice:
            "constrain the answer to the labels: a llama.cpp grammar, vLLM's guided_choice, or a JSON schema with the labels as an enum"
        }
    }
}

/// The text a completion prompt's answer is written as: what the model writes after the prompt,
/// the fine-tuning data teaches, and one-token reading expects, all the same.
package enum AnswerText {
    /// `answer` as it follows `prompt` (nil: a chat answer, written bare). After a prompt that
    /// ends in a word or punctuation of a spaced script (`Sentiment:`, `分類:`) it is preceded by a
    /// space; after whitespace, or after text without spaces (`分類：`, `です。`), it is not.
    package static func following(_ prompt: String?, _ answer: String) -> String {
        guard let prompt, let last = prompt.unicodeScalars.last, let first = answer.unicodeScalars.first else {
            return answer
        }
        if last.properties.isWhitespace || first.properties.isWhitespace || isUnspaced(last) { return answer }
        return " " + answer
    }

    /// Characters text is not spaced after: the scripts written without spaces, and CJK
    /// punctuation and full-width forms (`：`, `。`).
    static func isUnspaced(_ scalar: Unicode.Scalar) -> Bool {
        TextNormalizer.isSpacelessScript(scalar) || (0x3000...0x303F).contains(scalar.value)
            || (0xFF00...0xFFEF).contains(scalar.value)
    }
}
