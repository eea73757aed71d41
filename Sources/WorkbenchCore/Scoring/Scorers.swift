import Foundation

/// One scorer's verdict on one output.
public struct Score: Sendable, Hashable {
    /// From 0 (wrong) to 1 (right); pass/fail scorers give exactly 0 or 1.
    public var value: Double
    /// Set by pass/fail scorers.
    public var passed: Bool?
    /// What the scorer saw: the label it found, the fields that matched, label probabilities.
    public var detail: JSONValue?

    public init(value: Double, passed: Bool? = nil, detail: JSONValue? = nil) {
        self.value = value
        self.passed = passed
        self.detail = detail
    }

    static func pass(_ passed: Bool, detail: JSONValue? = nil) -> Score {
        Score(value: passed ? 1 : 0, passed: passed, detail: detail)
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = ["value": .number(value)]
        if let passed { object["passed"] = .bool(passed) }
        if let detail { object["detail"] = detail }
        return .object(object)
    }

    public init?(json: JSONValue) {
        guard let value = json["value"]?.doubleValue else { return nil }
        self.init(value: value, passed: json["passed"]?.boolValue, detail: json["detail"])
    }
}

/// A way to score a model's output against the expected answer: the plug-in point for scorers.
public protocol Scorer: Sendable {
    var spec: ScorerSpec { get }

    /// The score, or nil when this output cannot be scored this way (no log-probabilities).
    func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score?

    /// As `score`, but an output the scorer could not finish with in bounded time is an error
    /// (`ScorerTooSlow`) rather than a failing score. What the engine calls.
    func checkedScore(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) throws -> Score?
}

extension Scorer {
    public func checkedScore(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) throws -> Score? {
        score(output, expected: expected, logprobs: logprobs)
    }
}

/// A scorer gave up on an output: its setting (a regular expression that backtracks
/// catastrophically, such as `(a+)+$`) would take far longer than any scoring should.
public struct ScorerTooSlow: Error, Sendable, Equatable, CustomStringConvertible {
    public var pattern: String
    public var seconds: Double

    public var description: String {
        "the regex pattern \"\(pattern)\" took longer than \(seconds) s on one output (it backtracks catastrophically); rewrite it without nested repetition such as (a+)+"
    }
}

/// Builds the scorer a spec names. `rubric` needs a judge model, so the engine scores it.
public enum Scorers {
    public static func make(_ spec: ScorerSpec) -> (any Scorer)? {
        switch spec.kind {
        case .exact: ExactScorer(spec: spec)
        case .normalized: NormalizedScorer(spec: spec)
        case .contains: ContainsScorer(spec: spec)
        case .regex: RegexScorer(spec: spec)
        case .label: LabelScorer(spec: spec)
        case .json: JSONFieldsScorer(spec: spec)
        case .numeric: NumericScorer(spec: spec)
        case .tokenF1: TokenF1Scorer(spec: spec)
        case .rougeL: RougeLScorer(spec: spec)
        case .chrf: ChrFScorer(spec: spec)
        case .levenshtein: LevenshteinScorer(spec: spec)
        case .logprobLabel: LogprobLabelScorer(spec: spec)
        case .rubric: nil
        }
    }
}

/// The output, stripped of surrounding whitespace, equals the expected text.
public struct ExactScorer: Scorer {
    public let spec: ScorerSpec

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        .pass(output.trimmingWhitespace() == expected.text.trimmingWhitespace())
    }
}

/// Equal after NFKC, case folding, dropping punctuation and collapsing whitespace.
public struct NormalizedScorer: Scorer {
    public let spec: ScorerSpec

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        .pass(TextNormalizer.normalize(output) == TextNormalizer.normalize(expected.text))
    }
}

/// The normalized output contains the normalized expected text.
public struct ContainsScorer: Scorer {
    public let spec: ScorerSpec

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        let needle = TextNormalizer.normalize(expected.text)
        return .pass(!needle.isEmpty && TextNormalizer.normalize(output).contains(needle))
    }
}

/// The output matches the settings' regular expression.
public struct RegexScorer: Scorer {
    public let spec: ScorerSpec
    private let expression: NSRegularExpression?

    init(spec: ScorerSpec) {
        self.spec = spec
        self.expression = try? NSRegularExpression(pattern: spec.pattern ?? "")
    }

