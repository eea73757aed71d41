import Foundation
import StubRuntime
import Testing

/// The shipped examples' eval tables read against their baselines, as a user sees them.
@Suite(.serialized)
struct BaselineEndToEndTests {
    @Test func theSentimentTableShowsChanceTheMajorityAndTheTest() async throws {
        let setup = try await EvalEndToEndTests.Setup()
        let result = try await setup.pwb("eval", "sentiment", "--limit", "30")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("\nbaseline (2 labels, 30 cases): chance 0.500, majority "), "\(result)")
        #expect(result.stdout.contains("each run is tested against"), "\(result)")
        #expect(result.stdout.contains(", above ") || result.stdout.contains(", not above "), "\(result)")

        // The stub is wrong on every case: it answers, but never rightly, so no collapse and no
        // score above chance.
        setup.wrong.set()
        let wrong = try await setup.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "30", "--no-cache", "--json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(wrong.stdout.utf8)) as? [String: Any])
        let run = try #require((json["runs"] as? [[String: Any]])?.first)
        let baseline = try #require((run["scorers"] as? [[String: Any]])?.first?["baseline"] as? [String: Any])
        #expect(baseline["chance"] as? Double == 0.5)
        #expect(baseline["above"] as? Bool == false)
        #expect(baseline["p"] as? Double == 1)
        #expect(baseline["trials"] as? Int == 30)

        let shown = try await setup.pwb("runs", "show", String(try #require(run["run"] as? Int)))
        #expect(shown.stdout.contains("instruction: 0.000, not above"), "\(shown)")
        let html = try await setup.pwb("report", String(try #require(run["run"] as? Int)))
        #expect(html.stdout.contains("<h2>Against the baseline</h2>"), "\(html)")
    }

    @Test func aModelThatNeverNamesALabelIsReportedAsCollapsedOntoNoAnswer() async throws {
        let setup = try await EvalEndToEndTests.Setup()
        // The stub answers positive or negative, which is none of the inquiry desks.
        let result = try await setup.pwb("eval", "ja-inquiry", "--variants", "instruction", "--limit", "20")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("baseline (4 labels, 20 cases): chance 0.250"), "\(result)")
        #expect(result.stdout.contains("instruction: 0.000, not above"), "\(result)")
        #expect(result.stdout.contains("gives no answer for 100% of cases"), "\(result)")
    }

    @Test func theHandbookTableShowsTheTrivialAnswerFloor() async throws {
        let setup = try await EvalEndToEndTests.Setup()
        let result = try await setup.pwb("eval", "handbook-qa", "--variants", "answer", "--limit", "20")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("trivial-answer floor over 20 cases: token_f1 0."), "\(result)")
        #expect(!result.stdout.contains("baseline ("), "contains on open answers has no label baseline: \(result)")
    }
}
