import Foundation
import Testing

/// `pwb init`, `pwb import` and the listings, run as a user runs them.
@Suite(.serialized)
struct ImportEndToEndTests {
    @Test func importsTheShippedExamplesOnceAndThenFindsNothingNew() async throws {
        let work = try WorkFolder(copyingExamples: true)
        let initialized = try await work.pwb("init")
        #expect(initialized.status == 0, "\(initialized)")
        #expect(initialized.stdout.contains("Created the pwb store .pwb/workbench.sqlite"))

        let first = try await work.pwb("import")
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.contains("+  template  sentiment/question"))
        #expect(first.stdout.contains("evalset   sentiment                  180 cases (train 80, dev 80, test 20)"))
        #expect(first.stdout.contains("corpus    harbor-handbook"))
        #expect(first.stderr.isEmpty)

        let second = try await work.pwb("import")
        #expect(second.status == 0)
        #expect(second.stdout.hasSuffix("Nothing changed: everything was already imported.\n"), "\(second)")

        let templates =
            try JSONSerialization.jsonObject(with: Data(await work.pwb("template", "list", "--json").stdout.utf8))
            as? [[String: Any]]
        let sentiment = try #require(templates?.first { $0["template"] as? String == "sentiment" })
        let variants = (sentiment["variants"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(variants == ["description", "instruction", "question"])

        let sets =
            try JSONSerialization.jsonObject(with: Data(await work.pwb("evalset", "list", "--json").stdout.utf8))
            as? [[String: Any]]
        let japanese = try #require(sets?.first { $0["name"] as? String == "ja-inquiry" })
        #expect((japanese["splits"] as? [String: Int]) == ["train": 64, "dev": 64, "test": 16])
    }

    /// がくせい typed on one system and saved on another (macOS file names are decomposed): one
    /// name, so one template and one eval set, found by either spelling.
    @Test func composedAndDecomposedSpellingsOfANameAreOneName() async throws {
        let work = try WorkFolder()
        let composed = "がくせい"
        let decomposed = "か\u{3099}くせい"
        #expect(Array(composed.unicodeScalars) != Array(decomposed.unicodeScalars))
        try work.write("templates/\(decomposed)/v.prompt", "---\nevalset: \(decomposed)\n---\nQ: {{q}}\nA:\n")
        try work.write("evalsets/\(decomposed).jsonl", #"{"vars": {"q": "1+1"}, "expected": "2"}"# + "\n")
        #expect(try await work.pwb("import").status == 0)
        try work.remove("templates/\(decomposed)")
        try work.remove("evalsets/\(decomposed).jsonl")
        try work.write("templates/\(composed)/v.prompt", "---\nevalset: \(composed)\n---\nQ: {{q}}\nAnswer:\n")
        try work.write("evalsets/\(composed).jsonl", #"{"vars": {"q": "2+2"}, "expected": "4"}"# + "\n")
        let again = try await work.pwb("import")
        #expect(again.status == 0, "\(again)")
        let templates = try #require(
            try JSONSerialization.jsonObject(with: Data(await work.pwb("template", "list", "--json").stdout.utf8))
                as? [[String: Any]])
        #expect(templates.count == 1, "\(templates)")
        let sets = try #require(
            try JSONSerialization.jsonObject(with: Data(await work.pwb("evalset", "list", "--json").stdout.utf8))
                as? [[String: Any]])
        #expect(sets.count == 1, "\(sets)")
        for spelling in [composed, decomposed] {
            let shown = try await work.pwb("template", "show", "\(spelling)/v")
            #expect(shown.status == 0 && shown.stdout.contains("Answer:"), "\(shown)")
        }
    }

    @Test func aChangedBodyAddsARevisionThatHistoryAndDiffShow() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        let path = "templates/sentiment/question.prompt"
        try work.write(path, try work.read(path).replacingOccurrences(of: "\nAnswer:\n", with: "\nThe answer is:\n"))

        let imported = try await work.pwb("import", path)
        #expect(imported.status == 0, "\(imported)")
        #expect(
            imported.stdout.contains("~  template  sentiment/question  revision 2: body: +1 −1 lines"), "\(imported)")

