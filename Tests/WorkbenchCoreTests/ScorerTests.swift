import Foundation
import Testing
import WorkbenchCore

/// The scorer a settings file names, with no settings.
func scorer(_ name: String) -> any Scorer {
    try! Scorers.kind(named: name)!.init(settings: [:], labels: [], field: "scorers[0]")
}

struct ScorerTests {
    @Test(arguments: [
        ("exact", " positive\n", "positive", true),
        ("exact", "Positive", "positive", false),
        ("normalized", "  POSITIVE!! ", "positive", true),
        ("normalized", "ＡＢＣ　１２３", "abc 123", true),
        ("normalized", "配送。", "配送", true),
        ("contains", "The answer is Muster Point B.", "Muster Point B", true),
        ("contains", "It is 27 days", "27", true),
        ("contains", "unknown", "27", false),
        ("contains", "はい、返品です", "返品", true),
    ])
    func textScorers(kind: String, output: String, expected: String, passed: Bool) {
        let score = scorer(kind).score(output, expected: .string(expected), logprobs: nil)
        #expect(score?.passed == passed)
        #expect(score?.value == (passed ? 1 : 0))
    }

    @Test(
        arguments: [
            (" positive", "positive", "positive"),
            (" I think this review is negative overall.", "negative", "negative"),
            ("Not positive — negative.", "positive", "positive"),
            (" unclear", "positive", nil),
            (" Positively great", "positive", nil),
            (" 配送", "配送", "配送"),
            ("これは返品の問い合わせです", "返品", "返品"),
            ("分類: 支払い。", "支払い", "支払い"),
            ("ＡＣＣＯＵＮＴ", "account", "account"),
        ] as [(String, String, String?)])
    func labelFindsTheLabelInAVerboseAnswer(output: String, expected: String, predicted: String?) {
        let labels = LabelScorer(labels: ["positive", "negative", "配送", "返品", "支払い", "account"])
        let score = labels.score(output, expected: .string(expected), logprobs: nil)!
        #expect(score.detail?["predicted"]?.stringValue == predicted)
        #expect(score.passed == (predicted == expected))
    }

    @Test func jsonComparesTheListedFields() {
        let json = JSONFieldsScorer(fields: ["name", "quantity", "address.city"])
        let expected: JSONValue = ["name": "Maria Lopez", "quantity": 2, "address": ["city": "Porto"]]
        let right = json.score(
            #"Sure! ```json {"name": "maria lopez", "quantity": "2", "address": {"city": "Porto"}} ```"#,
            expected: expected, logprobs: nil)!
        #expect(right.passed == true)
        let wrong = json.score(
            #"{"name": "Maria Lopez", "quantity": 3, "address": {"city": "Porto"}}"#, expected: expected, logprobs: nil)!
        #expect(wrong.passed == false)
        #expect(wrong.detail?["fields"]?["quantity"] == false)
        #expect(wrong.detail?["fields"]?["name"] == true)
        let invalid = json.score("name: Maria", expected: expected, logprobs: nil)!
        #expect(invalid.detail?["valid"] == false)
    }

    @Test(arguments: [
        ("About 41.5 degrees", 42.0, 0.5, true), ("41.4", 42.0, 0.5, false), ("１，２００ yen", 1200.0, 0.0, true),
        ("no number", 3.0, 0.0, false), ("-3e2", -300.0, 0.0, true),
    ])
    func numericAllowsATolerance(output: String, expected: Double, tolerance: Double, passed: Bool) {
        let numeric = NumericScorer(tolerance: tolerance)
        #expect(numeric.score(output, expected: .number(expected), logprobs: nil)?.passed == passed)
    }

    @Test func regexMatchesThePattern() {
        let regex = RegexScorer(pattern: #"^\s*(yes|no)\b"#)
        #expect(regex.score(" yes, it is", expected: "yes", logprobs: nil)?.passed == true)
        #expect(regex.score("maybe", expected: "yes", logprobs: nil)?.passed == false)
    }

    // Reference values: sacrebleu 2.x `CHRF().sentence_score(h, [r]).score / 100` and
    // rouge-score `RougeScorer(['rougeL']).score(r, h)['rougeL'].fmeasure`.
    @Test(arguments: [
        ("the cat sat on the mat", "the cat is on the mat", 0.645779420625287),
        ("配送はいつですか", "配送日はいつですか", 0.577472042667675),
        ("abc", "xyz", 0.0),
        ("Harbor Lane", "Harbor Lane Instruments", 0.45481630154773944),
    ])
    func chrFMatchesSacrebleu(hypothesis: String, reference: String, expected: Double) {
        #expect(abs(ChrFScorer.chrF(hypothesis, reference) - expected) < 1e-9)
    }

    @Test(arguments: [
        ("the cat sat on the mat", "the cat is on the mat", 0.8333333333333334),
        ("police killed the gunman", "the gunman was shot down by police", 0.36363636363636365),
    ])
    func rougeLMatchesRougeScore(hypothesis: String, reference: String, expected: Double) {
        #expect(
            abs(scorer("rouge_l").score(hypothesis, expected: .string(reference), logprobs: nil)!.value - expected)
                < 1e-9
        )
    }

    @Test func tokenMeasuresWorkWithoutSpaces() {
        // 配送日はいつ vs 配送はいつ: characters 配送はいつ are shared (5 of 6 and 5 of 5).
        let f1 = scorer("token_f1").score("配送日はいつ", expected: "配送はいつ", logprobs: nil)!.value
        #expect(abs(f1 - 2 * (5.0 / 6) * 1 / (5.0 / 6 + 1)) < 1e-12)
        #expect(scorer("token_f1").score("The Tide Table", expected: "Tide Table", logprobs: nil)!.value == 0.8)
        #expect(scorer("rouge_l").score("返品したい", expected: "返品", logprobs: nil)!.value > 0.5)
        #expect(scorer("levenshtein").score("kitten", expected: "sitting", logprobs: nil)!.value == 1 - 3.0 / 7)
        #expect(scorer("levenshtein").score("配送", expected: "配達", logprobs: nil)!.value == 0.5)
        #expect(scorer("levenshtein").score("😀👍", expected: "😀👍", logprobs: nil)!.value == 1)
    }

    @Test func logprobLabelsComeFromTheFirstAnsweringToken() throws {
        let logprobLabel = LogprobLabelScorer(labels: ["positive", "negative"])
        let logprobs = [
            TokenLogprob(token: " ", logprob: -0.1, top: [.init(token: " ", logprob: -0.1)]),
            TokenLogprob(
                token: "neg", logprob: -0.5,
                top: [
                    .init(token: "neg", logprob: -0.5), .init(token: "pos", logprob: -1.5),
                    .init(token: "maybe", logprob: -2),
                ]),
        ]
        let score = try #require(
            logprobLabel.score("negative", expected: "negative", logprobs: logprobs))
        #expect(score.passed == true)
        let pNegative = try #require(score.detail?["probabilities"]?["negative"]?.doubleValue)
        #expect(abs(pNegative - 1 / (1 + exp(-1.0))) < 1e-12)
        #expect(logprobLabel.score("x", expected: "positive", logprobs: nil) == nil)
    }

