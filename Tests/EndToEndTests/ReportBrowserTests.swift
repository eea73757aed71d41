import Foundation
import StubRuntime
import Testing

/// `pwb report` pages loaded in headless Chromium: the rendered DOM, not the HTML text, is what
/// the assertions read. Chromium is a test dependency (scripts/install-deps.sh installs it).
@Suite(.serialized)
struct ReportBrowserTests {
    /// Outputs that would break a careless page, given by the question variant for some cases.
    static let hostile = [
        "</script><script>document.title='owned'</script>", "<img src=x onerror=\"document.title='owned'\">",
        "<!-- never closed", "\"double\" 'single' `back`", "bell\u{07} escape\u{1B} tab\t",
        "line\u{2028}separator", "<style>*{display:none}</style>",
    ]

    /// The shipped examples and a stub model whose variants are right on different cases: the
    /// description variant when the review's length is even, the instruction variant when it is
    /// not a multiple of 3, the question variant always, except on the first dev reviews, where it
    /// answers with markup.
    final class Setup {
        let work: WorkFolder
        let stub: StubServer
        let hostileReviews: [String: String]
        /// The dev cases' review texts by case id.
        let devTexts: [String: String]

        init() async throws {
            work = try WorkFolder(copyingExamples: true)
            var labels: [String: String] = [:]
            var dev: [String] = []
            var devTexts: [String: String] = [:]
            for line in try work.read("evalsets/sentiment.jsonl").split(separator: "\n") {
                let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                let text = (json["vars"] as! [String: String])["text"]!
                labels[text] = json["expected"] as? String
                if json["split"] as? String == "dev" {
                    dev.append(text)
                    devTexts[json["id"] as! String] = text
                }
            }
            self.devTexts = devTexts
            hostileReviews = Dictionary(uniqueKeysWithValues: zip(dev, ReportBrowserTests.hostile))
            let known = labels
            let hostile = hostileReviews
            let model = StubModel { prompt in
                let text = (prompt.components(separatedBy: "Review: ").last ?? "").components(separatedBy: "\n")[0]
                let right = known[text] ?? "positive"
                let wrong = right == "positive" ? "negative" : "positive"
                if prompt.hasPrefix("Below are customer reviews") { return " " + (text.count % 2 == 0 ? right : wrong) }
                if prompt.hasPrefix("Classify the sentiment") { return " " + (text.count % 3 != 0 ? right : wrong) }
                return " " + (hostile[text] ?? right)
            }
            stub = try StubServer(model: model)
            try await work.pwb("import")
        }

        func pwb(_ arguments: String...) async throws -> PwbProcess.Result {
            try await PwbProcess.run(arguments, in: work.path, environment: ["PWB_ENDPOINT": stub.url.absoluteString])
        }
    }

    /// What Chromium made of a page: the DOM after its script ran, and its log.
    struct Rendered {
        var dom: String
        var log: String

        /// A `data-…` attribute's value, wherever it is.
        func attribute(_ name: String) -> String? {
            guard let range = dom.range(of: " \(name)=\"") else { return nil }
            return String(dom[range.upperBound...].prefix { $0 != "\"" })
        }

        /// The `data-case` ids of the rows drawn, in order.
        var caseIDs: [String] {
            dom.components(separatedBy: "<tr class=\"case\" data-case=\"").dropFirst().map {
                String($0.prefix { $0 != "\"" })
            }
        }

        /// Console messages and refused loads in Chromium's log.
        var complaints: [String] {
            log.split(separator: "\n").map(String.init).filter { $0.contains(":CONSOLE(") || $0.contains("Refused to") }
        }
    }

    /// Thrown, and so recorded as the test's failure, when Chromium is not installed.
    struct MissingBrowser: Error, CustomStringConvertible {
        var description: String {
            "Chromium is not installed, and the report tests need a real browser: run scripts/install-deps.sh, which installs Debian's chromium package."
        }
    }