        let history = try await work.pwb("template", "history", "sentiment/question")
        #expect(history.stdout.contains("@1"))
        #expect(history.stdout.contains("@2"))
        #expect(history.stdout.contains("body: +1 −1 lines"))

        let diff = try await work.pwb("template", "diff", "sentiment/question")
        #expect(diff.status == 0)
        #expect(diff.stdout.contains("--- sentiment/question@1\n+++ sentiment/question@2\n"))
        #expect(diff.stdout.contains("\n-Answer:\n+The answer is:\n"), "\(diff)")

        let old = try await work.pwb("template", "show", "sentiment/question@1")
        #expect(old.stdout.hasSuffix("Question: Is this review positive or negative?\nAnswer:\n"), "\(old)")
        // The exported text imports as the same revision.
        let exported = try await work.pwb("template", "export", "sentiment/question")
        #expect(exported.stdout.contains("\nThe answer is:\n"))
        try work.write(path, exported.stdout)
        #expect(try await work.pwb("import", path).stdout.contains("unchanged (revision 2)"))
    }

    @Test func aStoreFromANewerPwbIsRefusedWithExitCode4() async throws {
        let work = try WorkFolder()
        try await work.pwb("init")
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = [
            "python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version=42'); c.commit()",
            work.path + "/.pwb/workbench.sqlite",
        ]
        try sqlite.run()
        sqlite.waitUntilExit()
        let result = try await work.pwb("template", "list")
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("was written by a newer pwb (schema version 42"), "\(result)")
    }

    @Test func dbOptionAndEnvironmentChooseAnotherStore() async throws {
        let work = try WorkFolder(copyingExamples: true)
        #expect(try await work.pwb("--db", "other/store.sqlite", "import", "evalsets").status == 0)
        #expect(FileManager.default.fileExists(atPath: work.path + "/other/store.sqlite"))
        #expect(try await work.pwb("evalset", "list", "--db", "other/store.sqlite").stdout.contains("sentiment"))
        #expect(
            try await work.pwb("evalset", "list", environment: ["PWB_DB": "other/store.sqlite"]).stdout.contains(
                "sentiment"))
        // The default store was never given these eval sets.
        #expect(!(try await work.pwb("evalset", "list").stdout.contains("sentiment")))
    }

    @Test func helpIsOnEveryCommandAndCreatesNothing() async throws {
        let work = try WorkFolder()
        for command in [
            ["init"], ["import"], ["template", "list"], ["template", "show"], ["template", "history"],
            ["template", "diff"], ["template", "export"], ["evalset", "list"], ["evalset", "show"],
            ["evalset", "export"],
        ] {
            let result = try await PwbProcess.run(command + ["--help"], in: work.path)
            #expect(result.status == 0, "\(command): \(result)")
            #expect(result.stdout.hasPrefix("usage: pwb \(command.joined(separator: " "))"), "\(result)")
        }
        #expect(!FileManager.default.fileExists(atPath: work.path + "/.pwb"))
    }

    @Test(arguments: [
        (["tempalte", "list"], "unknown command \"tempalte\"; did you mean template?"),
        (["template", "show"], "template show needs TEMPLATE/VARIANT[@N]"),
        (["template", "show", "a/b/c"], "\"a/b/c\" is not a template reference"),
        (["template", "list", "--jsn"], "unknown option --jsn; did you mean --json?"),
        (["evalset", "show", "sentimen"], "there is no eval set \"sentimen\"; did you mean sentiment?"),
        (["evalset", "show", "sentiment", "--limit", "many"], "--limit must be a whole number"),
        (["evalset", "show", "repl"], "there is no eval set \"repl\""),
    ])
    func usageErrorsExitWith2AndSaySo(arguments: [String], message: String) async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import", "evalsets")
        let result = try await PwbProcess.run(arguments, in: work.path)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result)")
    }
}
