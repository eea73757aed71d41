import Foundation
import Testing
import WorkbenchCore

@Suite struct OneTokenLabelTests {
    static func spec(_ labels: [String]) -> ScorerSpec {
        ScorerSpec(LabelScorer(labels: labels))
    }

    static let sentiment = OneTokenLabelScorer(labels: ["positive", "negative"])

    /// One generated token with its alternatives.
    static func step(_ chosen: String, _ top: [(String, Double)]) -> [TokenLogprob] {
        [
            TokenLogprob(
                token: chosen, logprob: top.first { $0.0 == chosen }?.1 ?? -9,
                top: top.map { .init(token: $0.0, logprob: $0.1) })
        ]
    }

    @Test func theLabelIsTheOneWithTheMostProbabilityNotTheTokenGenerated() throws {
        // The model's own first token is a bare space; the labels' spellings are summed and
        // renormalized over the labels: positive 0.20 + 0.10, negative 0.15.
        let logprobs = Self.step(
            " ", [(" ", log(0.4)), (" Positive", log(0.2)), (" negative", log(0.15)), (" positive", log(0.1))])
        let score = try #require(Self.sentiment.score(" ", expected: "positive", logprobs: logprobs))
        #expect(score.passed == true)
        #expect(score.detail?["predicted"] == "positive")
        let pPositive = try #require(score.detail?["probabilities"]?["positive"]?.doubleValue)
        #expect(abs(pPositive - 0.3 / 0.45) < 1e-12)
        #expect(abs((score.detail?["p_expected"]?.doubleValue ?? 0) - 0.3 / 0.45) < 1e-12)
        let wrong = try #require(Self.sentiment.score(" ", expected: "negative", logprobs: logprobs))
        #expect(wrong.passed == false)
        #expect(abs((wrong.detail?["p_expected"]?.doubleValue ?? 0) - 0.15 / 0.45) < 1e-12)
    }

    @Test func aStepWithoutAnyLabelFailsWithNoLabelPredicted() throws {
        let logprobs = Self.step(" I", [(" I", log(0.6)), (" The", log(0.3))])
        let score = try #require(Self.sentiment.score(" I", expected: "positive", logprobs: logprobs))
        #expect(score.passed == false)
        #expect(score.detail?["predicted"] == .null)
    }

    @Test func anAnswerWithoutLogprobsCannotBeScored() {
        #expect(Self.sentiment.score(" positive", expected: "positive", logprobs: nil) == nil)
        #expect(Self.sentiment.score(" positive", expected: "positive", logprobs: []) == nil)
    }

    @Test func japaneseLabelsAreReadFromTheirFirstToken() throws {
        let scorer = OneTokenLabelScorer(labels: ["配送", "返品", "支払い", "アカウント"])
        let logprobs = Self.step("返品", [("返品", log(0.5)), ("配送", log(0.3)), ("支払", log(0.1)), ("。", log(0.05))])
        let score = try #require(scorer.score("返品", expected: "返品", logprobs: logprobs))
        #expect(score.passed == true)
        #expect(abs((score.detail?["probabilities"]?["支払い"]?.doubleValue ?? 0) - 0.1 / 0.9) < 1e-12)
    }

    @Test(
        arguments: [
            ("positive", "Sentiment:", " positive"), ("positive", "Sentiment: ", "positive"),
            ("positive", "Answer:\n", "positive"), ("positive", nil, "positive"),
            // After an ASCII colon a space, as the few-shot examples and the fine-tuning data write it;
            // after CJK punctuation or text without spaces, none.
            ("配送", "分類:", " 配送"), ("配送", "分類：", "配送"), ("配送", "です。", "配送"), ("Yes", "担当は", "Yes"),
        ] as [(String, String?, String)])
    func theLabelIsTokenizedAsItWouldFollowThePrompt(label: String, prompt: String?, expected: String) {
        #expect(OneTokenLabels.answerText(label, afterPrompt: prompt) == expected)
    }

    @Test func labelsSharingAFirstTokenAreNamed() throws {
        let distinct = [("positive", 4414, " positive"), ("negative", 5676, " negative")]
        #expect(OneTokenLabels.sharedFirstToken(distinct.map { ($0.0, $0.1, $0.2) }) == nil)
        let shared = [("very good", 7, " very"), ("bad", 9, " bad"), ("very bad", 7, " very")]
        let found = try #require(OneTokenLabels.sharedFirstToken(shared.map { ($0.0, $0.1, $0.2) }))
        #expect(found.0 == "very good" && found.1 == "very bad" && found.piece == " very")
    }

    @Test func onlyLabelScorersCanBeScoredFromOneToken() throws {
        let label = Self.spec(["yes", "no"])
        #expect(try OneTokenLabels.labelScorer([label], evalset: "e") == label)
        #expect(throws: Refusal.self) { try OneTokenLabels.labelScorer([ScorerSpec(ExactScorer())], evalset: "e") }
        do {
            _ = try OneTokenLabels.labelScorer([label, ScorerSpec(ContainsScorer())], evalset: "e")
            Issue.record("a contains scorer beside the labels was accepted")
        } catch let error as Refusal {
            #expect(error.description.contains("the contains scorer"))
        }
    }
}
