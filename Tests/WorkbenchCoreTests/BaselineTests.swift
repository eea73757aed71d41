import Testing
import WorkbenchCore

/// Reference p-values computed with scipy 1.17:
/// `scipy.stats.binomtest(k, n, p, alternative='greater').pvalue`.
struct BaselineTests {
    @Test(arguments: [
        (7, 10, 0.5, 0.171875), (50, 200, 0.2, 0.049353332381818014), (52, 200, 0.2, 0.023572835515663176),
        (140, 200, 0.2, 1.682313513207741e-52), (45, 200, 0.2, 0.21126169171459824), (0, 10, 0.3, 1.0),
        (10, 10, 0.3, 5.9048999999999975e-06), (3, 3, 0.5, 0.125), (60, 100, 0.5, 0.028443966820490444),
        (130, 200, 0.6, 0.08439778204121158), (500, 1000, 0.48, 0.10858106325437784),
        (60, 200, 0.3, 0.52665254063407),
    ])
    func binomialUpperTailMatchesScipy(successes: Int, trials: Int, probability: Double, p: Double) {
        let tail = Statistics.binomialUpperTail(successes: successes, trials: trials, probability: probability)
        #expect(abs(tail - p) <= 1e-9 * max(p, 1e-40) + 1e-14, "\(successes)/\(trials) at \(probability): \(tail)")
    }

    @Test func binomialEdgesAreCertainOrImpossible() {
        #expect(Statistics.binomialUpperTail(successes: 5, trials: 5, probability: 1) == 1)
        #expect(Statistics.binomialUpperTail(successes: 1, trials: 5, probability: 0) == 0)
        #expect(Statistics.binomialUpperTail(successes: 0, trials: 0, probability: 0.5) == 1)
    }

    @Test func chanceIsOneOverTheLabelsAndTheMajorityIsTheCommonestExpectedLabel() {
        // 12 cases, 8 passing; "a" is expected in 6 of them.
        let expected = ["a", "a", "a", "a", "a", "a", "b", "b", "b", "c", "c", "d"]
        let answers: [String?] = ["a", "a", "a", "a", "b", "b", "b", "b", "b", "c", nil, "c"]
        let passed = zip(expected, answers).map { $0 == $1 }
        let baseline = LabelBaseline(
            expected: expected, answers: answers, passed: passed, labels: ["a", "b", "c", "d"])
        #expect(baseline.labelCount == 4)
        #expect(baseline.chance == 0.25)
        #expect(baseline.majorityLabel == "a")
        #expect(baseline.majorityRate == 0.5)
        #expect(baseline.reference == .majority)
        #expect(baseline.referenceRate == 0.5)
        #expect(baseline.successes == 8 && baseline.trials == 12)
        // scipy: binomtest(8, 12, 0.5, alternative='greater').pvalue
        #expect(abs(baseline.p - 0.19384765625) < 1e-12)
        #expect(!baseline.isAbove)
        #expect(baseline.topAnswer == "b")
        #expect(abs(baseline.topAnswerShare - 5.0 / 12) < 1e-12)
        #expect(!baseline.isCollapsed)
        #expect(baseline.verdict == "not above the majority label (p = 0.194)")
        #expect(baseline.collapseSentence == nil)
    }

    @Test func aBalancedSetIsTestedAgainstChance() {
        let expected = ["x", "y", "z", "x", "y", "z"]
        let baseline = LabelBaseline(
            expected: expected, answers: expected, passed: [Bool](repeating: true, count: 6), labels: ["x", "y", "z"])
        #expect(baseline.reference == .chance)
        #expect(abs(baseline.referenceRate - 1.0 / 3) < 1e-12)
        #expect(baseline.isAbove)
        #expect(baseline.topAnswer == "x", "a tie goes to the label listed first")
        // scipy: binomtest(6, 6, 1/3, alternative='greater').pvalue == 0.0013717421124828527
        #expect(abs(baseline.p - 0.0013717421124828527) < 1e-15)
        #expect(baseline.verdict == "above chance, p = 0.001")
    }

    @Test func noAnswerCanBeTheCollapse() {
        let expected = ["a", "b", "c", "a", "b"]
        let answers: [String?] = [nil, nil, nil, nil, "b"]
        let baseline = LabelBaseline(
            expected: expected, answers: answers, passed: [false, false, false, false, true], labels: ["a", "b", "c"])
        #expect(baseline.topAnswer == nil)
        #expect(baseline.topAnswerShare == 0.8)
        #expect(baseline.isCollapsed)
        #expect(baseline.json["collapsed"] == .bool(true))
        #expect(baseline.json["top_answer"] == .null)
        #expect(baseline.collapseSentence == "gives no answer for 80% of cases")
    }

    @Test func noCasesGiveNoVerdict() {
        let baseline = LabelBaseline(expected: [], answers: [], passed: [], labels: ["a", "b"])
        #expect(baseline.p == 1)
        #expect(!baseline.isAbove && !baseline.isCollapsed)
        #expect(baseline.majorityLabel == nil)
    }

