import Foundation
import StubRuntime
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The promises of the README's table, held by the built binary against a hostile server.
@Suite(.serialized)
struct HardeningEndToEndTests {
    /// A server that refuses 78 of the 80 dev cases with HTTP 400 (while `refusing` is set) and
    /// answers the other two rightly.
    final class RefusingSetup {
        let work: WorkFolder
        let stub: StubServer
        let state = State()

        final class State: Sendable {
            let refusing = Mutex(true)
            let asked = Mutex(0)
        }

        init() async throws {
            work = try WorkFolder(copyingExamples: true)
            var labels: [String: String] = [:]
            for line in try work.read("evalsets/sentiment.jsonl").split(separator: "\n") {
                let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                labels[(json["vars"] as! [String: String])["text"]!] = json["expected"] as? String
            }
            let known = labels
            let model = StubModel { prompt in
                let text = (prompt.components(separatedBy: "Review: ").last ?? "").components(separatedBy: "\n")[0]
                return " " + (known[text] ?? "positive")
            }
            let state = self.state
            stub = try StubServer(model: model) { request in
                guard request.path == "/completion" else { return nil }
                let count = state.asked.withLock {
                    $0 += 1
                    return $0
                }
                return state.refusing.withLock({ $0 }) && count > 2 ? .status(400, "invalid grammar") : nil
            }
            try await work.pwb("import")
        }

        func pwb(_ arguments: String...) async throws -> PwbProcess.Result {
            try await PwbProcess.run(arguments, in: work.path, environment: ["PWB_ENDPOINT": stub.url.absoluteString])
        }
    }

    @Test func failedRequestsFailTheGateAndResumeAnswersThem() async throws {
        let setup = try await RefusingSetup()
        let gated = try await setup.pwb(
            "eval", "sentiment", "--variants", "instruction", "--concurrency", "1", "--fail-under", "0.9")
        #expect(gated.status == 3, "\(gated)")
        #expect(gated.stderr.contains("78 of 80 requests got no answer"), "\(gated)")
        #expect(gated.stderr.contains("answered HTTP 400: invalid grammar"), "\(gated)")
        #expect(gated.stderr.contains("--fail-under cannot pass"), "\(gated)")
        #expect(gated.stdout.contains("best: "), "the report is printed first")
        let runID = String(
            gated.stderr.components(separatedBy: "pwb eval --resume ").last?.prefix(while: \.isNumber) ?? "")
        #expect(!runID.isEmpty)
        let listed = try await setup.pwb("runs", "list", "--json")
        #expect(listed.stdout.contains("\"interrupted\""), "\(listed)")

        setup.state.refusing.withLock { $0 = false }
        let resumed = try await setup.pwb("eval", "--resume", runID, "--fail-under", "0.9")
        #expect(resumed.status == 0, "\(resumed)")
        #expect(setup.state.asked.withLock { $0 } == 80 + 78, "only the refused cases are asked again")
    }

    @Test(arguments: [
        ("a negative chunk size", StubReply.chunkSize("-1")),
        ("a huge Content-Length", StubReply.declaredLength(100_000_000_000)),
        (
            "timings of 1e300",
            StubReply.json(["content": " ok", "stop_type": "eos", "timings": ["prompt_ms": 1e300, "predicted_ms": 1]])
        ),
    ])
    func aHostileServerIsExit3NamingTheURL(_ name: String, _ reply: StubReply) async throws {
        let work = try WorkFolder(copyingExamples: true)
        let stub = try StubServer(model: StubModel { _ in " ok" }) { request in
            request.path == "/completion" ? reply : nil
        }
        defer { stub.stop() }
        try await work.pwb("import")
        let result = try await work.pwb(
            "run", "sentiment/instruction", "--var", "text=fine", environment: ["PWB_ENDPOINT": stub.url.absoluteString]
        )
        #expect(result.status == 3, "\(name): \(result)")
        #expect(result.stderr.hasPrefix("pwb: error: \(stub.url.absoluteString)"), "\(name): \(result)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one sentence: \(result)")
    }

