import Foundation
import StubRuntime
import Testing
import WorkbenchCore

@testable import Workbench

/// Runs read against their baselines through the engine, with a stub model on a five-label task.
@Suite struct BaselineEngineTests {
    static let labels = ["a", "b", "c", "d", "e"]

    /// 100 dev cases; "c" is expected in 40 of them, the other labels in 15 each. Each review
    /// names a label: the expected one in 70% of the cases, the next one otherwise.
    static func workspace(answer: @escaping @Sendable (String) -> String, settings: String? = nil) throws
        -> StubWorkspace
    {
        var lines: [String] = []
        for index in 0..<100 {
            let others = ["a", "b", "d", "e"]
            let expected = index % 10 < 4 ? "c" : others[index % 4]
            let named = index % 10 < 7 ? expected : labels[(labels.firstIndex(of: expected)! + 1) % 5]
            lines.append(
                #"{"id": "c\#(index)", "vars": {"text": "case \#(index) is \#(named)"}, "expected": "\#(expected)", "split": "dev"}"#
            )
        }
        lines.append(#"{"id": "t1", "vars": {"text": "case t1 is a"}, "expected": "a", "split": "train"}"#)
        return try StubWorkspace(
            answer: answer,
            settings: settings
                ?? #"{"scorers": [{"type": "label", "labels": ["a", "b", "c", "d", "e"]}], "input": "text"}"#,
            extraFiles: ["evalsets/reviews.jsonl": lines.joined(separator: "\n")])
    }

    /// The label the review names: its last word.
    static let namedLabel: @Sendable (String) -> String = { prompt in
        let review = (prompt.components(separatedBy: "Review:").last ?? "").components(separatedBy: "\n")[0]
        return " " + (review.split(separator: " ").last.map(String.init) ?? "")
    }

    @Test func aRunAt70PercentOnFiveLabelsIsAboveChance() async throws {
        let work = try Self.workspace(answer: Self.namedLabel)
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        let baseline = try #require(report.runs[0].headline?.baseline)
        #expect(baseline.successes == 70 && baseline.trials == 100)
        #expect(baseline.chance == 0.2)
        #expect(baseline.majorityLabel == "c" && baseline.majorityRate == 0.4)
        #expect(baseline.reference == .majority)
        // scipy: binomtest(70, 100, 0.4, alternative='greater').pvalue
        #expect(abs(baseline.p - 1.2514775349158635e-09) < 1e-18)
        #expect(baseline.isAbove)
        #expect(!baseline.isCollapsed)
        let json = try #require(report.runs[0].json["scorers"]?.arrayValue?.first?["baseline"])
        #expect(json["above"] == .bool(true))
        #expect(json["majority_label"] == .string("c"))
    }

    @Test func aStubThatAlwaysAnswersOneLabelCollapsesAndIsNotAboveTheMajority() async throws {
        let work = try Self.workspace(answer: { _ in " c" })
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        let baseline = try #require(report.runs[0].headline?.baseline)
        #expect(baseline.score == 0.4, "right exactly where c is expected")
        #expect(baseline.isCollapsed)
        #expect(baseline.topAnswer == "c" && baseline.topAnswerShare == 1)
        #expect(baseline.reference == .majority && !baseline.isAbove)
        // The stored summary keeps it, so runs show reports it later.
        let stored = try #require(try work.workspace.store.run(id: report.runs[0].run.id)?.summary)
        #expect(stored["scorers"]?.arrayValue?.first?["baseline"]?["collapsed"] == .bool(true))
    }

    @Test func severalSamplesOfACaseCountAsOneTrial() async throws {
        let work = try Self.workspace(answer: Self.namedLabel)
        let report = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.repeats = 3
            })
        let baseline = try #require(report.runs[0].headline?.baseline)
        #expect(baseline.trials == 100)
    }

    @Test func exactOnAClosedSetHasABaselineAndOpenAnswersHaveNone() async throws {
        let closed = try Self.workspace(
            answer: Self.namedLabel, settings: #"{"scorers": ["exact"], "input": "text"}"#)
        let report = try await closed.evaluate(closed.options { $0.variants = ["plain"] })
        let baseline = try #require(report.runs[0].headline?.baseline)
        #expect(baseline.labelCount == 5 && baseline.successes == 70 && baseline.isAbove)

        let open = try StubWorkspace(settings: #"{"scorers": ["exact", "token_f1"], "input": "text"}"#)
        let openReport = try await open.evaluate(open.options { $0.variants = ["plain"] })
        #expect(openReport.runs[0].headline?.baseline != nil, "positive/negative, each expected 4 times")
        let floor = try #require(openReport.runs[0].scorers[1].floor)
        // The dev reviews never contain their label, so copying the input scores 0 as does the
        // empty answer.
        #expect(floor.score == 0 && floor.cases == 8)
    }

    @Test func copyingTheInputIsTheFloorWhenItSharesWordsWithTheAnswer() async throws {
        var lines: [String] = []
        for index in 0..<10 {
            lines.append(
                #"{"id": "q\#(index)", "vars": {"text": "the answer is \#(index)"}, "expected": "answer \#(index)", "split": "dev"}"#
            )
        }
        let work = try StubWorkspace(
            settings: #"{"scorers": ["token_f1", "rouge_l"], "input": "text"}"#,
            extraFiles: ["evalsets/reviews.jsonl": lines.joined(separator: "\n")])
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        // "the answer is N" against "answer N": 2 shared tokens, precision 2/4, recall 2/2, F1 2/3.
        let floor = try #require(report.runs[0].scorers[0].floor)
        #expect(abs(floor.score - 2.0 / 3) < 1e-12)
        #expect(floor.answer == .input)
        #expect(report.runs[0].scorers[1].floor?.answer == .input)
        #expect(report.runs[0].headline?.baseline == nil)
        #expect(report.runs[0].json["scorers"]?.arrayValue?.first?["floor"]?["answer"] == .string("input"))
    }
}