    static let pairsOf10: [String] = (0..<10).flatMap { index -> [String] in ["v\(index)", "v\(index)"] }
    static let pairsOf11: [String] = (0..<11).flatMap { index -> [String] in ["v\(index)", "v\(index)"] }
    static let closedSets: [([String], [String]?)] = [
        (["1", "2", "1", "2", "3", "3"], ["1", "2", "3"]),
        (["yes", "no", "yes"], nil),  // "no" is expected once
        (["only", "only", "only"], nil),  // one value is not a choice
        (pairsOf11, nil),  // eleven values
        (pairsOf10, (0..<10).map { "v\($0)" }),
    ]

    @Test(arguments: closedSets)
    func aClosedSetIsTwoToTenValuesEachExpectedTwice(expected: [String], labels: [String]?) {
        #expect(LabelBaseline.closedSet(expected) == labels)
    }

    // MARK: The three stubs, simulated over the baseline itself.

    static let fiveLabels = ["0", "1", "2", "3", "4"]

    /// Expected labels drawn uniformly at random, and answers from `answer`.
    /// With `balanced`, each label is expected equally often, so chance is also the majority rate.
    static func simulate(
        seed: UInt64, cases: Int = 200, balanced: Bool = false, answer: (String, inout SeededGenerator) -> String?
    ) -> LabelBaseline {
        var generator = SeededGenerator(seed: seed)
        var expected: [String] = []
        var answers: [String?] = []
        for index in 0..<cases {
            let label = fiveLabels[balanced ? index % 5 : Int(generator.next() % 5)]
            expected.append(label)
            answers.append(answer(label, &generator))
        }
        return LabelBaseline(
            expected: expected, answers: answers, passed: zip(expected, answers).map { $0 == $1 }, labels: fiveLabels)
    }

    @Test func guessingAtRandomIsNotAboveChanceInAtLeast95PercentOfSeeds() {
        let seeds = 1000
        var notAbove = 0
        for seed in 0..<seeds {
            let baseline = Self.simulate(seed: UInt64(seed)) { _, generator in
                Self.fiveLabels[Int(generator.next() % 5)]
            }
            if !baseline.isAbove { notAbove += 1 }
            #expect(!baseline.isCollapsed)
        }
        #expect(Double(notAbove) / Double(seeds) >= 0.95, "\(notAbove) of \(seeds) seeds")
    }

    @Test func onABalancedSetGuessingIsCalledAboveChanceAtMostAsOftenAsTheTestAllows() {
        let seeds = 1000
        var above = 0
        for seed in 0..<seeds {
            let baseline = Self.simulate(seed: UInt64(seed), balanced: true) { _, generator in
                Self.fiveLabels[Int(generator.next() % 5)]
            }
            #expect(baseline.reference == .chance)
            if baseline.isAbove { above += 1 }
        }
        // The exact test's size at 200 cases is P(X >= 50) = 0.049 (scipy, above); allow three
        // standard errors of 1000 draws (0.007 each) over it.
        #expect(above <= 70, "\(above) of \(seeds) seeds")
        #expect(above >= 20, "the test still finds something by luck: \(above) of \(seeds) seeds")
    }

    @Test func alwaysOneLabelIsACollapseAndNotAboveTheMajority() {
        for seed in 0..<200 {
            let baseline = Self.simulate(seed: UInt64(seed)) { _, _ in "2" }
            #expect(baseline.isCollapsed)
            #expect(baseline.topAnswer == "2" && baseline.topAnswerShare == 1)
            #expect(baseline.collapseSentence == "answers '2' for 100% of cases")
            #expect(baseline.referenceRate >= baseline.majorityRate)
            #expect(!baseline.isAbove)
        }
    }

    @Test func seventyPercentRightOnFiveLabelsIsAboveChance() {
        for seed in 0..<200 {
            let baseline = Self.simulate(seed: UInt64(seed), balanced: true) { label, generator in
                generator.next() % 10 < 7 ? label : Self.fiveLabels[(Int(label)! + 1) % 5]
            }
            #expect(baseline.isAbove, "seed \(seed): \(baseline.score), p \(baseline.p)")
            #expect(baseline.verdict == "above chance, p < 0.001")
            #expect(!baseline.isCollapsed)
        }
    }

    // MARK: Trivial-answer floors

    @Test func theFloorIsTheBetterOfAnEmptyAnswerAndTheInputCopied() throws {
        var spec = ScorerSpec(TokenF1Scorer())
        // "where did the cat sit" against "the cat sat": 2 shared tokens, P 2/5, R 2/3, F1 0.5;
        // "cat" against "dog": 0. The empty answer scores 0 on both.
        let floor = try #require(
            TrivialFloor.compute(
                spec: spec, expected: [.string("the cat sat"), .string("dog")],
                inputs: ["where did the cat sit", "cat"]))
        #expect(abs(floor.score - 0.25) < 1e-12)
        #expect(floor.answer == .input)
        #expect(floor.cases == 2)

        spec = ScorerSpec(ChrFScorer())
        let empty = try #require(
            TrivialFloor.compute(spec: spec, expected: [.string(""), .string("abc")], inputs: ["xyz", "qqq"]))
        #expect(empty.answer == .empty)
        #expect(empty.score == 0.5, "an empty answer to an empty reference scores 1")

        #expect(TrivialFloor.compute(spec: ScorerSpec(ExactScorer()), expected: [.string("a")], inputs: ["a"]) == nil)
        #expect(TrivialFloor.compute(spec: ScorerSpec(RougeLScorer()), expected: [], inputs: []) == nil)
    }
}
