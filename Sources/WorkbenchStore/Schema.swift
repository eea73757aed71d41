/// The store's schema, as an ordered list of migrations. `PRAGMA user_version` records how many
/// have run; opening a file runs the missing ones in one transaction, and refuses a file written
/// by a newer `pwb`. Never edit a migration that has shipped: add the next one.
enum Schema {
    static let migrations: [String] = [version1, version2, version3, version4]

    static var latestVersion: Int { migrations.count }

    static let now = "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"

    static let version1 = """
        CREATE TABLE templates (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL DEFAULT \(now)
        );

        CREATE TABLE variants (
            id INTEGER PRIMARY KEY,
            template_id INTEGER NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            created_at TEXT NOT NULL DEFAULT \(now),
            UNIQUE (template_id, name)
        );

        -- A revision is the whole text of a variant (canonical front matter + body) at one time.
        -- Revisions are never rewritten: an edit adds the next number.
        CREATE TABLE revisions (
            id INTEGER PRIMARY KEY,
            variant_id INTEGER NOT NULL REFERENCES variants(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            hash TEXT NOT NULL,
            source TEXT NOT NULL,
            origin TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL DEFAULT \(now),
            UNIQUE (variant_id, number)
        );
        CREATE INDEX revisions_by_hash ON revisions (variant_id, hash);
        CREATE TRIGGER revisions_are_immutable BEFORE UPDATE ON revisions
        BEGIN SELECT RAISE(ABORT, 'revisions are immutable; add a new one'); END;

        CREATE TABLE evalsets (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            settings TEXT NOT NULL DEFAULT '{}',
            source TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL DEFAULT \(now),
            updated_at TEXT NOT NULL DEFAULT \(now)
        );

        -- A case whose content changes is retired and a new row takes its key, so results of
        -- earlier runs still point at the case they were scored against.
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            evalset_id INTEGER NOT NULL REFERENCES evalsets(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            position INTEGER NOT NULL,
            vars TEXT NOT NULL,
            expected TEXT NOT NULL,
            split TEXT NOT NULL CHECK (split IN ('train', 'dev', 'test')),
            tags TEXT NOT NULL DEFAULT '[]',
            hash TEXT NOT NULL,
            retired INTEGER NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX cases_active_key ON cases (evalset_id, key) WHERE retired = 0;
        CREATE INDEX cases_by_split ON cases (evalset_id, split, position) WHERE retired = 0;

        -- Similar-example search over the inputs of active cases. The index holds each input as
        -- SearchText makes it (words, and two-character tokens for text without spaces), which
        -- the import computes; `scope` names the eval set, so a search reads only its rows.
        CREATE VIRTUAL TABLE cases_fts USING fts5 (scope, text, tokenize = 'unicode61 remove_diacritics 2');
        CREATE TRIGGER cases_fts_retire AFTER UPDATE OF retired ON cases WHEN new.retired = 1 BEGIN
            DELETE FROM cases_fts WHERE rowid = old.id;
        END;
        CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
            DELETE FROM cases_fts WHERE rowid = old.id;
        END;

        CREATE TABLE corpora (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL DEFAULT \(now)
        );

        -- A document is one passage (chunk) of a source file or JSONL record.
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            corpus_id INTEGER NOT NULL REFERENCES corpora(id) ON DELETE CASCADE,
            source TEXT NOT NULL,
            chunk INTEGER NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL,
            hash TEXT NOT NULL,
            UNIQUE (corpus_id, source, chunk)
        );
        -- Retrieval over passages (title and body), indexed like cases_fts; `scope` names the corpus.
        CREATE VIRTUAL TABLE documents_fts USING fts5 (scope, text, tokenize = 'unicode61 remove_diacritics 2');
        CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
            DELETE FROM documents_fts WHERE rowid = old.id;
        END;

        -- One run scores one revision with one model and one strategy on a list of cases.
        -- Runs started together by one `pwb eval` share a batch.
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            batch TEXT NOT NULL,
            template_id INTEGER NOT NULL REFERENCES templates(id),
            revision_id INTEGER NOT NULL REFERENCES revisions(id),
            evalset_id INTEGER NOT NULL REFERENCES evalsets(id),
            split TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            strategy TEXT NOT NULL DEFAULT '{}',
            plan TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'completed', 'interrupted', 'failed')),
            summary TEXT,
            created_at TEXT NOT NULL DEFAULT \(now),
            finished_at TEXT
        );
        CREATE INDEX runs_by_batch ON runs (batch);

        -- The response cache: the key hashes everything that determines a response.
        CREATE TABLE responses (
            key TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            request TEXT NOT NULL,
            output TEXT NOT NULL,
            finish_reason TEXT,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            latency_ms REAL NOT NULL,
            logprobs TEXT,
            timings TEXT,
            created_at TEXT NOT NULL DEFAULT \(now)
        ) WITHOUT ROWID;

        CREATE TABLE results (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            sample INTEGER NOT NULL DEFAULT 0,
            response_key TEXT REFERENCES responses(key),
            output TEXT,
            score REAL,
            scores TEXT NOT NULL DEFAULT '{}',
            error TEXT,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            latency_ms REAL,
            cached INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL DEFAULT \(now),
            UNIQUE (run_id, case_id, sample)
        );
        -- Foreign keys are checked from the parent side too: without these, replacing a cached
        -- response or retiring a case scans every result.
        CREATE INDEX results_by_response ON results (response_key);
        CREATE INDEX results_by_case ON results (case_id);

        CREATE TABLE advice (
            id INTEGER PRIMARY KEY,
            template_id INTEGER NOT NULL REFERENCES templates(id),
            evalset_id INTEGER NOT NULL REFERENCES evalsets(id),
            params TEXT NOT NULL DEFAULT '{}',
            report TEXT NOT NULL,
            created_at TEXT NOT NULL DEFAULT \(now)
        );
        """

