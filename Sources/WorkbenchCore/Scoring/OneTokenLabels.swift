/// Label tasks answered in one token: the model generates a single token and the label is read
/// from that step's log-probabilities, not from generated text. It needs labels whose first
/// tokens differ (otherwise one token cannot tell them apart); in return each case costs one
/// generated token and comes with a probability for every label.
package enum OneTokenLabels {
    /// How many alternatives to ask for at the answering step: enough that every label's usual
    /// spellings (" positive", " Positive", "positive") are among them.
    package static let topLogprobs = 20

    /// The label scorer of `scorers` that a label `reader` (one token, or a choice of the labels)
    /// reads, or a sentence saying why the eval set cannot be read that way.
    package static func labelScorer(_ scorers: [ScorerSpec], evalset: String, reader: Reader = .oneToken) throws
        -> ScorerSpec
    {
        guard let label = scorers.first(where: \.readsLabels) else {
            throw Refusal(
                "\(setting: "reader") \(reader.rawValue) reads a label, but eval set \(evalset) has no label scorer; add {\"type\": \"label\", \"labels\": [...]} to its settings or read with \(setting: "reader") generate"
            )
        }
        if let other = scorers.first(where: { !$0.readsLabels }) {
            throw Refusal(
                "\(setting: "reader") \(reader.rawValue) reads labels only, but eval set \(evalset) also has the \(other.name) scorer, which would read its answer; read with \(setting: "reader") generate"
            )
        }
        return label
    }

    /// The text a label's answer is written as after `prompt` (`AnswerText.following`): the
    /// model writes " positive" after `Sentiment:` and " 返品" after `分類:`.
    package static func answerText(_ label: String, afterPrompt prompt: String?) -> String {
        AnswerText.following(prompt, label)
    }

    /// Where a label's answer is read: its first token that is not only whitespace. Gemma's
    /// tokenizer writes " 返品" as a bare space and then 返品, so the label shows only at the
    /// second step; " positive" is one token and shows at the first.
    /// - Parameter pieces: the answer's tokens as text (an empty piece is a token the server did
    ///   not spell, taken as answering).
    /// - Returns: its index, which is how many whitespace-only tokens come before it; nil when
    ///   every token is whitespace.
    package static func answeringIndex(_ pieces: [String]) -> Int? {
        pieces.firstIndex { $0.isEmpty || !$0.trimmingWhitespace().isEmpty }
    }

    /// The tokens a one-token request generates to reach the answering step after `lead`
    /// whitespace-only tokens. A server without a tokenizer to ask is given one token of lead.
    package static func maxTokens(lead: Int?) -> Int { 1 + min(lead ?? 1, 4) }

    /// The first two labels whose answers begin with the same answering token (by token id), with
    /// that token's text; nil when every one differs. `answering` is in the labels' order.
    package static func sharedFirstToken(_ answering: [(label: String, id: Int, piece: String)]) -> (
        String, String, piece: String
    )? {
        for (index, a) in answering.enumerated() {
            if let b = answering[(index + 1)...].first(where: { $0.id == a.id }) {
                return (a.label, b.label, a.piece)
            }
        }
        return nil
    }
}

/// The label scorer of a `--one-token` run: the label is the one the model gives the most
/// probability at its one generated step (alternatives renormalized over the labels, as
/// `LogprobLabelScorer` does). A step where no label is among the alternatives fails with no
/// label predicted; an answer without log-probabilities cannot be scored (nil).
package struct OneTokenLabelScorer: AnswerScorer {
    package let labels: [String]

    package init(labels: [String]) {
        self.labels = labels
    }

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        guard let logprobs, !logprobs.isEmpty else { return nil }
        if let scored = LogprobLabelScorer(labels: labels).score(output, expected: expected, logprobs: logprobs) {
            return scored
        }
        return .pass(false, detail: ["predicted": .null, "probabilities": .object([:])])
    }
}
