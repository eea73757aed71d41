/// Label tasks answered in one token: the model generates a single token and the label is read
/// from that step's log-probabilities, not from generated text. It needs labels whose first
/// tokens differ (otherwise one token cannot tell them apart); in return each case costs one
/// generated token and comes with a probability for every label.
public enum OneTokenLabels {
    /// How many alternatives to ask for at the answering step: enough that every label's usual
    /// spellings (" positive", " Positive", "positive") are among them.
    public static let topLogprobs = 20

    /// The label scorer of `scorers` that `--one-token` scores from probabilities, or a sentence
    /// saying why the eval set cannot be scored that way.
    public static func labelScorer(_ scorers: [ScorerSpec], evalset: String) throws -> ScorerSpec {
        guard let label = scorers.first(where: { $0.kind == .label || $0.kind == .logprobLabel }) else {
            throw Refusal(
                "\(setting: "one-token") scores a label, but eval set \(evalset) has no label scorer; add {\"type\": \"label\", \"labels\": [...]} to its settings or score without \(setting: "one-token")"
            )
        }
        if let other = scorers.first(where: { $0.kind != .label && $0.kind != .logprobLabel }) {
            throw Refusal(
                "\(setting: "one-token") scores labels only, but eval set \(evalset) also has the \(other.name) scorer, which would read a one-token answer; score without \(setting: "one-token")"
            )
        }
        return label
    }

    /// The text whose tokens a label's answer begins with after `prompt`: a completion prompt
    /// that ends in a word character is followed by a space (the model writes " positive", not
    /// "positive"); after whitespace, in text without spaces, or in a chat answer, the bare label.
    public static func answerText(_ label: String, afterPrompt prompt: String?) -> String {
        guard let prompt, let last = prompt.unicodeScalars.last, let first = label.unicodeScalars.first else {
            return label
        }
        if last.properties.isWhitespace || TextNormalizer.isSpacelessScript(first)
            || TextNormalizer.isSpacelessScript(last)
        {
            return label
        }
        return " " + label
    }

    /// The first two labels whose answers begin with the same token (by token id), with that
    /// token's text; nil when every first token differs. `firstTokens` is in the labels' order.
    public static func sharedFirstToken(_ firstTokens: [(label: String, id: Int, piece: String)]) -> (
        String, String, piece: String
    )? {
        for (index, a) in firstTokens.enumerated() {
            if let b = firstTokens[(index + 1)...].first(where: { $0.id == a.id }) {
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
public struct OneTokenLabelScorer: Scorer {
    public let spec: ScorerSpec

    public init(spec: ScorerSpec) {
        self.spec = spec
    }

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        guard let logprobs, !logprobs.isEmpty else { return nil }
        if let scored = LogprobLabelScorer(spec: spec).score(output, expected: expected, logprobs: logprobs) {
            return scored
        }
        return .pass(false, detail: ["predicted": .null, "probabilities": .object([:])])
    }
}