    /// LoRA adapters trained by `pwb finetune`: the GGUF file (under the workspace) with its
    /// SHA-256, the model it was trained for, and how it was trained (settings, data, loss, time).
    static let version2 = """
        CREATE TABLE adapters (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            evalset_id INTEGER NOT NULL REFERENCES evalsets(id),
            revision_id INTEGER NOT NULL REFERENCES revisions(id),
            base_model TEXT NOT NULL,
            path TEXT NOT NULL,
            hash TEXT NOT NULL,
            training TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL DEFAULT \(now)
        );
        """

    /// Why a result failed, beside the sentence in `error` (see `ResultRecord.ErrorKind`); NULL
    /// for results stored before it, which are read by their sentence.
    static let version3 = """
        ALTER TABLE results ADD COLUMN error_kind TEXT;
        """

    /// What the server applied when it answered: the LoRA scales the request stated, as JSON
    /// (`[]` when the server had no adapter loaded). Answers stored before it was recorded are
    /// NULL, except those that may have been computed with the wrong adapters, which are marked
    /// `unknown` and never served again: every answer of a tuned model (`+lora:`), and the base
    /// answers of a llama.cpp model an adapter was trained for, stored after the adapter was. A
    /// base request that stated no scales was answered at llama-server's global ones, 1 for every
    /// adapter it loaded; and its host-memory prompt cache restored a prompt's saved state for
    /// any request beginning with it, whichever adapters had computed it.
    static let version4 = """
        ALTER TABLE responses ADD COLUMN adapters TEXT;
        UPDATE responses SET adapters = 'unknown'
        WHERE provider = 'llama.cpp'
          AND (instr(model, '+lora:') > 0
               OR EXISTS (SELECT 1 FROM adapters a WHERE a.base_model = responses.model
                                                     AND a.created_at <= responses.created_at));
        """
}
