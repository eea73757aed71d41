import Foundation

/// One scorer's verdict on one output.
package struct Score: Sendable, Hashable {
    /// From 0 (wrong) to 1 (right); pass/fail scorers give exactly 0 or 1.
    package var value: Double
    /// Set by pass/fail scorers.
    package var passed: Bool?
    /// What the scorer saw: the label it found, the fields that matched, label probabilities.
    package var detail: JSONValue?

    package init(value: Double, passed: Bool? = nil, detail: JSONValue? = nil) {
        self.value = value
        self.passed = passed
        self.detail = detail
    }

    static func pass(_ passed: Bool, detail: JSONValue? = nil) -> Score {
        Score(value: passed ? 1 : 0, passed: passed, detail: detail)
    }

    package var json: JSONValue {
        var object: [String: JSONValue] = ["value": .number(value)]
        if let passed { object["passed"] = .bool(passed) }
        if let detail { object["detail"] = detail }
        return .object(object)
    }

    package init?(json: JSONValue) {
        guard let value = json["value"]?.doubleValue else { return nil }
        self.init(value: value, passed: json["passed"]?.boolValue, detail: json["detail"])
    }
}

/// Scores one answer against the expected one: what the engine calls for every case.
package protocol AnswerScorer: Sendable {
    /// The score, or nil when this output cannot be scored this way (no log-probabilities).
    func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score?

    /// As `score`, but an output the scorer could not finish with in bounded time is an error
    /// (`ScorerTooSlow`) rather than a failing score. What the engine calls.
    func checkedScore(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) throws -> Score?
}

extension AnswerScorer {
    package func checkedScore(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) throws -> Score? {
        score(output, expected: expected, logprobs: logprobs)
    }
}

/// A kind of scorer an eval set's settings can name: the plug-in point for scorers. Each kind says
/// in one place what the settings file calls it, whether it is pass/fail, its settings and how
/// they are read, its baseline, whether it needs log-probabilities and how it scores. A value is
/// one scorer with its settings; `Scorers.all` lists the kinds.
package protocol Scorer: AnswerScorer {
    /// Its `"type"` in a settings file's `scorers` list, and its name in reports and stored scores.
    static var name: String { get }
    /// Pass/fail scorers give 0 or 1 per case; the others give a fraction.
    static var isPassFail: Bool { get }
    /// The settings it takes besides `"type"`; any other key is an error. None by default.
    static var settingKeys: [String] { get }
    /// Whether it reads log-probabilities, so every request asks for them. False by default.
    static var needsLogprobs: Bool { get }

    /// Reads and checks its settings.
    /// - Parameters:
    ///   - settings: the scorer's entry, `"type"` included; only `settingKeys` besides it.
    ///   - labels: the eval set's `labels`, for scorers that take them when the entry lists none.
    ///   - field: where the entry is (`scorers[0]`), for errors that name the field.
    /// - Throws: `InputError` naming the setting that is wrong.
    init(settings: [String: JSONValue], labels: [String], field: String) throws

    /// Its settings as a settings file writes them, `"type"` left out. None by default.
    var settings: [String: JSONValue] { get }
    /// The labels it reads an answer as, for label tasks; empty (the default) for other scorers.
    var labels: [String] { get }
    /// What a trivial strategy scores, the bar a report reads its score against. None by default.
    var baseline: ScorerBaseline { get }
    /// Adds what this kind reports beyond the mean (macro-F1, calibration, per-field accuracy) from
    /// the scores it gave and the expected answers they were given against. Nothing by default.
    func summarize(_ scored: [(score: Score, expected: JSONValue)], into summary: inout ScorerSummary)
    /// Itself when a judge model grades its answers; nil (the default) when it reads them itself.
    var judged: (any JudgedScorer)? { get }
}

extension Scorer {
    package static var settingKeys: [String] { [] }
    package static var needsLogprobs: Bool { false }
    package var settings: [String: JSONValue] { [:] }
    package var labels: [String] { [] }
    package var baseline: ScorerBaseline { .none }
    package func summarize(_ scored: [(score: Score, expected: JSONValue)], into summary: inout ScorerSummary) {}
    package var judged: (any JudgedScorer)? { nil }
}

/// A scorer that takes no settings.
package protocol PlainScorer: Scorer {
    init()
}

extension PlainScorer {
    package init(settings: [String: JSONValue], labels: [String], field: String) {
        self.init()
    }
}

/// A scorer whose one setting is its labels (`label`, `logprob_label`): parsed, written back and
/// its baseline (the predicted label against chance and the majority) alike.
package protocol LabelListScorer: Scorer {
    init(labels: [String])
    var labels: [String] { get }
}

extension LabelListScorer {
    package static var settingKeys: [String] { ["labels"] }

    package init(settings: [String: JSONValue], labels: [String], field: String) throws {
        self.init(labels: try LabelSettings.parse(settings, default: labels, field: field, scorer: Self.name))
    }

    package var settings: [String: JSONValue] { LabelSettings.json(labels) }
    package var baseline: ScorerBaseline { .predictedLabel(labels: labels) }
}

/// A scorer whose grade comes from a judge model: it gives the engine the request to answer for a
/// case, and reads the grade from the answer. The engine sends the request to the run's base model.
package protocol JudgedScorer: Scorer {
    /// The request a judge answers to grade `output`, the answer to a case with this input and
    /// expected answer. Its text and parameters are the judgement's cache key.
    func judgement(input: String, expected: JSONValue, output: String) -> Judgement
    /// The grade in the judge's answer, or nil when it gave none.
    func grade(_ judgeAnswer: String) -> Score?
    /// Why an answer is unscored when the judge's answer gave no grade.
    func ungraded(_ judgeAnswer: String) -> String
}

extension JudgedScorer {
    package var judged: (any JudgedScorer)? { self }

    /// A judged scorer cannot score an answer alone.
    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? { nil }
}

/// A request for a judge model: the prompt and the sampling parameters it is asked with.
package struct Judgement: Sendable, Hashable {
    package var prompt: String
    package var maxTokens: Int
    package var temperature: Double
    package var stop: [String]

    package init(prompt: String, maxTokens: Int, temperature: Double, stop: [String]) {
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.stop = stop
    }
}

/// What a trivial strategy scores on a scorer: the baseline a report reads its score against.
package enum ScorerBaseline: Sendable {
    /// No baseline (the scorer checks something no trivial answer stands for).
    case none
    /// Chance, the majority label and collapse over `labels`, read from each score's `predicted`
    /// label (`LabelBaseline`).
    case predictedLabel(labels: [String])
    /// Chance, the majority answer and collapse over the answers themselves, each read in `form`,
    /// when the expected answers are a closed set (`LabelBaseline.closedSet`).
    case answerSet(form: @Sendable (String) -> String)
    /// The better of an empty answer and a copy of the case's input (`TrivialFloor`), for scorers
    /// that give partial credit.
    case trivialFloor

    /// Whether the baseline reads the outputs themselves, not only their scores.
    package var readsOutputs: Bool {
        if case .answerSet = self { return true }
        return false
    }
}

/// A scorer gave up on an output: its setting (a regular expression that backtracks
/// catastrophically, such as `(a+)+$`) would take far longer than any scoring should.
package struct ScorerTooSlow: Error, Sendable, Equatable, CustomStringConvertible {
    package var pattern: String
    package var seconds: Double

    package var description: String {
        "the regex pattern \"\(pattern)\" took longer than \(seconds) s on one output (it backtracks catastrophically); rewrite it without nested repetition such as (a+)+"
    }
}