    /// Chromium from the PATH; a missing browser fails the test with what to do.
    static func chromium() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser"] {
                let candidate = "\(folder)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        throw MissingBrowser()
    }

    /// Loads `file` (with `hash`) headless and returns the DOM once its scripts have run.
    static func render(
        _ file: String, hash: String = "", in work: WorkFolder, flags: [String] = []
    ) async throws -> Rendered {
        let browser = try chromium()
        let result = try await PwbProcess.run(
            [
                "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--enable-logging=stderr", "--v=0",
                "--user-data-dir=\(work.path)/chromium-profile", "--virtual-time-budget=3000", "--dump-dom",
            ] + flags + ["file://\(work.path)/\(file)" + (hash.isEmpty ? "" : "#" + hash)],
            in: work.path, timeout: 120, executable: browser)
        #expect(result.status == 0, "\(result)")
        return Rendered(dom: result.stdout, log: result.stderr)
    }

    @Test func theSentimentRunsShowEveryCaseAndTheDisagreeFilterMatchesMcNemar() async throws {
        let setup = try await Setup()
        let eval = try await setup.pwb("eval", "sentiment", "--json")
        #expect(eval.status == 0, "\(eval)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let runIDs = try #require((json["runs"] as? [[String: Any]])?.compactMap { $0["run"] as? Int })
        #expect(runIDs.count == 3)
        // Each case's scores by run, from the eval's own per-case rows.
        var scores: [String: [Int: Double]] = [:]
        for row in try #require(json["cases"] as? [[String: Any]]) {
            if let score = row["score"] as? Double {
                scores[row["case"] as! String, default: [:]][row["run"] as! Int] = score
            }
        }
        let disagreeing = Set(scores.filter { Set($0.value.values).count > 1 }.keys)
        let failing = Set(scores.filter { $0.value.count < 3 || $0.value.values.contains { $0 < 0.5 } }.keys)

        let report = try await PwbProcess.run(
            ["report", "--out", "all.html"] + runIDs.map(String.init), in: setup.work.path)
        #expect(report.status == 0, "\(report)")

        let all = try await Self.render("all.html", in: setup.work)
        #expect(all.attribute("data-errors") == "0", "\(all.attribute("data-last-error") ?? "")\n\(all.log)")
        #expect(all.attribute("data-blocked") == "0", "nothing was loaded, so nothing was refused")
        #expect(all.complaints.isEmpty, "\(all.complaints)")
        #expect(all.attribute("data-matching") == "80")
        #expect(all.caseIDs.count == 80 && all.caseIDs.first == "sent-001", "every dev case is a row, in order")
        #expect(all.dom.contains("<td class=\"pass\"><span class=\"mark\">✓</span>"))
        // Model text is text: the hostile outputs appear escaped, and made no element.
        #expect(all.dom.components(separatedBy: "<script").count == 3, "the page's own two scripts only")
        #expect(!all.dom.contains("<img") && !all.dom.contains("<style>*"))
        #expect(all.dom.components(separatedBy: "<style>").count == 2, "the page's own style only")
        #expect(all.dom.contains("&lt;img src=x onerror=\"document.title='owned'\"&gt;"))
        #expect(all.dom.contains("&lt;/script&gt;&lt;script&gt;document.title='owned'&lt;/script&gt;"))
        #expect(all.dom.contains("<title>sentiment on sentiment"), "no output changed the title")

        let disagree = try await Self.render("all.html", hash: "filter=disagree", in: setup.work)
        #expect(disagree.attribute("data-matching") == String(disagreeing.count))
        #expect(Set(disagree.caseIDs) == disagreeing)
        #expect(disagreeing.count > 10 && disagreeing.count < 80, "the stub makes the variants differ")

        let failures = try await Self.render("all.html", hash: "filter=failures&sort=diff", in: setup.work)
        #expect(Set(failures.caseIDs) == failing)
        let firstSpread = try #require(failures.caseIDs.first.flatMap { scores[$0] })
        #expect(Set(firstSpread.values).count > 1, "the largest score difference comes first")

        // The search looks at inputs (and expected answers and outputs, which here are labels).
        let mentioning = Set(setup.devTexts.filter { $0.value.lowercased().contains("subscription") }.keys)
        let search = try await Self.render("all.html", hash: "q=Subscription", in: setup.work)
        #expect(!mentioning.isEmpty && Set(search.caseIDs) == mentioning)

        // Between two of the three runs, the disagree filter leaves exactly McNemar's discordant
        // pairs of their comparison, and the page's link to them says so.
        let runIndex = Dictionary(uniqueKeysWithValues: runIDs.enumerated().map { ($0.element, $0.offset) })
        let comparisons = try #require(json["comparisons"] as? [[String: Any]])
        #expect(comparisons.count == 2)
        for comparison in comparisons {
            let a = try #require(runIndex[comparison["best_run"] as! Int])
            let b = try #require(runIndex[comparison["other_run"] as! Int])
            let expected = (comparison["only_a"] as! Int) + (comparison["only_b"] as! Int)
            let hash = "filter=disagree&pair=\(min(a, b)),\(max(a, b))"
            #expect(all.dom.contains("<a href=\"#\(hash.replacingOccurrences(of: "&", with: "&amp;"))\">"))
            let between = try await Self.render("all.html", hash: hash, in: setup.work)
            #expect(between.attribute("data-matching") == String(expected), "\(hash)")
        }

        // Two runs: the disagree filter leaves exactly McNemar's discordant pairs.
        let pair = try await setup.pwb("compare", String(runIDs[0]), String(runIDs[1]), "--json")
        #expect(pair.status == 0, "\(pair)")
        let compared = try #require(try JSONSerialization.jsonObject(with: Data(pair.stdout.utf8)) as? [String: Any])
        let comparison = try #require((compared["comparisons"] as? [[String: Any]])?.first)
        let discordant = try #require(comparison["only_a"] as? Int) + (comparison["only_b"] as! Int)
        let two = try await PwbProcess.run(
            ["report", "--out", "two.html", String(runIDs[0]), String(runIDs[1])], in: setup.work.path)
        #expect(two.status == 0, "\(two)")
        let twoRendered = try await Self.render("two.html", hash: "filter=disagree", in: setup.work)
        #expect(twoRendered.attribute("data-matching") == String(discordant))
        #expect(twoRendered.dom.contains("they disagree on \(discordant) ("))
    }

    /// A page beside the report that frames it and measures a Japanese row as drawn: each of its
    /// characters against U+0378 (unassigned, so drawn as the missing-glyph box). Without a CJK
    /// font every Japanese character is that box too, and the row is in the DOM but unreadable.
    static let measuringPage = #"""
        <!doctype html>
        <meta charset="utf-8">
        <body>
        <iframe id="page" src="ja.html" style="width: 1400px; height: 900px"></iframe>
        <script>
        const frame = document.getElementById('page');
        frame.addEventListener('load', () => {
          const out = document.body.dataset;
          const doc = frame.contentDocument;
          if (!doc) { out.error = 'no-access'; return; }
          const japanese = /[぀-ヿ一-鿿]/;
          const cell = [...doc.querySelectorAll('tr.case td')].find(td => japanese.test(td.textContent));
          if (!cell) { out.error = 'no-japanese-row'; return; }
          const chars = [...new Set([...cell.textContent].filter(c => japanese.test(c)))].slice(0, 40);
          const probe = doc.createElement('span');
          probe.style.whiteSpace = 'pre';
          cell.appendChild(probe);
          const width = text => { probe.textContent = text; return probe.getBoundingClientRect().width; };
          const box = width('͸');
          out.chars = chars.join('');
          out.missing = chars.filter(c => Math.abs(width(c) - box) < 0.01).join('');
          out.text = width(chars.join(''));
          out.boxes = width('͸'.repeat(chars.length));
        });
        </script>
        """#

    @Test func japaneseRowsAreDrawnWithRealGlyphsNotMissingGlyphBoxes() async throws {
        let work = try WorkFolder(copyingExamples: true)
        let stub = try StubServer(model: StubModel { _ in " 配送" })
        defer { stub.stop() }
        try await work.pwb("import")
        let environment = ["PWB_ENDPOINT": stub.url.absoluteString]
        let eval = try await work.pwb(
            "eval", "ja-inquiry", "--variants", "instruction", "--limit", "5", environment: environment)
        #expect(eval.status == 0, "\(eval)")
        let report = try await work.pwb("report", "1", "--out", "ja.html")
        #expect(report.status == 0, "\(report)")
        try work.write("measure.html", Self.measuringPage)
        // Files may read each other only with this flag: the measuring page reads the report's layout.
        let rendered = try await Self.render("measure.html", in: work, flags: ["--allow-file-access-from-files"])
        #expect(rendered.attribute("data-error") == nil, "\(rendered.dom.prefix(400))")
        let chars = try #require(rendered.attribute("data-chars"))
        #expect(chars.count >= 10, "a Japanese row was measured: \(chars)")
        #expect(
            rendered.attribute("data-missing") == "",
            "drawn as missing-glyph boxes: \(rendered.attribute("data-missing") ?? ""); install a CJK font (scripts/install-deps.sh installs fonts-noto-cjk)"
        )
        #expect(rendered.attribute("data-text") != rendered.attribute("data-boxes"))
    }

    @Test func anAdvicePageRendersWithoutErrorsOrLoads() async throws {
        let setup = try await Setup()
        let advice = try await setup.pwb(
            "advise", "sentiment", "--budget", "8", "--max-shots", "2", "--draws", "1", "--follow-up", "0")
        #expect(advice.status == 0, "\(advice)")
        let report = try await setup.pwb("report", "--advice", "latest", "--out", "advice.html")
        #expect(report.status == 0, "\(report)")
        let rendered = try await Self.render("advice.html", in: setup.work)
        #expect(rendered.dom.contains("<h1>Advice #1 for sentiment on sentiment (dev)</h1>"))
        #expect(rendered.dom.components(separatedBy: "<figure>").count == 4, "ladder, cost against quality, curve")
        #expect(rendered.complaints.isEmpty, "\(rendered.complaints)")
        // Every case with each rung's answer: the 8 cases scored, one column per rung.
        #expect(rendered.attribute("data-matching") == "8", "\(rendered.dom.prefix(400))")
        #expect(Set(rendered.caseIDs).count == 8)
        let json = try await setup.pwb("advise", "--show", "latest", "--json")
        let stored = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let rungs = try #require(stored["rungs"] as? [[String: Any]])
        for label in rungs.compactMap({ $0["label"] as? String }) where label.contains("similar") {
            #expect(rendered.dom.contains("similar"), "the rung \(label) has a column")
        }
    }

    @Test func openHandsThePageToTheBrowserOrSaysWhereItIs() async throws {
        let setup = try await Setup()
        let eval = try await setup.pwb("eval", "sentiment", "--variants", "instruction", "--limit", "5")
        #expect(eval.status == 0, "\(eval)")
        let browser = setup.work.path + "/browser.sh"
        try setup.work.write("browser.sh", "#!/bin/sh\nprintf '%s' \"$1\" > \"${0%/*}/opened.txt\"\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: browser)
        let opened = try await PwbProcess.run(
            ["report", "1", "--open"], in: setup.work.path,
            environment: ["BROWSER": "no-such-browser:" + browser, "PATH": "/nonexistent"])
        #expect(opened.status == 0, "\(opened)")
        #expect(opened.stderr.contains("wrote .pwb/reports/runs-1.html; opened it with \(browser)"), "\(opened)")
        let page = setup.work.path + "/.pwb/reports/runs-1.html"
        var handed = ""
        for _ in 0..<50 where handed.isEmpty {
            handed = (try? setup.work.read("opened.txt")) ?? ""
            if handed.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(handed.hasSuffix("/.pwb/reports/runs-1.html") && handed.hasPrefix("/"), "an absolute path: \(handed)")
        #expect(FileManager.default.fileExists(atPath: page))

        let nowhere = try await PwbProcess.run(
            ["report", "1", "--open", "--out", "r.html"], in: setup.work.path,
            environment: ["BROWSER": "", "PATH": "/nonexistent"])
        #expect(nowhere.status == 0, "\(nowhere)")
        #expect(nowhere.stderr.contains("wrote r.html; no browser found"), "\(nowhere)")
        #expect(nowhere.stderr.contains("open file://\(setup.work.path)/r.html yourself"), "\(nowhere)")
    }
}
