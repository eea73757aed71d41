import Foundation
import Synchronization
import Testing
import WorkbenchCore

@testable import WorkbenchStore

/// A fresh store file in its own temporary folder, removed when the test ends.
final class TemporaryStore {
    let folder: String
    let path: String

    init() {
        folder = NSTemporaryDirectory() + "pwb-store-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        path = folder + "/workbench.sqlite"
    }

    func open() throws -> Store { try Store(path: path) }

    deinit { try? FileManager.default.removeItem(atPath: folder) }
}

struct MigrationTests {
    @Test func aNewStoreHasTheLatestSchemaAndTheRightPragmas() throws {
        let temporary = TemporaryStore()
        let store = try temporary.open()
        #expect(try store.userVersion() == Store.schemaVersion)
        #expect(try store.database.queryFirst("PRAGMA journal_mode") { $0.text(0) } == "wal")
        #expect(try store.database.queryFirst("PRAGMA foreign_keys") { $0.int(0) } == 1)
        #expect(try store.database.queryFirst("PRAGMA synchronous") { $0.int(0) } == 1)
        let tables = try store.database.query("SELECT name FROM sqlite_master WHERE type = 'table'") { $0.text(0) }
        for table in [
            "templates", "variants", "revisions", "evalsets", "cases", "corpora", "documents", "runs", "results",
            "responses", "advice", "cases_fts", "documents_fts",
        ] {
            #expect(tables.contains(table), "missing table \(table)")
        }
    }

    @Test func anOlderFileIsMigratedAndKeepsItsData() throws {
        let temporary = TemporaryStore()
        do {
            // A file from before the first migration: it has a table of its own and version 0.
            let database = try Database(path: temporary.path)
            try database.execute("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('kept')")
        }
        let store = try temporary.open()
        #expect(try store.userVersion() == Store.schemaVersion)
        #expect(try store.database.queryFirst("SELECT text FROM notes") { $0.text(0) } == "kept")
        // Opening again runs nothing twice.
        #expect(try temporary.open().userVersion() == Store.schemaVersion)
    }

    /// A store from before adapter scales were recorded: base answers of a model an adapter was
    /// trained for, stored after the adapter was, may be the adapters' answers (llama-server applied
    /// every loaded adapter to a request that named no scales), and a tuned model's answers may have
    /// read a base prompt's state from the server's prompt cache. They are marked and not served;
    /// answers from before the adapter, or of another model, are kept.
    @Test func baseAnswersStoredWhileAdaptersMayHaveBeenAppliedAreNoLongerServed() throws {
        let temporary = TemporaryStore()
        do {
            let database = try Database(path: temporary.path)
            for migration in Schema.migrations.prefix(3) { try database.execute(migration) }
            try database.execute(
                """
                PRAGMA user_version = 3;
                INSERT INTO templates (id, name) VALUES (1, 't');
                INSERT INTO variants (id, template_id, name) VALUES (1, 1, 'v');
                INSERT INTO revisions (id, variant_id, number, hash, source) VALUES (1, 1, 1, 'h', 'body');
                INSERT INTO evalsets (id, name) VALUES (1, 'e');
                INSERT INTO adapters (name, evalset_id, revision_id, base_model, path, hash, created_at)
                VALUES ('a', 1, 1, 'llama.cpp:m.gguf#0123', 'adapters/a.gguf', 'ff', '2026-01-02T00:00:00.000Z');
                """)
            for (key, provider, model, created) in [
                ("before", "llama.cpp", "llama.cpp:m.gguf#0123", "2026-01-01T00:00:00.000Z"),
                ("after", "llama.cpp", "llama.cpp:m.gguf#0123", "2026-01-03T00:00:00.000Z"),
                ("tuned", "llama.cpp", "llama.cpp:m.gguf#0123+lora:ff@1", "2026-01-03T00:00:00.000Z"),
                ("other", "llama.cpp", "llama.cpp:other.gguf#4567", "2026-01-03T00:00:00.000Z"),
            ] {
                try database.run(
                    """
                    INSERT INTO responses (key, provider, model, request, output, latency_ms, created_at)
                    VALUES (?, ?, ?, '{}', 'answer', 1, ?)
                    """, .text(key), .text(provider), .text(model), .text(created))
            }
        }
        let store = try temporary.open()
        let found = try store.cachedResponses(keys: ["before", "after", "tuned", "other"])
        #expect(found.count == 4)
        #expect(found.filter(\.value.adaptersUnknown).map(\.key).sorted() == ["after", "tuned"])
        #expect(try store.cachedResponse(key: "after")?.adaptersUnknown == true)
        // Asked again, the new answer records the scales it was asked with and is served.
        var fresh = try #require(found["after"])
        fresh.adapters = [["id": 0, "scale": 0]]
        try store.storeResponse(fresh, provider: "llama.cpp", model: "llama.cpp:m.gguf#0123", request: [:])
        let again = try #require(try store.cachedResponse(key: "after"))
        #expect(!again.adaptersUnknown && again.adapters == [["id": 0, "scale": 0]])
    }

