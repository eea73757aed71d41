import Foundation
import StubRuntime
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `pwb eval`, `compare`, `runs`, exit codes and interruption, run as a user runs them.
@Suite(.serialized)
struct EvalEndToEndTests {
    /// The shipped examples in a work folder, and a stub model that labels a sentiment review
    /// rightly when the review is long and wrongly when it is short (so variants and cases
    /// differ) — or wrongly on every case when `wrong` is set.
    final class Setup {
        let work: WorkFolder
        let stub: StubServer
        let wrong = Flag()

        init(delay: Double = 0) async throws {
            work = try WorkFolder(copyingExamples: true)
            let wrong = self.wrong
            var labels: [String: String] = [:]
            for line in try work.read("evalsets/sentiment.jsonl").split(separator: "\n") {
                let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                labels[(json["vars"] as! [String: String])["text"]!] = json["expected"] as? String
            }
            let known = labels
            let model = StubModel { prompt in
                let text = (prompt.components(separatedBy: "Review: ").last ?? "").components(separatedBy: "\n")[0]
                let right = known[text] ?? "positive"
                let flip = wrong.isSet || text.count < 60
                return " " + (flip ? (right == "positive" ? "negative" : "positive") : right)
            }
            stub = try StubServer(model: model) { request in
                delay > 0 && request.path == "/completion" ? .delayed(delay, model.reply(request)) : nil
            }
            try await work.pwb("import")
        }

        var environment: [String: String] { ["PWB_ENDPOINT": stub.url.absoluteString] }

        @discardableResult
        func pwb(_ arguments: String...) async throws -> PwbProcess.Result {
            try await PwbProcess.run(arguments, in: work.path, environment: environment)
        }

        func json(_ arguments: String...) async throws -> [String: Any] {
            let result = try await PwbProcess.run(arguments, in: work.path, environment: environment)
            return try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
        }
    }