    @Test func aServerClaimingATrillionSlotsIsExit3NotACrash() async throws {
        let work = try WorkFolder(copyingExamples: true)
        let stub = try StubServer(model: StubModel { _ in " positive" }) { request in
            request.path == "/props"
                ? .json(["total_slots": 1e12, "default_generation_settings": ["n_ctx": 4096], "model_path": "m.gguf"])
                : nil
        }
        defer { stub.stop() }
        try await work.pwb("import")
        let eval = try await work.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "3",
            environment: ["PWB_ENDPOINT": stub.url.absoluteString])
        #expect(eval.status == 3, "\(eval)")
        #expect(eval.stderr.hasPrefix("pwb: error: \(stub.url.absoluteString)"), "\(eval)")
        #expect(eval.stderr.contains("1000000000000 slots"), "\(eval)")
        #expect(eval.stderr.split(separator: "\n").count == 1, "one sentence: \(eval)")
        let listed = try await work.pwb("runs", "list", "--json")
        #expect(!listed.stdout.contains("\"running\""), "no run is left running: \(listed)")
    }

    /// Each once crashed pwb (exit 132, 134, 139) after creating its runs, which stayed `running`.
    @Test(arguments: [
        (["--repeat", "9223372036854775807"], "--repeat must be between 1 and 1000"),
        (["--repeat", "100000000"], "--repeat must be between 1 and 1000"),
        (["--concurrency", "9223372036854775807"], "--concurrency must be between 1 and 1024"),
    ])
    func aHugeOptionValueIsAUsageErrorNotACrash(_ options: [String], _ words: String) async throws {
        let work = try WorkFolder(copyingExamples: true)
        let stub = try StubServer(model: StubModel { _ in " positive" })
        defer { stub.stop() }
        try await work.pwb("import")
        let environment = [
            "PWB_ENDPOINT": stub.url.appendingPathComponent("v1").absoluteString, "PWB_PROVIDER": "openai",
        ]
        let eval = try await PwbProcess.run(
            ["eval", "sentiment", "--variants", "instruction", "--limit", "3"] + options, in: work.path,
            environment: environment)
        #expect(eval.status == 2, "\(eval)")
        #expect(eval.stderr.hasPrefix("pwb: error: \(words)"), "\(eval)")
        #expect(eval.stderr.split(separator: "\n").count == 1, "one sentence: \(eval)")
        let listed = try await work.pwb("runs", "list", "--json")
        #expect(!listed.stdout.contains("\"running\""), "no run is left running: \(listed)")
    }

    @Test func aCaseTheServerFindsTooLongIsExit4NamingTheCase() async throws {
        let work = try WorkFolder(copyingExamples: true)
        // The server refuses one case as llama-server does a prompt longer than its context.
        let stub = try StubServer(model: StubModel { _ in " positive" }) { request in
            guard request.path == "/completion",
                request.json?["prompt"]?.stringValue?.contains("landscaper turned a patch of weeds") == true
            else { return nil }
            return .json(
                ["error": ["code": 400, "message": "the request exceeds the available context size (4096 tokens)"]],
                status: 400)
        }
        defer { stub.stop() }
        try await work.pwb("import")
        let eval = try await work.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "5",
            environment: ["PWB_ENDPOINT": stub.url.absoluteString])
        #expect(eval.status == 4, "\(eval)")
        #expect(eval.stderr.contains("refused case sent-001 because its prompt does not fit"), "\(eval)")
        #expect(eval.stderr.contains("use fewer examples or passages"), "\(eval)")
        #expect(eval.stderr.split(separator: "\n").filter { $0.hasPrefix("pwb: error:") }.count == 1, "\(eval)")
    }

    @Test func aFullDiskIsExit5InOneSentenceAndTheStoreStaysSound() async throws {
        let work = try WorkFolder(copyingExamples: true)
        // Answers of some 20 KB, so the store outgrows its room after a few cases.
        let stub = try StubServer(model: StubModel { _ in " positive" + String(repeating: " filler", count: 3000) })
        defer { stub.stop() }
        let environment = ["PWB_ENDPOINT": stub.url.absoluteString]
        try await work.pwb("import")
        let store = work.path + "/.pwb/workbench.sqlite"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: store)[.size] as? Int)
        // A disk with room for the store and a little more: no file of pwb's may grow past it (a
        // file-size limit; SIGXFSZ ignored, so a write past it fails as on a full disk).
        let full = try await PwbProcess.run(
            [
                "-c", #"trap '' XFSZ; exec prlimit --fsize="$0" "$@""#, String(size + 300_000), PwbProcess.binary,
                "eval", "sentiment", "--variants", "instruction", "--limit", "40", "--no-cache", "--concurrency", "1",
            ], in: work.path, environment: environment, executable: "/bin/sh")
        #expect(full.status == 5, "\(full)")
        let errors = full.stderr.split(separator: "\n").filter { $0.hasPrefix("pwb: error:") }
        #expect(errors.count == 1, "\(full)")
        #expect(full.stderr.contains("is full"), "\(full)")
        #expect(full.stderr.contains(store) || full.stderr.contains(".pwb/workbench.sqlite"), "\(full)")
        let check = try await PwbProcess.run(
            [
                "python3", "-c",
                "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])",
                store,
            ],
            in: work.path, executable: "/usr/bin/env")
        #expect(check.stdout == "ok\n", "\(check)")
        let listed = try #require(
            try JSONSerialization.jsonObject(with: Data(await work.pwb("runs", "list", "--json").stdout.utf8))
                as? [[String: Any]])
        let run = try #require(listed.first)
        let done = try #require(run["done"] as? Int)
        #expect(done > 0 && done < 40, "it filled mid-eval: \(listed)")
        #expect(run["status"] as? String != "running", "not left running: \(listed)")
        // With room again, the evaluation completes without a case twice.
        let resumed = try await work.pwb("eval", "--resume", String(run["run"] as! Int), environment: environment)
        #expect(resumed.status == 0, "\(resumed)")
        let after = try #require(
            try JSONSerialization.jsonObject(with: Data(await work.pwb("runs", "list", "--json").stdout.utf8))
                as? [[String: Any]])
        #expect(after.first?["done"] as? Int == 40 && after.first?["status"] as? String == "completed", "\(after)")
    }

    /// A value no pwb writes, found in the store (a bad disk, a hand edit): the store's failure,
    /// exit 5, naming the row and the column, never "a bug in pwb".
    @Test(arguments: [
        ("UPDATE runs SET params = '{'", ["runs", "list"], "run 1", "params"),
        ("UPDATE runs SET summary = 'nope'", ["runs", "show", "1"], "run 1", "summary"),
        ("UPDATE results SET scores = '[1,'", ["runs", "show", "1"], "run 1", "scores"),
        ("UPDATE cases SET vars = '{\"text\": '", ["evalset", "show", "sentiment"], "case", "vars"),
    ])
    func aCorruptRowIsExit5NamingTheRowAndColumn(
        _ damage: String, _ command: [String], _ row: String, _ column: String
    ) async throws {
        let work = try WorkFolder(copyingExamples: true)
        let stub = try StubServer(model: StubModel { _ in " positive" })
        defer { stub.stop() }
        try await work.pwb("import")
        let eval = try await work.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "2",
            environment: ["PWB_ENDPOINT": stub.url.absoluteString])
        #expect(eval.status == 0, "\(eval)")
        let edit = try await PwbProcess.run(
            [
                "python3", "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()",
                ".pwb/workbench.sqlite", damage,
            ],
            in: work.path, executable: "/usr/bin/env")
        #expect(edit.status == 0, "\(edit)")
        let result = try await PwbProcess.run(command, in: work.path)
        #expect(result.status == 5, "\(damage): \(result)")
        #expect(result.stderr.contains(row) && result.stderr.contains(column), "\(damage): \(result)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one sentence: \(result)")
    }

    /// A cloned repository must not pull this machine's files into prompts, searches or
    /// messages: a link found in the workspace that leads out of it is refused, naming both.
    @Test(arguments: [
        ("templates/leak/v.prompt", "secret.prompt"), ("corpora/notes/secret.md", "secret.md"),
        ("evalsets/leak.jsonl", "secret.jsonl"), ("templates/linked", "folder"),
    ])
    func aLinkOutOfTheWorkspaceIsRefusedNamingItsTarget(_ link: String, _ target: String) async throws {
        let work = try WorkFolder(copyingExamples: true)
        let outside = try WorkFolder()
        try outside.write("secret.prompt", "SECRET {{text}}\n")
        try outside.write("secret.md", "# Keys\n\nSECRET api key\n")
        try outside.write("secret.jsonl", #"{"vars": {"text": "SECRET"}, "expected": "x"}"# + "\n")
        try outside.write("folder/v.prompt", "SECRET {{text}}\n")
        try FileManager.default.createDirectory(
            atPath: work.path + "/" + (link as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: work.path + "/" + link, withDestinationPath: outside.path + "/" + target)
        let imported = try await work.pwb("import")
        #expect(imported.status == 4, "\(imported)")
        #expect(imported.stderr.contains(link) && imported.stderr.contains(outside.path), "\(imported)")
        #expect(imported.stderr.contains("outside the workspace"), "\(imported)")
        #expect(!imported.stderr.contains("SECRET") && !imported.stdout.contains("SECRET"), "\(imported)")
        #expect(imported.stderr.split(separator: "\n").count == 1, "one sentence: \(imported)")
        // Named on the command line, the file is the user's choice and is imported.
        if target.hasSuffix(".prompt") {
            let named = try await work.pwb("import", link)
            #expect(named.status == 0, "\(named)")
        }
    }

    @Test func aLinkWithinTheWorkspaceIsImported() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try FileManager.default.createSymbolicLink(
            atPath: work.path + "/templates/sentiment/again.prompt",
            withDestinationPath: work.path + "/templates/sentiment/question.prompt")
        let imported = try await work.pwb("import")
        #expect(imported.status == 0, "\(imported)")
        #expect(imported.stdout.contains("sentiment/again"), "\(imported)")
    }

    @Test func aServerNamingAFIFOAsItsModelDoesNotHangPwb() async throws {
        let work = try WorkFolder(copyingExamples: true)
        let fifo = work.path + "/model.gguf"
        #expect(mkfifo(fifo, 0o644) == 0)
        var model = StubModel { _ in " positive" }
        model.modelPath = fifo
        let stub = try StubServer(model: model)
        defer { stub.stop() }
        try await work.pwb("import")
        // Killed after 30 s if it waits on the FIFO.
        let result = try await PwbProcess.run(
            ["-s", "KILL", "30", PwbProcess.binary, "run", "sentiment/instruction", "--var", "text=fine"],
            in: work.path, environment: ["PWB_ENDPOINT": stub.url.absoluteString], executable: "/usr/bin/timeout")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("positive"), "\(result)")
    }

    @Test func aFIFOAmongTheEvalSetsIsRefusedNotWaitedOn() async throws {
        let work = try WorkFolder(copyingExamples: true)
        #expect(mkfifo(work.path + "/evalsets/pipe.jsonl", 0o644) == 0)
        let result = try await PwbProcess.run(["import"], in: work.path, timeout: 30)
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("evalsets/pipe.jsonl"), "\(result)")
        #expect(result.stderr.contains("is not a regular file"), "\(result)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result)")
    }

    @Test func modelOutputCannotDriveTheTerminal() async throws {
        let work = try WorkFolder(copyingExamples: true)
        let stub = try StubServer(model: StubModel { _ in " \u{1B}]0;owned\u{07}\u{1B}[2Jpositive\u{0}" })
        defer { stub.stop() }
        try await work.pwb("import")
        let environment = ["PWB_ENDPOINT": stub.url.absoluteString]
        let run = try await work.pwb("run", "sentiment/instruction", "--var", "text=fine", environment: environment)
        #expect(run.status == 0, "\(run)")
        #expect(!run.stdout.contains("\u{1B}") && !run.stdout.contains("\u{07}"), "\(run)")
        #expect(run.stdout.contains("\\x1B]0;owned\\x07\\x1B[2Jpositive\\x00"), "\(run)")
        _ = try await work.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "3", environment: environment)
        let shown = try await work.pwb("runs", "show", "1", "--cases", environment: environment)
        #expect(shown.status == 0, "\(shown)")
        #expect(!shown.stdout.contains("\u{1B}"), "\(shown)")
        #expect(shown.stdout.contains("\\x1B[2Jpositive"), "\(shown)")
    }
}