    @Test func aFileFromANewerPwbIsRefusedAndLeftAlone() throws {
        let temporary = TemporaryStore()
        do {
            let database = try Database(path: temporary.path)
            try database.execute("PRAGMA user_version = 99")
        }
        let error = #expect(throws: StoreVersionError.self) { try temporary.open() }
        #expect(error?.found == 99)
        #expect(error?.description.contains("newer pwb") == true)
        let database = try Database(path: temporary.path)
        #expect(try database.queryFirst("PRAGMA user_version") { $0.int(0) } == 99)
        #expect(try database.queryFirst("SELECT COUNT(*) FROM sqlite_master") { $0.int(0) } == 0)
    }

    @Test func aFailedTransactionLeavesNothingBehind() throws {
        let temporary = TemporaryStore()
        let store = try temporary.open()
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try store.transaction {
                _ = try store.ensureTemplate(named: "gone")
                throw Stop()
            }
        }
        #expect(try store.templates().isEmpty)
    }
}

struct TemplateStoreTests {
    @Test func revisionsAreNumberedAndImmutable() throws {
        let temporary = TemporaryStore()
        let store = try temporary.open()
        let template = try store.ensureTemplate(named: "sentiment")
        #expect(try store.ensureTemplate(named: "sentiment").id == template.id)
        let variant = try store.ensureVariant(templateID: template.id, named: "question")
        let first = try store.addRevision(variantID: variant.id, source: "A", hash: "h1", origin: "f", note: "imported")
        let second = try store.addRevision(variantID: variant.id, source: "B", hash: "h2", origin: "repl", note: "body")
        #expect([first.number, second.number] == [1, 2] as [Int])
        #expect(try store.latestRevision(variantID: variant.id)?.source == "B")
        #expect(try store.revision(variantID: variant.id, number: 1)?.source == "A")
        #expect(throws: StoreError.self) {
            try store.database.run("UPDATE revisions SET source = 'changed' WHERE id = ?", SQLValue(first.id))
        }
        #expect(try store.revision(id: first.id)?.source == "A")
        let summaries = try store.templateSummaries()
        #expect(summaries.count == 1)
        #expect(summaries[0].variants.map(\.revisions) == [2] as [Int])
    }

    @Test func valuesThatLookLikeSQLAreStoredVerbatim() throws {
        let temporary = TemporaryStore()
        let store = try temporary.open()
        let template = try store.ensureTemplate(named: "t")
        let variant = try store.ensureVariant(templateID: template.id, named: "v")
        let nasty = "x'); DROP TABLE templates; -- \"quoted\" 日本"
        _ = try store.addRevision(variantID: variant.id, source: nasty, hash: nasty, origin: nasty, note: nasty)
        #expect(try store.latestRevision(variantID: variant.id)?.source == nasty)
        #expect(try store.templates().map(\.name) == ["t"])
    }
}

struct CaseStoreTests {
    func cases(_ specs: [(String, String, String)]) -> [EvalCase] {
        specs.map { EvalCase(id: $0.0, vars: ["text": .string($0.1)], expected: .string($0.2), split: .dev) }
    }