    @Test func evalPrintsTheTableTheBestAndTheVerdicts() async throws {
        let setup = try await Setup()
        let result = try await setup.pwb("eval", "sentiment", "--limit", "30")
        #expect(result.status == 0, "\(result)")
        #expect(
            result.stdout.hasPrefix(
                "sentiment on sentiment (dev, 30 cases) · model env (llama.cpp:stub-model.gguf, told apart by the name alone) · zero-shot · reader generate\n"
            ),
            "\(result)")
        for variant in ["description", "instruction", "question"] { #expect(result.stdout.contains("\n\(variant)")) }
        #expect(result.stdout.contains("best: "))
        #expect(result.stdout.contains("paired tests against the others, Holm-adjusted:"))
        #expect(result.stdout.contains("exact McNemar"))
        #expect(result.stderr.isEmpty, "no progress bar when standard error is not a terminal: \(result)")
        #expect(setup.stub.requests(to: "/completion").count == 90)

        let json = try await setup.json("eval", "sentiment", "--limit", "30", "--json")
        let runs = try #require(json["runs"] as? [[String: Any]])
        #expect(runs.count == 3)
        #expect((json["cases"] as? [[String: Any]])?.count == 90)
        #expect(runs.allSatisfy { ($0["cached_share"] as? Double) == 1 })
        #expect(setup.stub.requests(to: "/completion").count == 90, "the second eval came from the cache")

        let csv = try await setup.pwb("eval", "sentiment", "--limit", "30", "--variants", "instruction", "--csv")
        let lines = csv.stdout.split(separator: "\n")
        #expect(
            lines.first
                == "run,variant,model,strategy,case,sample,expected,output,score,error,prompt_tokens,completion_tokens,latency_ms,cached"
        )
        #expect(lines.count == 31)
    }

    @Test func checksGiveExitCode1() async throws {
        let setup = try await Setup()
        let good = try await setup.json("eval", "sentiment", "--variants", "instruction", "--limit", "40", "--json")
        let baseline = try #require(((good["runs"] as? [[String: Any]])?.first?["run"] as? Int))
        let score = try #require(
            (((good["runs"] as? [[String: Any]])?.first?["scorers"] as? [[String: Any]])?.first?["score"] as? Double))

        let passes = try await setup.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "40", "--fail-under", String(score - 0.01))
        #expect(passes.status == 0, "\(passes)")
        let fails = try await setup.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "40", "--fail-under", String(score + 0.01))
        #expect(fails.status == 1, "\(fails)")
        #expect(fails.stderr.contains("is below --fail-under"))
        #expect(fails.stdout.contains("best: "), "the report is printed before the check fails")

        setup.wrong.set()
        let regressed = try await setup.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "40", "--no-cache", "--baseline",
            String(baseline))
        #expect(regressed.status == 1, "\(regressed)")
        #expect(regressed.stderr.contains("a significant regression: best run"), "\(regressed)")
    }

    @Test func compareAndRunsShowStoredRuns() async throws {
        let setup = try await Setup()
        let first = try await setup.json(
            "eval", "sentiment", "--variants", "instruction,question", "--limit", "20", "--json")
        let ids = try #require((first["runs"] as? [[String: Any]])?.compactMap { $0["run"] as? Int })
        let compare = try await setup.pwb("compare", String(ids[0]), String(ids[1]))
        #expect(compare.status == 0, "\(compare)")
        #expect(compare.stdout.hasPrefix("run \(ids[0]) vs run \(ids[1]) on sentiment (dev)"))
        #expect(compare.stdout.contains("on 20 shared cases"))
        #expect(compare.stdout.contains("exact McNemar"))
        let midP = try await setup.pwb("compare", String(ids[0]), String(ids[1]), "--mid-p")
        #expect(midP.status == 0, "\(midP)")
        #expect(midP.stdout.contains("mid-p McNemar") && !midP.stdout.contains("exact McNemar"), "\(midP)")

        let list = try await setup.pwb("runs", "list")
        #expect(list.stdout.contains("sentiment/instruction@1"))
        #expect(list.stdout.contains("completed"))
        #expect(list.stdout.contains("20/20"))
        let show = try await setup.pwb("runs", "show", String(ids[0]), "--cases")
        #expect(show.stdout.contains("sent-001"))
        #expect(show.stdout.split(separator: "\n").count > 20)
        let missing = try await setup.pwb("runs", "show", "999")
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("there is no run 999"))

        let page = try await setup.pwb("report", String(ids[0]), String(ids[1]))
        #expect(page.status == 0, "\(page)")
        #expect(page.stdout.hasPrefix("<!DOCTYPE html>"))
        #expect(page.stdout.components(separatedBy: "<circle class=\"point\"").count == 3, "a point per run")
        #expect(page.stdout.contains("<td>instruction") && page.stdout.contains("<td>question"))
        #expect(page.stdout.contains("exact McNemar"))
        #expect(page.stdout.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"))
        #expect(
            page.stdout.contains("<script type=\"application/json\" id=\"case-data\">"), "every case is on the page")
        let twice = try await setup.pwb("report", String(ids[0]), String(ids[0]))
        #expect(twice.stdout.contains(">instruction (run \(ids[0]))</text>"), "rows that read alike are named by run")
        let written = try await setup.pwb("report", String(ids[0]), "--out", "reports/one.html")
        #expect(written.stderr.contains("wrote reports/one.html"))
        #expect(try setup.work.read("reports/one.html").hasPrefix("<!DOCTYPE html>"))
        for (arguments, message) in [
            (["report"], "report needs run ids"), (["report", "999"], "there is no run 999"),
            (["report", "1", "--advice", "1"], "not both"), (["report", "--advice", "1"], "there is no advice 1"),
        ] {
            let refused = try await PwbProcess.run(arguments, in: setup.work.path, environment: setup.environment)
            #expect(refused.status == 2, "\(refused)")
            #expect(refused.stderr.contains(message), "\(refused)")
        }
    }

    @Test(arguments: [
        (["eval", "sentiment", "--shots", "500"], "asks for more examples than the 80 train cases"),
        (["eval", "sentiment", "--variants", "questoin"], "did you mean question?"),
        (["eval", "sentimnt"], "did you mean sentiment?"),
        (["eval", "sentiment", "--evalset", "nope"], "there is no eval set \"nope\""),
        (["eval", "sentiment", "--select", "best"], "use random or similar"),
        (["eval", "--resume", "42"], "there is no run 42"),
        (["eval", "sentiment", "--fail-under", "3"], "between 0 and 1"),
        (["eval", "sentiment", "--rag", "nothing"], "there is no corpus \"nothing\""),
        (["eval", "sentiment", "--rag", "harbor-handbook"], "has no {{context}} slot"),
    ])
    func badRequestsFailBeforeAnythingIsSent(arguments: [String], message: String) async throws {
        let setup = try await Setup()
        let result = try await PwbProcess.run(arguments, in: setup.work.path, environment: setup.environment)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
        #expect(setup.stub.requests(to: "/completion").isEmpty)
    }

    /// Starts `pwb eval` in the background and waits until at least `results` are stored.
    /// Starts `pwb ARGUMENTS` (reading `input`, its output into `output` when given) and returns
    /// once its runs have stored `results` results.
    func startEval(
        _ setup: Setup, _ arguments: [String], input: String? = nil, output: Pipe? = nil, until results: Int
    ) async throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PwbProcess.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: setup.work.path)
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in setup.environment { environment[key] = value }
        process.environment = environment
        let errors = Pipe()
        process.standardOutput = output ?? FileHandle.nullDevice
        process.standardError = errors
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        stdin.fileHandleForWriting.closeFile()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let listed = try await PwbProcess.run(["runs", "list", "--json"], in: setup.work.path)
            if let runs = try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]],
                runs.compactMap({ $0["done"] as? Int }).reduce(0, +) >= results
            {
                return (process, errors)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the eval never stored \(results) results")
        return (process, errors)
    }

    @Test func aKilledEvalLosesOnlyWhatWasInFlightAndResumes() async throws {
        let setup = try await Setup(delay: 0.05)
        let (process, _) = try await startEval(
            setup, ["eval", "sentiment", "--limit", "40", "--no-cache", "--concurrency", "2"], until: 20)
        let during = try #require(
            try JSONSerialization.jsonObject(with: Data(await setup.work.pwb("runs", "list", "--json").stdout.utf8))
                as? [[String: Any]])
        #expect(during.allSatisfy { $0["status"] as? String == "running" }, "its process holds it: \(during)")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let asked = setup.stub.requests(to: "/completion").count
        let listed = try #require(
            try JSONSerialization.jsonObject(with: Data(await setup.work.pwb("runs", "list", "--json").stdout.utf8))
                as? [[String: Any]])
        let stored = listed.compactMap { $0["done"] as? Int }.reduce(0, +)
        // A killed run could not mark itself, but nobody holds it any more: it is shown interrupted.
        #expect(listed.allSatisfy { $0["status"] as? String == "interrupted" }, "\(listed)")
        let shown = try await setup.pwb("runs", "show", String(listed.first?["run"] as? Int ?? 0))
        #expect(shown.stdout.contains("interrupted") && !shown.stdout.contains("running"), "\(shown)")
        #expect(asked - stored <= 2, "at most the two in flight were lost (asked \(asked), stored \(stored))")

        let run = try #require(listed.first?["run"] as? Int)
        let resumed = try await setup.pwb("eval", "--resume", String(run))
        #expect(resumed.status == 0, "\(resumed)")
        #expect(resumed.stdout.contains("best: "))
        #expect(setup.stub.requests(to: "/completion").count <= 120 + 2, "finished cases were not asked again")
        let after = try #require(
            try JSONSerialization.jsonObject(with: Data(await setup.work.pwb("runs", "list", "--json").stdout.utf8))
                as? [[String: Any]])
        #expect(after.allSatisfy { $0["status"] as? String == "completed" && $0["done"] as? Int == 40 })
    }

    @Test func ctrlCStopsAfterTheRequestsInFlightAndTheRunResumes() async throws {
        let setup = try await Setup(delay: 0.05)
        let (process, errors) = try await startEval(
            setup,
            ["eval", "sentiment", "--variants", "instruction", "--limit", "40", "--no-cache", "--concurrency", "2"],
            until: 6)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(message)")
        #expect(message.contains("pwb: stopping: finishing the requests in flight"))
        #expect(message.contains("interrupted; what finished is kept; resume with pwb eval --resume"))
        let asked = setup.stub.requests(to: "/completion").count
        let listed = try #require(
            try JSONSerialization.jsonObject(with: Data(await setup.work.pwb("runs", "list", "--json").stdout.utf8))
                as? [[String: Any]])
        #expect(listed.first?["status"] as? String == "interrupted")
        #expect(listed.first?["done"] as? Int == asked, "the requests in flight finished and were kept")
        let resumed = try await setup.pwb("eval", "--resume", String(listed.first!["run"] as! Int))
        #expect(resumed.status == 0, "\(resumed)")
        #expect(setup.stub.requests(to: "/completion").count == 40)
    }

    @Test func inTheREPLCtrlCStopsTheSecondEvalAndTheSessionGoesOn() async throws {
        let setup = try await Setup(delay: 0.05)
        let output = Pipe()
        // Two evals, then a command that must still run after the second is stopped.
        let script = """
            eval sentiment --variants instruction --limit 4 --no-cache
            eval sentiment --variants question --limit 40 --no-cache --concurrency 2
            template list

            """
        let (process, errors) = try await startEval(setup, ["repl"], input: script, output: output, until: 10)
        kill(process.processIdentifier, SIGINT)
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "the first failure's code: \(message)")
        #expect(message.contains("pwb: stopping: finishing the requests in flight"), "\(message)")
        #expect(printed.contains("sentiment      question"), "the line after the stopped eval ran: \(printed)")
        let listed = try #require(
            try JSONSerialization.jsonObject(with: Data(await setup.work.pwb("runs", "list", "--json").stdout.utf8))
                as? [[String: Any]])
        #expect(listed.map { $0["status"] as? String } == ["interrupted", "completed"])
        #expect(listed.first?["done"] as? Int ?? 40 < 40)
    }

    @Test func aRuntimeThatGoesAwayMidRunStopsTheEvalWithExitCode3AndItResumes() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import", "templates", "evalsets")
        let answered = Counter()
        let down = Flag()
        let model = StubModel { _ in " positive" }
        let stub = try StubServer(model: model) { request in
            guard request.path == "/completion" else { return nil }
            if down.isSet { return .drop }
            if answered.next() == 5 { down.set() }
            return nil
        }
        let environment = ["PWB_ENDPOINT": stub.url.absoluteString]
        let stopped = try await PwbProcess.run(
            ["eval", "sentiment", "--variants", "instruction", "--limit", "20", "--concurrency", "1"], in: work.path,
            environment: environment)
        #expect(stopped.status == 3, "\(stopped)")
        #expect(stopped.stderr.contains("no model runtime answers at \(stub.url.absoluteString)"), "\(stopped)")
        #expect(stopped.stderr.contains("what finished is kept; resume with pwb eval --resume 1"))
        #expect(stopped.stdout.contains("instruction"), "what finished is reported: \(stopped)")
        let listed = try await work.pwb("runs", "list")
        #expect(listed.stdout.contains("interrupted"))
        #expect(listed.stdout.contains("6/20"), "\(listed)")
        down.reset()
        let resumed = try await PwbProcess.run(["eval", "--resume", "1"], in: work.path, environment: environment)
        #expect(resumed.status == 0, "\(resumed)")
        #expect(try await work.pwb("runs", "list").stdout.contains("20/20"))
    }

    @Test func anUnreachableRuntimeStopsTheEvalWithExitCode3() async throws {
        let setup = try await Setup()
        let port = try RuntimeEndToEndTests.freePort()
        let result = try await PwbProcess.run(
            ["eval", "sentiment", "--limit", "5"], in: setup.work.path,
            environment: ["PWB_ENDPOINT": "http://127.0.0.1:\(port)"])
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("no model runtime answers at http://127.0.0.1:\(port)"))
    }
}