extension EvalEndToEndTests {
    @Test(arguments: [(SIGTERM, Int32(143)), (SIGHUP, Int32(129))])
    func aTerminatedEvalMarksItsRunInterruptedAndResumes(_ signalNumber: Int32, _ status: Int32) async throws {
        let setup = try await Setup(delay: 0.05)
        let (process, errors) = try await startEval(
            setup,
            ["eval", "sentiment", "--variants", "instruction", "--limit", "40", "--no-cache", "--concurrency", "2"],
            until: 6)
        kill(process.processIdentifier, signalNumber)
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == status, "\(message)")
        #expect(message.contains("resume with pwb eval --resume"), "\(message)")
        let listed = try #require(
            try JSONSerialization.jsonObject(with: Data(await setup.work.pwb("runs", "list", "--json").stdout.utf8))
                as? [[String: Any]])
        #expect(listed.first?["status"] as? String == "interrupted", "not left running")
        let resumed = try await setup.pwb("eval", "--resume", String(listed.first!["run"] as! Int))
        #expect(resumed.status == 0, "\(resumed)")
        #expect(setup.stub.requests(to: "/completion").count <= 40 + 2)
    }

    @Test func anUnauthorizedServerIsAConfigurationErrorNotAMissingRuntime() async throws {
        let work = try WorkFolder(copyingExamples: true)
        let stub = try StubServer(model: StubModel { _ in " ok" }) { request in
            request.path == "/completion" ? .status(401, "invalid api key") : nil
        }
        defer { stub.stop() }
        try await work.pwb("import")
        let environment = ["PWB_ENDPOINT": stub.url.absoluteString]
        let run = try await work.pwb("run", "sentiment/instruction", "--var", "text=fine", environment: environment)
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("answered HTTP 401: invalid api key; check the key"), "\(run)")
        let eval = try await work.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "3", environment: environment)
        #expect(eval.status == 2, "\(eval)")
        #expect(eval.stderr.contains("3 of 3 requests got no answer"), "\(eval)")
    }

    @Test func twoEvalsAndAnImportOnOneStoreAtOnceAllFinish() async throws {
        let setup = try await Setup(delay: 0.01)
        try setup.work.write(
            "evalsets/extra.jsonl",
            (1...400).map { #"{"id": "x\#($0)", "vars": {"text": "case \#($0)"}, "expected": "positive"}"# }
                .joined(separator: "\n"))
        let path = setup.work.path
        let environment = setup.environment
        async let first = PwbProcess.run(
            ["eval", "sentiment", "--variants", "instruction", "--limit", "30", "--concurrency", "2"], in: path,
            environment: environment)
        async let second = PwbProcess.run(
            ["eval", "sentiment", "--variants", "question", "--limit", "30", "--concurrency", "2"], in: path,
            environment: environment)
        async let imported = PwbProcess.run(["import"], in: path, environment: environment)
        let results = try await [first, second, imported]
        for result in results { #expect(result.status == 0, "\(result)") }
        let listed = try #require(
            try JSONSerialization.jsonObject(with: Data(await setup.work.pwb("runs", "list", "--json").stdout.utf8))
                as? [[String: Any]])
        #expect(listed.count == 2)
        #expect(listed.allSatisfy { $0["status"] as? String == "completed" && $0["done"] as? Int == 30 })
        let sets = try await setup.work.pwb("evalset", "list")
        #expect(sets.stdout.contains("extra"), "\(sets)")
    }
}