    @Test func summariesCarryMacroF1ConfusionLogLossAndCalibration() {
        let label = LabelScorer(labels: ["a", "b"])
        let outputs = ["a", "a", "b", "x", "b", "b"]
        let expected: [JSONValue] = ["a", "a", "a", "a", "b", "b"]
        let scores = zip(outputs, expected).map { label.score($0, expected: $1, logprobs: nil) }
        let summary = ScoreAggregation.summarize(spec: ScorerSpec(label), scores: scores, expected: expected)
        #expect(summary.confusion == [[2, 1, 1], [0, 2, 0]])
        // F1(a) = 2·1·0.5/1.5 = 2/3; F1(b) = 2·(2/3)·1/(5/3) = 0.8.
        #expect(abs(summary.macroF1! - (2.0 / 3 + 0.8) / 2) < 1e-12)
        #expect(summary.interval.estimate == 4.0 / 6)
        #expect(
            abs(
                ScoreAggregation.expectedCalibrationError(
                    confidences: [0.9, 0.9, 0.6, 0.6], correct: [true, false, true, true]) - 0.4) < 1e-12)
    }

    @Test func eachKindIsListedOnceInTheOrderMessagesGiveThem() {
        let names = Scorers.all.map { $0.name }
        #expect(Set(names).count == names.count)
        #expect(
            names.starts(with: [
                "exact", "normalized", "contains", "regex", "label", "json", "numeric", "token_f1", "rouge_l", "chrf",
                "levenshtein", "rubric", "logprob_label",
            ]))
    }

    @Test(arguments: [
        #"{"type": "exact"}"#, #"{"type": "regex", "pattern": "^a"}"#, #"{"labels": ["a", "b"], "type": "label"}"#,
        #"{"fields": ["x.y"], "type": "json"}"#, #"{"tolerance": 0.5, "type": "numeric"}"#, #"{"type": "chrf"}"#,
        #"{"rubric": "Polite", "type": "rubric"}"#, #"{"labels": ["a", "b"], "type": "logprob_label"}"#,
    ])
    func aSpecIsWrittenAsItWasRead(text: String) throws {
        let entry = try JSONValue(parsing: text)
        let spec = try ScorerSpec(parsing: entry, labels: [], field: "scorers[0]")
        #expect(spec.name == entry["type"]?.stringValue)
        #expect(spec.json == entry)
    }

    /// The judge's request is part of its cache key: a change to its text or parameters asks every
    /// cached judgement again.
    @Test func theJudgeIsAskedExactlyThis() {
        let judgement = RubricScorer(rubric: "Polite").judgement(input: "q\nr", expected: 3, output: " o ")
        #expect(
            judgement.prompt
                == "You are grading an answer against a rubric.\n\nRubric: Polite\n\nTask input:\nq\nr\n\n"
                + "Reference answer: 3\n\nAnswer to grade: o\n\nGrade the answer from 1 (fails the rubric) to 5 "
                + "(fully meets it). Reply with the grade only.\nGrade:")
        #expect(judgement.maxTokens == 4 && judgement.temperature == 0 && judgement.stop == ["\n"])
    }

    @Test func rubricGradesAreReadFromTheJudge() {
        let rubric = RubricScorer(rubric: "Polite")
        #expect(rubric.grade(" 4")?.value == 0.75)
        #expect(rubric.grade("Grade: 1/5")?.value == 0)
        #expect(rubric.grade("excellent") == nil)
        #expect(rubric.judgement(input: "q", expected: "e", output: " o ").prompt.contains("Answer to grade: o\n"))
    }
}

/// The regex scorer's time bound.
struct RegexTimeLimitTests {
    @Test func aCatastrophicMatchGivesUpWithinItsLimit() throws {
        let scorer = RegexScorer(pattern: "(a+)+$")
        let output = String(repeating: "a", count: 40) + "b"
        let started = Date()
        let error = #expect(throws: ScorerTooSlow.self) {
            try scorer.checkedScore(output, expected: "", logprobs: nil)
        }
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(error?.pattern == "(a+)+$" && error?.seconds == RegexScorer.timeLimit)
        #expect(scorer.score(output, expected: "", logprobs: nil)?.passed == false)
        #expect(try scorer.checkedScore("aaa", expected: "", logprobs: nil)?.passed == true)
    }
}