    /// How long one output may take to match. A sound pattern matches a model's answer in
    /// microseconds; one that backtracks catastrophically would take years, holding the actor
    /// that also handles Ctrl-C.
    public static let timeLimit = 0.5

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        (try? checkedScore(output, expected: expected, logprobs: logprobs)) ?? .pass(false)
    }

    public func checkedScore(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) throws -> Score? {
        .pass(try matches(output, within: RegexScorer.timeLimit))
    }

    /// Whether `output` matches, giving up after `seconds` (or when the task is cancelled):
    /// ICU calls the progress block every few thousand steps of a long match, which stops it.
    func matches(_ output: String, within seconds: Double) throws -> Bool {
        guard let expression else { return false }
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var found = false
        var gaveUp = false
        expression.enumerateMatches(
            in: output, options: [.reportProgress], range: NSRange(output.startIndex..., in: output)
        ) { result, _, stop in
            if result != nil {
                found = true
                stop.pointee = true
            } else if ContinuousClock.now > deadline || Task.isCancelled {
                gaveUp = true
                stop.pointee = true
            }
        }
        if found { return true }
        if gaveUp {
            try Task.checkCancellation()
            throw ScorerTooSlow(pattern: spec.pattern ?? "", seconds: seconds)
        }
        return false
    }
}

/// Classification: finds which label the output gives, even in a verbose answer, and compares it
/// with the expected label. The detail records the label found (`predicted`), or none.
public struct LabelScorer: Scorer {
    public let spec: ScorerSpec
    private let normalizedLabels: [(label: String, normalized: String)]

    init(spec: ScorerSpec) {
        self.spec = spec
        self.normalizedLabels = spec.labels.map { ($0, TextNormalizer.normalize($0)) }
    }

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        let predicted = predict(output)
        let expectedLabel = label(matching: expected.text) ?? expected.text
        return .pass(predicted == expectedLabel, detail: ["predicted": predicted.map { .string($0) } ?? .null])
    }

    func label(matching text: String) -> String? {
        let normalized = TextNormalizer.normalize(text)
        return normalizedLabels.first { $0.normalized == normalized }?.label
    }

    /// The label the output states: the whole output, else the label mentioned first (as a
    /// whole word where words are spaced, anywhere in text without spaces).
    public func predict(_ output: String) -> String? {
        let text = TextNormalizer.normalize(output)
        if let exact = normalizedLabels.first(where: { $0.normalized == text }) { return exact.label }
        var best: (label: String, position: String.Index, length: Int)?
        for (label, normalized) in normalizedLabels where !normalized.isEmpty {
            var searchStart = text.startIndex
            while let range = text.range(of: normalized, range: searchStart..<text.endIndex) {
                if isWholeWord(range, in: text, label: normalized) {
                    // Earliest wins; at the same place, the longer label ("not spam" over "spam").
                    if best == nil || range.lowerBound < best!.position
                        || (range.lowerBound == best!.position && normalized.count > best!.length)
                    {
                        best = (label, range.lowerBound, normalized.count)
                    }
                    break
                }
                searchStart = text.index(after: range.lowerBound)
            }
        }
        return best?.label
    }

    private func isWholeWord(_ range: Range<String.Index>, in text: String, label: String) -> Bool {
        if let first = label.unicodeScalars.first, TextNormalizer.isSpacelessScript(first) { return true }
        let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
        let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
        let isWordCharacter = { (c: Character?) -> Bool in
            guard let c, let scalar = c.unicodeScalars.first else { return false }
            return (c.isLetter || c.isNumber) && !TextNormalizer.isSpacelessScript(scalar)
        }
        return !isWordCharacter(before) && !isWordCharacter(after)
    }
}