    @Test func syncingAddsChangesAndRetiresCasesByID() throws {
        let temporary = TemporaryStore()
        let store = try temporary.open()
        let (record, _) = try store.upsertEvalset(name: "s", settingsJSON: "{}", source: "evalsets/s.jsonl")
        let first = try store.syncCases(
            evalsetID: record.id, cases: cases([("a", "one", "x"), ("b", "two", "y"), ("c", "three", "z")]),
            inputVariable: nil)
        #expect(first.added == ["a", "b", "c"])
        let oldB = try #require(try store.activeCase(evalsetID: record.id, key: "b"))

        let second = try store.syncCases(
            evalsetID: record.id, cases: cases([("b", "two", "CHANGED"), ("a", "one", "x"), ("d", "four", "w")]),
            inputVariable: nil)
        #expect(second.added == ["d"])
        #expect(second.changed == ["b"])
        #expect(second.removed == ["c"])
        #expect(second.unchanged == 1)
        let active = try store.cases(evalsetID: record.id)
        #expect(active.map(\.evalCase.id) == ["b", "a", "d"])
        #expect(active[0].evalCase.expected == "CHANGED")
        // The old version of b is kept for the results that point at it.
        #expect(try store.cases(rowIDs: [oldB.rowID])[oldB.rowID]?.evalCase.expected == "y")

        let third = try store.syncCases(
            evalsetID: record.id, cases: cases([("b", "two", "CHANGED"), ("a", "one", "x"), ("d", "four", "w")]),
            inputVariable: nil)
        #expect(third.isEmpty)
        #expect(try store.splitCounts(evalsetID: record.id) == [.dev: 3])
    }

    @Test func activeCasesAreSearchableWithinTheirEvalSetIncludingJapanese() throws {
        let temporary = TemporaryStore()
        let store = try temporary.open()
        let (japanese, _) = try store.upsertEvalset(name: "ja", settingsJSON: "{}", source: "")
        let (other, _) = try store.upsertEvalset(name: "other", settingsJSON: "{}", source: "")
        let train = { (id: String, text: String) in
            EvalCase(id: id, vars: ["text": .string(text)], expected: "x", split: .train)
        }
        _ = try store.syncCases(
            evalsetID: japanese.id, cases: [train("1", "荷物がまだ届きません"), train("2", "パスワードを忘れました")],
            inputVariable: "text")
        _ = try store.syncCases(evalsetID: other.id, cases: [train("9", "パスワードを変更したい")], inputVariable: "text")
        let search = { (evalset: Int) in
            try store.searchCases(
                evalsetID: evalset, split: .train, match: SearchQuery.match("パスワードを変えたい")!, limit: 5, excluding: 0
            ).map(\.evalCase.id)
        }
        #expect(try search(japanese.id) == ["2"])
        #expect(try search(other.id) == ["9"])
        // A retired case leaves the index; its replacement is found instead.
        _ = try store.syncCases(
            evalsetID: japanese.id, cases: [train("1", "荷物がまだ届きません"), train("2", "パスワードの再設定方法")],
            inputVariable: "text")
        #expect(try search(japanese.id) == ["2"])
        #expect(try store.database.queryFirst("SELECT COUNT(*) FROM cases_fts") { $0.int(0) } == 3)
    }

    @Test func reindexingFollowsANewInputVariable() throws {
        let temporary = TemporaryStore()
        let store = try temporary.open()
        let (record, _) = try store.upsertEvalset(name: "s", settingsJSON: "{}", source: "")
        _ = try store.syncCases(
            evalsetID: record.id,
            cases: [EvalCase(id: "a", vars: ["q": "tide tables", "note": "harbor"], expected: "x", split: .train)],
            inputVariable: "q")
        let find = { (word: String) in
            try store.searchCases(
                evalsetID: record.id, split: .train, match: SearchQuery.match(word)!, limit: 5, excluding: 0
            ).count
        }
        #expect(try find("tide") == 1)
        #expect(try find("harbor") == 0)
        try store.reindexCases(evalsetID: record.id, inputVariable: "note")
        #expect(try find("tide") == 0)
        #expect(try find("harbor") == 1)
    }
}

