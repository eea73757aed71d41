import Foundation
import StubRuntime
import Testing

/// The REPL driven from piped standard input (a script), and from a terminal for its history.
@Suite(.serialized)
struct REPLEndToEndTests {
    static func setup() async throws -> (WorkFolder, StubServer) {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import", "templates", "evalsets")
        let stub = try StubServer(
            model: StubModel { prompt in
                (prompt.components(separatedBy: "Review:").last ?? "").lowercased().contains("great")
                    ? " positive" : " negative"
            })
        return (work, stub)
    }

    @Test func aScriptCreatesEditsTriesScoresAndDiffsAVariant() async throws {
        let (work, stub) = try await Self.setup()
        let script = """
            # a session as a script
            use sentiment/instruction
            new variant terse
            set body "Review: {{text}}\\nLabel:"
            set max_tokens 2
            try text="a great little phone"
            try case sent-003
            eval --limit 10
            diff @1 @3
            history
            show
            quit
            template list
            """
        let result = try await work.pwb("repl", input: script, environment: ["PWB_ENDPOINT": stub.url.absoluteString])
        #expect(result.status == 0, "\(result)")
        let out = result.stdout
        #expect(!out.contains("pwb>"), "no prompt when not a terminal")
        #expect(out.contains("using sentiment/instruction@1 (eval set sentiment)\n"))
        #expect(out.contains("created sentiment/terse@1 from sentiment/instruction@1; using it\n"))
        #expect(out.contains("sentiment/terse@2: body: +1 −4 lines\n"), "\(out)")
        #expect(out.contains("sentiment/terse@3: max_tokens: 3 → 2\n"))
        #expect(out.contains(" positive\n── "), "try with a variable: \(out)")
        #expect(out.contains(" negative\n── "), "try with a case")
        #expect(
            out.contains(
                "sentiment on sentiment (dev, 10 cases) · model env (llama.cpp:stub-model.gguf, told apart by the name alone) · zero-shot · reader generate\n"
            )
        )
        #expect(out.contains("\nterse "), "eval scores the current variant only: \(out)")
        #expect(!out.contains("\ninstruction "))
        #expect(out.contains("--- sentiment/terse@1\n+++ sentiment/terse@3\n"))
        #expect(out.contains("-max_tokens: 3\n+max_tokens: 2\n"))
        #expect(out.contains("+Label:\n"))
        #expect(out.contains("# sentiment/terse@3"))
        #expect(!out.contains("TEMPLATE "), "nothing runs after quit")
        // What the session left in the store: three revisions, a stored run of ten cases.
        let history =
            try JSONSerialization.jsonObject(
                with: Data(await work.pwb("template", "history", "sentiment/terse", "--json").stdout.utf8))
            as? [[String: Any]]
        #expect(
            history?.compactMap { $0["origin"] as? String } == [
                "repl: new from sentiment/instruction@1", "repl: set body", "repl: set max_tokens",
            ])
        let runs =
            try JSONSerialization.jsonObject(
                with: Data(await work.pwb("runs", "list", "--json").stdout.utf8)) as? [[String: Any]]
        #expect(runs?.count == 1)
        #expect(runs?.first?["revision"] as? String == "sentiment/terse@3")
        #expect(runs?.first?["done"] as? Int == 10)
        #expect(stub.requests(to: "/completion").count == 12)
    }

    @Test func errorsNeverEndTheSessionAndTheFirstOneSetsTheExitCode() async throws {
        let (work, _) = try await Self.setup()
        let script = """
            show
            histroy
            use sentiment/question
            set body "unbalanced
            diff @1 oops
            set nonsense 3
            show
            """
        let result = try await work.pwb("repl", input: script)
        #expect(result.status == 2, "\(result)")
        let errors = result.stderr.split(separator: "\n").map(String.init)
        #expect(
            errors == [
                "pwb: error: no variant is in use; choose one with use TEMPLATE/VARIANT (template list shows them)",
                "pwb: error: unknown command \"histroy\"; did you mean history? (help lists the commands)",
                "pwb: error: the line has an unbalanced \"; close the quote",
                "pwb: error: diff takes revisions as @N, not \"oops\"; usage: diff [@N] [@M]",
                "pwb: error: set: \"nonsense\" is not a key; keys: body, description, evalset, mode, system, max_tokens, stop, temperature, top_p, top_k, example_format, example_separator",
            ], "\(result)")
        #expect(result.stdout.contains("# sentiment/question@1"), "the last command still ran")
    }

    @Test func evalWithAVariantInUseTakesTheVariantsOptionInsteadOfAddingASecond() async throws {
        let (work, stub) = try await Self.setup()
        let script = """
            use sentiment/question
            eval --variants=instruction --limit 4
            eval --limit 4
            eval all --limit 4
            """
        let result = try await work.pwb("repl", input: script, environment: ["PWB_ENDPOINT": stub.url.absoluteString])
        #expect(result.status == 0, "\(result)")
        #expect(!result.stderr.contains("given twice"), "\(result)")
        let runs =
            try JSONSerialization.jsonObject(
                with: Data(await work.pwb("runs", "list", "--json").stdout.utf8)) as? [[String: Any]] ?? []
        let revisions = runs.compactMap { $0["revision"] as? String }.sorted()
        #expect(revisions.filter { $0 == "sentiment/instruction@1" }.count == 2, "\(revisions)")
        #expect(revisions.filter { $0 == "sentiment/question@1" }.count == 2, "\(revisions)")
        #expect(Set(revisions).count >= 3, "eval all scored every variant: \(revisions)")
    }

    @Test func replHasHelpLikeEveryCommandAndTheREPLsHelpReadsAsItsLines() async throws {
        let (work, _) = try await Self.setup()
        let help = try await work.pwb("repl", "--help")
        #expect(help.status == 0, "\(help)")
        #expect(help.stdout.hasPrefix("usage: pwb repl\n"), "\(help)")
        let inside = try await work.pwb("repl", input: "help use\nhelp eval\nuse\n")
        #expect(inside.stdout.contains("usage: use TEMPLATE[/VARIANT]\n"), "\(inside)")
        #expect(inside.stdout.contains("usage: eval [all] [TEMPLATE] [options]\n"), "\(inside)")
        #expect(!inside.stdout.contains("usage: pwb "), "\(inside)")
        #expect(inside.stderr.contains("use needs TEMPLATE[/VARIANT]; usage: use TEMPLATE[/VARIANT]"), "\(inside)")
    }

    @Test func aLineOfOnlyDbSwitchesTheStoreAndCompareAloneTakesTheTwoNewestRuns() async throws {
        let (work, stub) = try await Self.setup()
        let script = """
            compare
            --db other.sqlite
            template list
            --db .pwb/workbench.sqlite
            use sentiment/question
            compare
            eval --limit 4
            eval --limit 4 --no-cache
            compare
            """
        let result = try await work.pwb("repl", input: script, environment: ["PWB_ENDPOINT": stub.url.absoluteString])
        let errors = result.stderr.split(separator: "\n").map(String.init)
        #expect(
            errors.first
                == "pwb: error: no variant is in use; choose one with use TEMPLATE/VARIANT (template list shows them)",
            "\(result)")
        #expect(result.stderr.contains("No templates yet."), "the empty store was listed: \(result)")
        #expect(
            errors.contains(
                "pwb: error: sentiment/question has 0 completed run(s); eval it (again) to have two to compare"),
            "\(result)")
        #expect(result.stdout.contains("run 1 vs run 2 on sentiment (dev)"), "the older run first: \(result)")
    }

    @Test func wrongArgumentsPrintTheUsage() async throws {
        let (work, _) = try await Self.setup()
        let result = try await work.pwb("repl", input: "use\nnew variant\ntemplate show\n")
        #expect(result.status == 2)
        #expect(result.stderr.contains("use needs TEMPLATE[/VARIANT]; usage: use TEMPLATE[/VARIANT]"), "\(result)")
        #expect(result.stderr.contains("usage: new variant NAME [from VARIANT]"))
        #expect(result.stderr.contains("usage: template show TEMPLATE/VARIANT[@N]"))
    }

    @Test func editOpensTheEditorAndSavesOnlyAChange() async throws {
        let (work, _) = try await Self.setup()
        let script = "use sentiment/question\nedit\nedit\nhistory\n"
        let changed = try await work.pwb(
            "repl", input: script, environment: ["EDITOR": "sed -i 's/^Answer:$/Verdict:/'"])
        #expect(changed.status == 0, "\(changed)")
        #expect(changed.stdout.contains("sentiment/question@2: body: +1 −1 lines\n"), "\(changed)")
        #expect(changed.stdout.contains("no change; sentiment/question@2 stays the newest"))
        let show = try await work.pwb("template", "show", "sentiment/question")
        #expect(show.stdout.hasSuffix("Verdict:\n"))

        let broken = try await work.pwb(
            "repl", input: "use sentiment/question\nedit\n",
            environment: ["EDITOR": "sed -i 's/^Review: {{text}}$/Review: {{text/'"])
        #expect(broken.status == 4, "\(broken)")
        #expect(broken.stderr.contains(".pwb/edit/sentiment--question.prompt:"), "\(broken)")
        let kept = try work.read(".pwb/edit/sentiment--question.prompt")
        #expect(kept.contains("\nReview: {{text\n"), "the broken text is kept for the next edit")
        let fixed = try await work.pwb(
            "repl", input: "use sentiment/question\nedit\n",
            environment: ["EDITOR": "sed -i 's/^Review: {{text$/Review: {{text}}/'"])
        #expect(fixed.stderr.contains("reopening your unsaved edit"), "\(fixed)")
        #expect(fixed.stdout.contains("no change; sentiment/question@2 stays the newest"), "\(fixed)")
    }

    @Test func historyIsWrittenAndReadBackOnATerminal() async throws {
        let (work, _) = try await Self.setup()
        // `script` gives pwb a terminal; what is piped in is typed at it.
        let first = try await PwbProcess.run(
            ["-q", "-e", "-c", "\(PwbProcess.binary) repl", "/dev/null"], in: work.path,
            input: "use sentiment/description\rquit\r", executable: "/usr/bin/script")
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.contains("pwb sentiment/description@1> "), "a prompt on a terminal: \(first)")
        let saved = try work.read(".pwb/history")
        #expect(saved.contains("sentiment/description"), "libedit's history file: \(saved)")
        // A new session recalls it with the up arrow (twice: quit, then the use command).
        let second = try await PwbProcess.run(
            ["-q", "-e", "-c", "\(PwbProcess.binary) repl", "/dev/null"], in: work.path,
            input: "\u{1B}[A\u{1B}[A\rquit\r", executable: "/usr/bin/script")
        #expect(second.stdout.contains("using sentiment/description@1"), "\(second)")
    }
}