final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
    func reset() { value.withLock { $0 = false } }
}

final class Counter: Sendable {
    private let value = Mutex(0)

    /// The count before this call.
    func next() -> Int {
        value.withLock { count in
            defer { count += 1 }
            return count
        }
    }
}

/// `pwb eval` with the real llama-server and the default model, zero-shot and few-shot.
@Suite(.serialized)
struct RealEvalEndToEndTests {
    @Test func scoresTheShippedClassifierZeroShotAndWithExamples() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import", "templates", "evalsets")
        defer { work.stopRuntime() }
        let zeroShot = try await work.pwb("eval", "sentiment", "--variants", "instruction,question", "--limit", "12")
        #expect(zeroShot.status == 0, "\(zeroShot)")
        #expect(
            zeroShot.stdout.range(
                of: #"model local \(llama\.cpp:gemma-3-270m-q4_k_m\.gguf#[0-9a-f]{16}\) · zero-shot"#,
                options: .regularExpression) != nil, "\(zeroShot)")
        let fewShot = try await work.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "12", "--shots", "4", "--json")
        #expect(fewShot.status == 0, "\(fewShot)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(fewShot.stdout.utf8)) as? [String: Any])
        let run = try #require((json["runs"] as? [[String: Any]])?.first)
        let score = try #require((run["scorers"] as? [[String: Any]])?.first?["score"] as? Double)
        #expect(score >= 0.75, "four examples teach the base model the task: \(score)")
        #expect((run["mean_prompt_tokens"] as? Double ?? 0) > 100)
    }

    @Test func labelsAreScoredFromOneTokenWhereTheirFirstTokensDiffer() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try work.write(
            "evalsets/graded.json",
            #"{"scorers": [{"type": "label", "labels": ["very good", "very bad"]}], "input": "text"}"#)
        try work.write(
            "evalsets/graded.jsonl",
            #"{"id": "g1", "vars": {"text": "Loved it."}, "expected": "very good", "split": "dev"}"#)
        try await work.pwb("import", "templates", "evalsets")
        defer { work.stopRuntime() }
        let oneToken = try await work.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "12", "--shots", "4", "--one-token", "--json")
        #expect(oneToken.status == 0, "\(oneToken)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(oneToken.stdout.utf8)) as? [String: Any])
        let run = try #require((json["runs"] as? [[String: Any]])?.first)
        #expect(run["reader"] as? String == "one-token")
        // " positive" and " negative" are single tokens of Gemma's: nothing to read past.
        #expect(run["mean_completion_tokens"] as? Double == 1, "one token generated per case")
        let plain = try await work.pwb("eval", "sentiment", "--variants", "instruction", "--limit", "2", "--one-token")
        #expect(
            plain.stdout.contains(" · reader one-token (labels read from one token's log-probabilities)"), "\(plain)")
        let score = try #require((run["scorers"] as? [[String: Any]])?.first?["score"] as? Double)
        #expect(score >= 0.75, "four examples teach the base model the task: \(score)")
        // Every case carries a probability for each label, summing to one.
        let cases = try #require(json["cases"] as? [[String: Any]])
        #expect(cases.count == 12)
        for row in cases {
            let detail = (row["scores"] as? [String: Any])?["label"] as? [String: Any]
            let probabilities = try #require(
                (detail?["detail"] as? [String: Any])?["probabilities"] as? [String: Double])
            #expect(Set(probabilities.keys) == ["positive", "negative"])
            #expect(abs(probabilities.values.reduce(0, +) - 1) < 1e-9)
        }
        // " very" begins both labels in Gemma's vocabulary: refused by the server's tokenizer.
        let graded = try await work.pwb(
            "eval", "sentiment", "--variants", "instruction", "--evalset", "graded", "--one-token")
        #expect(graded.status == 2, "\(graded)")
        #expect(
            graded.stderr.contains(
                #"labels "very good" and "very bad" of eval set graded begin with the same token (" very")"#),
            "\(graded)")
    }
}