struct CorpusStoreTests {
    @Test func documentsAreIndexedReplacedAndSearched() throws {
        let temporary = TemporaryStore()
        let store = try temporary.open()
        let corpus = try store.ensureCorpus(named: "handbook")
        let first = try store.syncDocuments(
            corpusID: corpus.id,
            passagesBySource: [
                "leave.md": [Passage(title: "Leave", body: "Employees receive 27 days of paid leave.")],
                "配送.md": [Passage(title: "配送", body: "配送は通常三日以内です。"), Passage(title: "配送", body: "送料は無料です。")],
            ], replaceAll: true)
        #expect(first.added == 3 && first.removed == 0)
        #expect(
            try store.searchDocuments(corpusID: corpus.id, match: SearchQuery.match("paid leave")!, limit: 5).map(
                \.document.source)
                == ["leave.md"])
        #expect(
            try store.searchDocuments(corpusID: corpus.id, match: SearchQuery.match("三日以内")!, limit: 5).map(
                \.document.chunk) == [0])

        let second = try store.syncDocuments(
            corpusID: corpus.id,
            passagesBySource: ["leave.md": [Passage(title: "Leave", body: "Employees receive 30 days of paid leave.")]],
            replaceAll: true)
        #expect(second.added == 1 && second.removed == 3)
        #expect(try store.searchDocuments(corpusID: corpus.id, match: SearchQuery.match("三日以内")!, limit: 5).isEmpty)
        #expect(
            try store.searchDocuments(corpusID: corpus.id, match: SearchQuery.match("30 days")!, limit: 5).count == 1)
        #expect(try store.searchDocuments(corpusID: corpus.id, match: SearchQuery.match("27")!, limit: 5).isEmpty)
    }
}

struct NULTests {
    @Test func aNULInsideTextIsStoredWhole() throws {
        let temporary = TemporaryStore()
        let store = try temporary.open()
        let output = "before\u{0}after"
        try store.storeResponse(
            CachedResponse(
                key: "k", output: output, finishReason: "stop", promptTokens: 1, completionTokens: 1,
                latencyMilliseconds: 1, logprobs: nil, timings: nil),
            provider: "llama.cpp", model: "m", request: ["prompt": "p"])
        #expect(try store.cachedResponse(key: "k")?.output == output)
    }
}

struct ConcurrentOpenTests {
    @Test func eightProcessesOpeningANewStoreAtOnceAllMigrateIt() throws {
        for _ in 0..<5 {
            let temporary = TemporaryStore()
            let failures = Mutex<[String]>([])
            let path = temporary.path
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                do {
                    let store = try Store(path: path)
                    _ = try store.userVersion()
                } catch {
                    failures.withLock { $0.append(String(describing: error)) }
                }
            }
            #expect(failures.withLock { $0 } == [])
            #expect(try temporary.open().userVersion() == Store.schemaVersion)
        }
    }

    @Test func aWriterWaitsMinutesForAnotherNotSeconds() throws {
        // An import holding the write lock for longer than ten seconds must not fail an eval.
        let temporary = TemporaryStore()
        let store = try temporary.open()
        #expect(try store.database.queryFirst("PRAGMA busy_timeout") { $0.int(0) } == 300_000)
    }
}

struct RunParametersTests {
    @Test func runsStoredBeforeAKeyExistedReadWithTheOldDefaults() throws {
        // A run stored before limit, adapter, one_token and shared_examples were written.
        let legacy = RunParameters(
            json: try JSONValue(parsing: #"{"repeat": 3, "seed": 7, "use_cache": false, "model_name": "local"}"#))
        #expect(legacy.repeats == 3)
        #expect(legacy.seed == 7)
        #expect(!legacy.useCache)
        #expect(legacy.concurrency == 4)
        #expect(legacy.modelName == "local")
        #expect(legacy.limit == nil && legacy.adapter == nil && legacy.sharedExamples == nil)
        #expect(legacy.reader == .generate && legacy.readTokens == 1)
        #expect(RunParameters(json: [:]) == RunParameters())
        // Before readers were named, a one-token run said so with a flag, and asked for one token.
        let oneToken = RunParameters(json: try JSONValue(parsing: #"{"one_token": true}"#))
        #expect(oneToken.reader == .oneToken && oneToken.readTokens == 1)
    }

    @Test func everyParameterSurvivesTheStore() throws {
        var parameters = RunParameters()
        parameters.repeats = 2
        parameters.seed = 11
        parameters.useCache = false
        parameters.concurrency = 3
        parameters.modelName = "vllm"
        parameters.scorers = [["type": "label", "labels": ["a", "b"]]]
        parameters.limit = 20
        parameters.adapter = "tuned"
        parameters.reader = .oneToken
        parameters.readTokens = 2
        parameters.sharedExamples = "Review: 良い\nSentiment: positive"
        #expect(RunParameters(json: try JSONValue(parsing: parameters.json.serialized())) == parameters)
    }
}
