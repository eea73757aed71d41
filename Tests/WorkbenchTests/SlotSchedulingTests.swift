import Foundation
import StubRuntime
import Testing
import WorkbenchCore

@testable import Workbench

@Suite struct LaneScheduleTests {
    /// Hands out every item, recording which lane took it.
    static func drain(_ groups: [Int], lanes: Int) -> [Int: Int] {
        var schedule = LaneSchedule(groups: groups, lanes: lanes)
        var taken: [Int: Int] = [:]
        var progress = true
        while progress {
            progress = false
            for lane in 0..<lanes {
                if let item = schedule.next(lane: lane) {
                    #expect(taken[item] == nil, "item \(item) was handed out twice")
                    taken[item] = lane
                    progress = true
                }
            }
        }
        #expect(schedule.isEmpty)
        return taken
    }

    @Test func asManyGroupsAsLanesGiveEachLaneOneGroup() {
        // Case-major: item 2c is case c of run 0, item 2c+1 case c of run 1.
        let groups = (0..<20).map { $0 % 2 }
        let taken = Self.drain(groups, lanes: 2)
        #expect(taken.count == 20)
        for (item, lane) in taken { #expect(lane == groups[item]) }
    }

    @Test func oneGroupIsSharedByEveryLane() {
        let taken = Self.drain(Array(repeating: 0, count: 9), lanes: 3)
        #expect(Set(taken.values) == [0, 1, 2])
        #expect(taken.count == 9)
    }

    @Test func aLaneSwitchesGroupOnlyWhenItsGroupIsDone() {
        // Three runs of four cases on two lanes: a lane's groups form runs of the same group.
        let groups = (0..<12).map { $0 % 3 }
        var schedule = LaneSchedule(groups: groups, lanes: 2)
        var sequence: [[Int]] = [[], []]
        while !schedule.isEmpty {
            for lane in 0..<2 {
                if let item = schedule.next(lane: lane) { sequence[lane].append(groups[item]) }
            }
        }
        var switches = 0
        for lane in 0..<2 {
            switches += zip(sequence[lane], sequence[lane].dropFirst()).filter { $0 != $1 }.count
        }
        #expect(sequence[0].count + sequence[1].count == 12)
        #expect(switches <= 2, "lanes switched groups \(switches) times: \(sequence)")
        #expect(sequence[0].first == 0 && sequence[1].first == 1)
    }

    @Test func itemsOfAGroupKeepTheirOrder() {
        let groups = [0, 1, 0, 1, 0, 1, 0]
        var schedule = LaneSchedule(groups: groups, lanes: 1)
        var order: [Int] = []
        while let item = schedule.next(lane: 0) { order.append(item) }
        #expect(order == [0, 2, 4, 6, 1, 3, 5])
    }

    @Test func aChainGoesOutThroughOneLaneLowestRankFirst() {
        // One group: a run at k = 2 (items 0–2), then the same cases at k = 1 (items 3–5). Each
        // case is a chain, its k = 1 item first; a chain is finished by the lane that began it.
        var schedule = LaneSchedule(
            groups: Array(repeating: 0, count: 6), chains: [0, 1, 2, 0, 1, 2], ranks: [2, 2, 2, 1, 1, 1], lanes: 2)
        #expect(schedule.next(lane: 0) == 3)
        #expect(schedule.next(lane: 1) == 4)
        #expect(schedule.next(lane: 1) == 1)
        #expect(schedule.next(lane: 0) == 0)
        #expect(schedule.next(lane: 1) == 5)
        #expect(schedule.next(lane: 0) == nil, "the last chain is lane 1's")
        #expect(!schedule.isEmpty)
        #expect(schedule.next(lane: 1) == 2)
        #expect(schedule.isEmpty)
    }
}

@Suite struct SlotSchedulingTests {
    @Test func eachVariantKeepsToOneServerSlot() async throws {
        let work = try StubWorkspace(slots: 2)
        let report = try await work.evaluate(work.options { $0.variants = ["asked", "plain"] })
        #expect(report.runs.allSatisfy { $0.scored == 8 })
        // Each slot serves one variant from the start, and turns to the other only once its own has
        // nothing left to send (a lane that ran dry helps the other rather than idle).
        var variantsBySlot: [Int: [String]] = [:]
        for request in work.completions {
            let prompt = request.json?["prompt"]?.stringValue ?? ""
            let variant = prompt.hasPrefix("Is it positive") ? "asked" : "plain"
            let slot = try #require(request.json?["id_slot"]?.intValue, "a request named no slot")
            variantsBySlot[slot, default: []].append(variant)
        }
        #expect(Set(variantsBySlot.keys) == [0, 1])
        #expect(variantsBySlot[0]?.first != variantsBySlot[1]?.first, "the two variants start in different slots")
        for (slot, sequence) in variantsBySlot {
            let switches = zip(sequence, sequence.dropFirst()).filter { $0 != $1 }.count
            #expect(switches <= 1, "slot \(slot) switched variants \(switches) times: \(sequence)")
            // Its own variant's cases come first, all of them sent before it turned to the other.
            let own = sequence.prefix { $0 == sequence[0] }.count
            #expect(own >= 4, "slot \(slot) served its own variant first: \(sequence)")
        }
    }