/// The output is JSON (the first object or array in it) and the listed fields equal the
/// expected ones (strings compared normalized, numbers by value).
public struct JSONFieldsScorer: Scorer {
    public let spec: ScorerSpec

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        guard let parsed = JSONFieldsScorer.extractJSON(output) else {
            return .pass(false, detail: ["valid": false])
        }
        let paths = spec.fields
        if paths.isEmpty {
            return .pass(JSONFieldsScorer.equal(parsed, expected), detail: ["valid": true])
        }
        var fields: [String: JSONValue] = [:]
        for path in paths {
            let got = parsed.value(atPath: path)
            let want = expected.value(atPath: path)
            fields[path] = .bool(got != nil && want != nil && JSONFieldsScorer.equal(got!, want!))
        }
        let allEqual = fields.values.allSatisfy { $0 == .bool(true) }
        return .pass(allEqual, detail: ["valid": true, "fields": .object(fields)])
    }

    /// The first JSON object or array in `text` (models often wrap it in prose or code fences).
    public static func extractJSON(_ text: String) -> JSONValue? {
        if let whole = try? JSONValue(parsing: text.trimmingWhitespace()),
            whole.objectValue != nil || whole.arrayValue != nil
        {
            return whole
        }
        let bytes = Array(text.utf8)
        for start in bytes.indices where bytes[start] == UInt8(ascii: "{") || bytes[start] == UInt8(ascii: "[") {
            var depth = 0
            var inString = false
            var escaped = false
            for index in start..<bytes.count {
                let b = bytes[index]
                if inString {
                    if escaped {
                        escaped = false
                    } else if b == UInt8(ascii: "\\") {
                        escaped = true
                    } else if b == UInt8(ascii: "\"") {
                        inString = false
                    }
                    continue
                }
                switch b {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        if let value = try? JSONValue(parsing: bytes[start...index]) { return value }
                        break
                    }
                default: break
                }
                if depth == 0 { break }
            }
        }
        return nil
    }

    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return TextNormalizer.normalize(x) == TextNormalizer.normalize(y)
        case (.number(let x), .number(let y)): return abs(x - y) < 1e-9
        case (.string(let x), .number(let y)), (.number(let y), .string(let x)):
            return Double(x.trimmingWhitespace()).map { abs($0 - y) < 1e-9 } ?? false
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            return x.keys.sorted() == y.keys.sorted() && x.allSatisfy { key, value in equal(value, y[key]!) }
        default: return a == b
        }
    }
}

/// The first number in the output is within `tolerance` of the expected number.
public struct NumericScorer: Scorer {
    public let spec: ScorerSpec

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        let want = expected.doubleValue ?? NumericScorer.firstNumber(expected.text)
        guard let want else { return .pass(false) }
        guard let got = NumericScorer.firstNumber(output) else { return .pass(false, detail: ["found": .null]) }
        return .pass(abs(got - want) <= spec.tolerance + 1e-12, detail: ["found": .number(got)])
    }

    /// The first number written in `text` (full-width digits and thousands separators allowed).
    public static func firstNumber(_ text: String) -> Double? {
        let normalized = text.precomposedStringWithCompatibilityMapping
        let pattern = try! NSRegularExpression(pattern: #"-?\d[\d,]*(\.\d+)?([eE][-+]?\d+)?|-?\.\d+"#)
        guard let match = pattern.firstMatch(in: normalized, range: NSRange(normalized.startIndex..., in: normalized)),
            let range = Range(match.range, in: normalized)
        else { return nil }
        return Double(normalized[range].replacingOccurrences(of: ",", with: ""))
    }
}

/// The F1 of shared tokens (words, or characters in text without spaces), SQuAD-style.
public struct TokenF1Scorer: Scorer {
    public let spec: ScorerSpec

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        Score(value: TokenF1Scorer.f1(TextNormalizer.tokens(output), TextNormalizer.tokens(expected.text)))
    }

    public static func f1(_ predicted: [String], _ reference: [String]) -> Double {
        if predicted.isEmpty && reference.isEmpty { return 1 }
        guard !predicted.isEmpty, !reference.isEmpty else { return 0 }
        var counts: [String: Int] = [:]
        for token in reference { counts[token, default: 0] += 1 }
        var common = 0
        for token in predicted where (counts[token] ?? 0) > 0 {
            counts[token]! -= 1
            common += 1
        }
        guard common > 0 else { return 0 }
        let precision = Double(common) / Double(predicted.count)
        let recall = Double(common) / Double(reference.count)
        return 2 * precision * recall / (precision + recall)
    }
}

/// ROUGE-L: the F1 of the longest common subsequence of tokens.
public struct RougeLScorer: Scorer {
    public let spec: ScorerSpec

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        let predicted = TextNormalizer.tokens(output)
        let reference = TextNormalizer.tokens(expected.text)
        if predicted.isEmpty && reference.isEmpty { return Score(value: 1) }
        guard !predicted.isEmpty, !reference.isEmpty else { return Score(value: 0) }
        let lcs = Double(EditDistance.longestCommonSubsequence(predicted, reference))
        guard lcs > 0 else { return Score(value: 0) }
        let precision = lcs / Double(predicted.count)
        let recall = lcs / Double(reference.count)
        return Score(value: 2 * precision * recall / (precision + recall))
    }
}

/// chrF (Popović 2015): the F-score (β = 2) of character n-grams, n = 1…6, averaged over n,
/// whitespace ignored.
public struct ChrFScorer: Scorer {
    public let spec: ScorerSpec

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        Score(value: ChrFScorer.chrF(output, expected.text))
    }

    public static func chrF(_ hypothesis: String, _ reference: String, maxN: Int = 6, beta: Double = 2) -> Double {
        let hyp = Array(hypothesis.filter { !$0.isWhitespace })
        let ref = Array(reference.filter { !$0.isWhitespace })
        if hyp.isEmpty && ref.isEmpty { return 1 }
        guard !hyp.isEmpty, !ref.isEmpty else { return 0 }
        var precisions: [Double] = []
        var recalls: [Double] = []
        for n in 1...maxN {
            guard hyp.count >= n, ref.count >= n else { continue }
            var refCounts: [String: Int] = [:]
            for i in 0...(ref.count - n) { refCounts[String(ref[i..<(i + n)]), default: 0] += 1 }
            var matches = 0
            var hypCounts: [String: Int] = [:]
            for i in 0...(hyp.count - n) { hypCounts[String(hyp[i..<(i + n)]), default: 0] += 1 }
            for (gram, count) in hypCounts { matches += min(count, refCounts[gram] ?? 0) }
            precisions.append(Double(matches) / Double(hyp.count - n + 1))
            recalls.append(Double(matches) / Double(ref.count - n + 1))
        }
        guard !precisions.isEmpty else { return 0 }
        let p = Statistics.mean(precisions)
        let r = Statistics.mean(recalls)
        guard p + r > 0 else { return 0 }
        let b2 = beta * beta
        return (1 + b2) * p * r / (b2 * p + r)
    }
}

/// One minus the character edit distance over the longer length, on normalized text.
public struct LevenshteinScorer: Scorer {
    public let spec: ScorerSpec

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        let a = Array(TextNormalizer.normalize(output))
        let b = Array(TextNormalizer.normalize(expected.text))
        let longest = max(a.count, b.count)
        guard longest > 0 else { return Score(value: 1) }
        return Score(value: 1 - Double(EditDistance.levenshtein(a, b)) / Double(longest))
    }
}

/// Classification from log-probabilities: the probability the model gives each label at the
/// first token where it answers, renormalized over the labels. Passes when the most probable
/// label is the expected one; the detail keeps the probabilities for log-loss and calibration.
public struct LogprobLabelScorer: Scorer {
    public let spec: ScorerSpec

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        guard let logprobs, let distribution = LogprobLabelScorer.distribution(logprobs, labels: spec.labels) else {
            return nil
        }
        let expectedLabel =
            spec.labels.first { TextNormalizer.normalize($0) == TextNormalizer.normalize(expected.text) }
            ?? expected.text
        let predicted = spec.labels.max { distribution[$0]! < distribution[$1]! }!
        let probabilities = JSONValue.object(distribution.mapValues { .number($0) })
        return .pass(
            predicted == expectedLabel,
            detail: [
                "predicted": .string(predicted), "confidence": .number(distribution[predicted]!),
                "p_expected": .number(distribution[expectedLabel] ?? 0), "probabilities": probabilities,
            ])
    }

    /// Label probabilities from the top alternatives at the first generated token that is not
    /// whitespace: each alternative counts for the labels it begins. Nil when none does.
    public static func distribution(_ logprobs: [TokenLogprob], labels: [String]) -> [String: Double]? {
        let position = logprobs.first { !$0.token.trimmingWhitespace().isEmpty } ?? logprobs.first
        guard let position else { return nil }
        let normalizedLabels = labels.map { ($0, TextNormalizer.normalize($0)) }
        var mass: [String: Double] = Dictionary(uniqueKeysWithValues: labels.map { ($0, 0) })
        var alternatives = position.top
        if !alternatives.contains(where: { $0.token == position.token }) {
            alternatives.append(.init(token: position.token, logprob: position.logprob))
        }
        for alternative in alternatives {
            let token = TextNormalizer.normalize(alternative.token)
            guard !token.isEmpty else { continue }
            let matching = normalizedLabels.filter { $0.1.hasPrefix(token) || token.hasPrefix($0.1) }
            guard !matching.isEmpty else { continue }
            let probability = exp(alternative.logprob) / Double(matching.count)
            for (label, _) in matching { mass[label]! += probability }
        }
        let total = mass.values.reduce(0, +)
        guard total > 0 else { return nil }
        return mass.mapValues { $0 / total }
    }
}