    @Test func slotsAreNotNamedBeyondTheServersCount() async throws {
        let work = try StubWorkspace(slots: 2)
        _ = try await work.evaluate(work.options { $0.concurrency = 5 })
        let slots = Set(work.completions.compactMap { $0.json?["id_slot"]?.intValue })
        #expect(slots == [0, 1])
        #expect(work.completions.count == 16)
    }

    @Test func serversWithoutSlotsAreNotAskedForOne() async throws {
        let work = try StubWorkspace(slots: 2)
        work.environment["PWB_PROVIDER"] = "openai"
        work.environment["PWB_ENDPOINT"] = work.stub.url.absoluteString + "/v1"
        work.environment["PWB_MODEL"] = "stub-model.gguf"
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        #expect(report.runs[0].scored == 8)
        let requests = work.stub.requests(to: "/v1/completions") + work.stub.requests(to: "/v1/chat/completions")
        #expect(requests.count == 8)
        #expect(requests.allSatisfy { $0.json?["id_slot"] == nil })
    }

    @Test func logProbabilitiesAreAskedOnlyWhenAScorerNeedsThem() async throws {
        let work = try StubWorkspace()
        _ = try await work.evaluate(work.options { $0.variants = ["plain"] })
        #expect(work.completions.count == 8)
        #expect(work.completions.allSatisfy { $0.json?["n_probs"] == nil && $0.json?["cache_prompt"] == true })
    }

    @Test func aCachedRerunAsksNothingAndScoresTheSame() async throws {
        let work = try StubWorkspace(slots: 2)
        let first = try await work.evaluate(work.options())
        let sent = work.completions.count
        let again = try await work.evaluate(work.options())
        #expect(work.completions.count == sent)
        #expect(again.runs.map { $0.headline?.interval.estimate } == first.runs.map { $0.headline?.interval.estimate })
        #expect(again.runs.allSatisfy { $0.scored == 8 && $0.cachedShare == 1 })
    }

    /// Similar-example runs at k = 1 and 2, scored together: each case is asked with one example
    /// and then, in the same slot, with two, so the second prompt finds the first example (the
    /// most similar at any k) in the slot's cache and reads only the one it adds.
    @Test func similarRunsAskEachCaseFewestExamplesFirstInOneSlot() async throws {
        let work = try StubWorkspace(slots: 2)
        let options = [1, 2].map { k in
            work.options {
                $0.variants = ["plain"]
                $0.strategy = Strategy(shots: k, selection: .similar)
            }
        }
        let reports = try await work.workspace.evaluate(options, environment: work.environment)
        #expect(reports.allSatisfy { $0.runs[0].scored == 8 })
        func examples(_ prompt: String) -> Int {
            prompt.components(separatedBy: "Sentiment: positive").count
                + prompt.components(separatedBy: "Sentiment: negative").count - 2
        }
        func review(_ prompt: String) -> String { prompt.components(separatedBy: "Review: ").last ?? "" }
        var bySlot: [Int: [String]] = [:]
        for request in work.completions {
            let slot = try #require(request.json?["id_slot"]?.intValue)
            bySlot[slot, default: []].append(request.json?["prompt"]?.stringValue ?? "")
        }
        let twoExamples = work.completions.filter { examples($0.json?["prompt"]?.stringValue ?? "") == 2 }.count
        var followed = 0
        for prompts in bySlot.values {
            for (previous, prompt) in zip(prompts, prompts.dropFirst()) where examples(prompt) == 2 {
                let block = String(previous.dropLast(review(previous).count + "Review: ".count))
                #expect(examples(previous) == 1 && review(previous) == review(prompt), "\(previous) | \(prompt)")
                #expect(prompt.hasPrefix(block), "\(prompt) does not begin with \(block)")
                followed += 1
            }
        }
        #expect(twoExamples > 0 && followed == twoExamples)
    }
}
