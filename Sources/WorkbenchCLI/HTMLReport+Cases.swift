import Foundation
import Workbench
import WorkbenchCore

/// The parts of the runs page that go beyond the scores: every case side by side, the paired
/// tests as pictures, the confusion as a heat map, and what was run.
extension HTMLReport {
    /// Rows drawn at a time: a page of 5,000 cases stays quick because only these are in the DOM.
    static let casePage = 100

    // MARK: - The case matrix

    /// The matrix of cases: the controls and an empty table the inline script fills from the
    /// embedded JSON, a page of rows at a time. Filters and search can be set in the URL hash
    /// (`#filter=disagree&sort=diff&q=refund`, and `pair=0,2` to compare only the first and third run).
    static func caseMatrix(_ matrix: CaseMatrix, report: EvalReport) -> String {
        let names = report.runs.map { "\(ReportRendering.name($0, in: report)) · run \($0.run.id)" }
        let head = (["case", "input", "expected"] + names).map { "<th>\(escape($0))</th>" }.joined()
        // With three runs or more, "disagree" and the order can look at one pair of them.
        var pairs = ""
        if report.runs.count > 2 {
            var options = ["<option value=\"\">all runs</option>"]
            for a in report.runs.indices {
                for b in report.runs.indices where b > a {
                    options.append(
                        "<option value=\"\(a),\(b)\">\(escape(names[a])) and \(escape(names[b]))</option>")
                }
            }
            pairs = "\n<label>Between <select id=\"case-pair\">\(options.joined())</select></label>"
        }
        return """
            <section class="full" id="cases"><h2>Every case</h2>
            <p class="note">Each run's output and score per case: green passed, red failed, amber partly, grey an error. \
            "Where runs disagree" keeps the cases whose scores differ between runs (errors left out, as in the paired tests).</p>
            <div class="controls">
            <label>Show <select id="case-filter">\
            <option value="all">all cases</option>\
            <option value="failures">only failures</option>\
            <option value="disagree">only where runs disagree</option></select></label>
            <label>Order <select id="case-sort">\
            <option value="case">as in the eval set</option>\
            <option value="diff">largest score difference first</option></select></label>\(pairs)
            <label>Search <input id="case-search" type="search" placeholder="case, input, expected or output"></label>
            <span id="case-status" role="status"></span>
            </div>
            <table class="cases"><thead><tr>\(head)</tr></thead><tbody id="case-rows"></tbody></table>
            <button id="case-more" type="button" hidden>Show more</button>
            <noscript><p class="note">The case table is drawn by the page's script; \
            pwb eval --csv lists the same cases.</p></noscript>
            <script type="application/json" id="case-data">\(scriptJSON(caseData(matrix, report: report)))</script>
            </section>
            """
    }

    /// Texts longer than this many characters are cut in the page, so a run of runaway outputs
    /// cannot make it unreadably large; the store and `pwb runs show RUN --json` keep them whole.
    static let longestText = 10_000

    static func cut(_ text: String) -> String {
        guard text.count > longestText else { return text }
        return String(text.prefix(longestText))
            + " … [\(text.count - longestText) more characters are in the store: pwb runs show RUN --json]"
    }

    /// The matrix as compact JSON: `rows` are `[id, input, expected, [[output, score, error] | null …]]`.
    static func caseData(_ matrix: CaseMatrix, report: EvalReport) -> JSONValue {
        let runs: [JSONValue] = report.runs.map { run in
            ["run": .number(Double(run.run.id)), "pass_fail": .bool(run.headline?.isPassFail ?? false)]
        }
        let rows: [JSONValue] = matrix.rows.map { row in
            .array([
                .string(row.id), .string(cut(row.input)), .string(cut(row.expected == .null ? "" : row.expected.text)),
                .array(
                    row.cells.map { cell in
                        guard let cell else { return .null }
                        return .array([
                            cell.output.map { .string(cut($0)) } ?? .null, cell.score.map { .number($0) } ?? .null,
                            cell.error.map { .string(cut($0)) } ?? .null,
                        ])
                    }),
            ])
        }
        return ["runs": .array(runs), "rows": .array(rows)]
    }

    /// JSON safe inside a `<script>` element: no `<`, `>` or `&` can close it or open a comment,
    /// and the two line separators JavaScript once treated as line ends are escaped too.
    static func scriptJSON(_ value: JSONValue) -> String {
        let serialized = value.serialized()
        var safe = String.UnicodeScalarView()
        safe.reserveCapacity(serialized.utf8.count)
        for scalar in serialized.unicodeScalars {
            switch scalar {
            case "<": safe.append(contentsOf: #"\u003c"#.unicodeScalars)
            case ">": safe.append(contentsOf: #"\u003e"#.unicodeScalars)
            case "&": safe.append(contentsOf: #"\u0026"#.unicodeScalars)
            case "\u{2028}": safe.append(contentsOf: #"\u2028"#.unicodeScalars)
            case "\u{2029}": safe.append(contentsOf: #"\u2029"#.unicodeScalars)
            default: safe.append(scalar)
            }
        }
        return String(safe)
    }

    // MARK: - Paired tests and the confusion

    /// Per comparison, the cases counted both ways (a 2×2 table for pass/fail, higher/equal/lower
    /// otherwise) and the verdict in words.
    static func pairedPictures(_ report: EvalReport) -> String {
        guard let best = report.best, !report.comparisons.isEmpty else { return "" }
        let bestName = ReportRendering.name(report.runs[best], in: report)
        let parts = report.comparisons.map { other, comparison -> String in
            let otherName = ReportRendering.name(report.runs[other], in: report)
            let a = report.runs[best].perCase
            let b = report.runs[other].perCase
            let shared = a.keys.filter { b[$0] != nil }
            let table: String
            if comparison.onlyA != nil {
                let passed = { (score: Double) in score >= 0.5 }
                let both = shared.count { passed(a[$0]!) && passed(b[$0]!) }
                let onlyA = shared.count { passed(a[$0]!) && !passed(b[$0]!) }
                let onlyB = shared.count { !passed(a[$0]!) && passed(b[$0]!) }
                let neither = shared.count - both - onlyA - onlyB
                table = """
                    <table class="pair"><tr><th></th><th>\(escape(otherName)) right</th><th>\(escape(otherName)) wrong</th></tr>
                    <tr><th>\(escape(bestName)) right</th><td class="same">\(both)<small>both right</small></td>\
                    <td class="win">\(onlyA)<small>only \(escape(bestName))</small></td></tr>
                    <tr><th>\(escape(bestName)) wrong</th><td class="loss">\(onlyB)<small>only \(escape(otherName))</small></td>\
                    <td class="same">\(neither)<small>neither</small></td></tr></table>
                    """
            } else {
                let higher = shared.count { a[$0]! > b[$0]! }
                let lower = shared.count { a[$0]! < b[$0]! }
                table = """
                    <table class="pair"><tr><th>\(escape(bestName)) higher</th><th>equal</th><th>\(escape(otherName)) higher</th></tr>
                    <tr><td class="win">\(higher)</td><td class="same">\(shared.count - higher - lower)</td>\
                    <td class="loss">\(lower)</td></tr></table>
                    """
            }
            let link =
                "<p><a href=\"#filter=disagree&amp;pair=\(min(best, other)),\(max(best, other))\">the cases where they differ</a></p>"
            return "<div class=\"paired\"><h3>\(escape(bestName)) against \(escape(otherName))</h3>\(table)\(link)"
                + "<p>\(escape(verdict(comparison, best: bestName, other: otherName, many: report.comparisons.count > 1)))</p></div>"
        }
        return parts.joined(separator: "\n")
    }

    /// The paired verdict as a sentence.
    static func verdict(_ comparison: Comparison, best: String, other: String, many: Bool) -> String {
        let gap = ReportRendering.number(abs(comparison.difference))
        var text =
            "\(best) scores \(gap) \(comparison.difference >= 0 ? "higher" : "lower") than \(other) on \(comparison.pairs) shared cases"
        if let onlyA = comparison.onlyA, let onlyB = comparison.onlyB {
            text += "; they disagree on \(onlyA + onlyB) (\(onlyA) only \(best) right, \(onlyB) only \(other) right)"
        } else if let interval = comparison.interval {
            text +=
                "; the difference's 95% interval is [\(ReportRendering.number(interval.lower)), \(ReportRendering.number(interval.upper))]"
        }
        text += ". \(comparison.method.rawValue) \(ReportRendering.pValue(comparison.p))"
        if many { text += ", Holm-adjusted \(ReportRendering.pValue(comparison.adjustedP))" }
        text +=
            comparison.isSignificant
            ? ": the difference is real, \(best) is better."
            : ": not a significant difference; the gap could be chance, so more cases are needed to tell them apart."
        return text
    }

    /// A run's confusion (rows expected, columns answered) with each cell shaded by its share of
    /// the row's cases, so a label's usual mistake stands out.
    static func confusionHeatMap(_ summary: ScorerSummary, title: String) -> String? {
        guard let confusion = summary.confusion, let labels = summary.labels, labels.count <= 12 else { return nil }
        let columns = labels + ["(none)"]
        var html = "<figure><table class=\"heat\"><tr><th>expected ↓ answered →</th>"
        html += columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
        for (row, label) in labels.enumerated() where row < confusion.count {
            let total = max(1, confusion[row].reduce(0, +))
            html += "<tr><th>\(escape(label))</th>"
            for (column, count) in confusion[row].enumerated() {
                let share = Double(count) / Double(total)
                let kind = column == row ? "hit" : "miss"
                let colour = column == row ? "21,128,61" : "220,38,38"
                let ink = share > 0.55 ? "color:#fff;" : ""
                html +=
                    "<td class=\"\(kind)\" style=\"\(ink)background:rgba(\(colour),\(Chart.f(share * 0.9)))\" title=\"\(percentText(share)) of \(escape(label))\">\(count)</td>"
            }
            html += "</tr>"
        }
        return html + "</table><figcaption>\(escape(title))</figcaption></figure>"
    }

    static func percentText(_ share: Double) -> String { ReportRendering.percent(share) }

    // MARK: - What was run

    /// Per run: the prompt file, model and identity, sampling, seed, strategy, cache share, status,
    /// then the request sent for one case, the prompt's difference from the first run's, and errors.
    static func whatWasRun(_ report: EvalReport, details: [RunDetails]) -> String {
        guard details.count == report.runs.count else { return "" }
        var table = Table(
            [
                "RUN", "PROMPT", "MODEL", "IDENTITY", "PROVIDER", "STRATEGY", "SEED", "SAMPLING", "CACHED",
                "STATUS", "ERRORS",
            ].map { Table.Column($0) })
        for (run, detail) in zip(report.runs, details) {
            table.add([
                String(run.run.id), run.reference, run.modelName, run.run.model, detail.provider, run.strategy.label,
                String(run.run.params.seed), sampling(detail.request),
                ReportRendering.percent(run.cachedShare),
                run.run.status.rawValue, String(run.errors),
            ])
        }
        var html = [HTMLReport.table(table)]
        for (index, (run, detail)) in zip(report.runs, details).enumerated() {
            var parts: [String] = []
            if let request = detail.request {
                parts.append(
                    "<details><summary>run \(run.run.id), \(escape(run.reference)): the prompt sent for case \(escape(detail.shownCase ?? "?"))</summary>"
                        + "<pre class=\"prompt\">\(escape(promptText(request)))</pre></details>")
            }
            if index > 0 {
                let diff = LineDiff(old: details[0].source, new: detail.source)
                if diff.isEmpty {
                    parts.append(
                        "<p class=\"note\">run \(run.run.id) uses the same prompt file as run \(report.runs[0].run.id).</p>"
                    )
                } else {
                    parts.append(
                        "<details open><summary>the prompt file of run \(run.run.id) (\(escape(run.reference))) against run \(report.runs[0].run.id) (\(escape(report.runs[0].reference))): +\(diff.addedCount) −\(diff.removedCount) lines</summary>"
                            + "<pre class=\"diff\">\(diffLines(diff))</pre></details>")
                }
            }
            if !detail.errors.isEmpty {
                let items = detail.errors.prefix(10).map { "<li>\($0.count) × \(escape($0.message))</li>" }.joined()
                let rest = detail.errors.count > 10 ? "<li>… \(detail.errors.count - 10) other messages</li>" : ""
                parts.append("<p>Errors of run \(run.run.id):</p><ul class=\"errors\">\(items)\(rest)</ul>")
            }
            html.append(parts.joined(separator: "\n"))
        }
        return html.joined(separator: "\n")
    }

    /// The sampling settings of a stored request, as `temperature 0 · max_tokens 8 · stop "\n"`.
    static func sampling(_ request: JSONValue?) -> String {
        guard let request else { return "–" }
        var parts: [String] = []
        for key in ["temperature", "top_p", "top_k", "max_tokens", "top_logprobs"] {
            if let value = request[key], value != .null, !(key == "top_logprobs" && value.doubleValue == 0) {
                parts.append("\(key) \(value.text)")
            }
        }
        if let stop = request["stop"]?.arrayValue, !stop.isEmpty {
            parts.append("stop " + stop.map { JSONValue.string($0.text).serialized() }.joined(separator: " "))
        }
        return parts.joined(separator: " · ")
    }

    /// The prompt of a stored request: its text, or its messages as `role:` paragraphs.
    static func promptText(_ request: JSONValue) -> String {
        if let prompt = request["prompt"]?.stringValue { return prompt }
        let messages = request["messages"]?.arrayValue ?? []
        return messages.map { "\($0["role"]?.text ?? ""):\n\($0["content"]?.text ?? "")" }.joined(separator: "\n\n")
    }

    static func diffLines(_ diff: LineDiff) -> String {
        diff.lines.map { line in
            switch line {
            case .same(let text): "<span>  \(escape(text))</span>"
            case .removed(let text): "<del>- \(escape(text))</del>"
            case .added(let text): "<ins>+ \(escape(text))</ins>"
            }
        }.joined()  // each line is a block of its own
    }

    // MARK: - The script

    /// Draws the case matrix: filters, search, order, a page of rows at a time. Text from the
    /// model only ever becomes `textContent`, never markup. Errors and blocked loads are recorded
    /// on `<html>` (`data-errors`, `data-blocked`, and `data-ready-ms` when the rows are drawn) so
    /// a headless browser can check them.
    static let caseScript = #"""
        (function () {
          "use strict";
          var root = document.documentElement;
          root.dataset.errors = "0";
          root.dataset.blocked = "0";
          window.addEventListener("error", function (event) {
            root.dataset.errors = String(Number(root.dataset.errors) + 1);
            root.dataset.lastError = String(event.message);
          });
          document.addEventListener("securitypolicyviolation", function () {
            root.dataset.blocked = String(Number(root.dataset.blocked) + 1);
          });
          document.addEventListener("DOMContentLoaded", function () {
            var source = document.getElementById("case-data");
            if (!source) return;
            var data = JSON.parse(source.textContent);
            var runs = data.runs, rows = data.rows;
            var body = document.getElementById("case-rows");
            var status = document.getElementById("case-status");
            var more = document.getElementById("case-more");
            var filter = document.getElementById("case-filter");
            var sort = document.getElementById("case-sort");
            var search = document.getElementById("case-search");
            var PAGE = 100, FOLD = 240, FOLD_LINES = 6;
            var matching = [], shown = 0, texts = [];

            var pair = document.getElementById("case-pair");
            function compared(row) {
              if (!pair || !pair.value) return row[3];
              var chosen = pair.value.split(",");
              return [row[3][Number(chosen[0])], row[3][Number(chosen[1])]];
            }
            function scores(row) {
              var list = [];
              compared(row).forEach(function (cell) { if (cell && cell[1] !== null) list.push(cell[1]); });
              return list;
            }
            function spread(row) {
              var list = scores(row);
              return list.length < 2 ? 0 : Math.max.apply(null, list) - Math.min.apply(null, list);
            }
            function failed(row) {
              return row[3].some(function (cell) { return !cell || cell[1] === null || cell[1] < 0.5; });
            }
            function text(index) {
              if (texts[index] === undefined) {
                var row = rows[index], parts = [row[0], row[1], row[2]];
                row[3].forEach(function (cell) { if (cell) parts.push(cell[0] || "", cell[2] || ""); });
                texts[index] = parts.join("\n").toLowerCase();
              }
              return texts[index];
            }
            function readHash() {
              var params = new URLSearchParams(location.hash.slice(1));
              filter.value = ["failures", "disagree"].indexOf(params.get("filter")) >= 0 ? params.get("filter") : "all";
              sort.value = params.get("sort") === "diff" ? "diff" : "case";
              search.value = params.get("q") || "";
              if (pair) {
                pair.value = params.get("pair") || "";
                if (pair.selectedIndex < 0) pair.value = "";
              }
            }
            function writeHash() {
              var params = new URLSearchParams();
              if (filter.value !== "all") params.set("filter", filter.value);
              if (sort.value !== "case") params.set("sort", sort.value);
              if (search.value) params.set("q", search.value);
              if (pair && pair.value) params.set("pair", pair.value);
              var hash = params.toString();
              history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
            }
            function folded(value, className) {
              var lines = value.split("\n");
              if (value.length <= FOLD && lines.length <= FOLD_LINES) {
                var plain = document.createElement("div");
                plain.className = className;
                plain.textContent = value;
                return plain;
              }
              var details = document.createElement("details");
              details.className = className;
              var summary = document.createElement("summary");
              summary.textContent = lines.slice(0, 3).join("\n").slice(0, 160) + " …";
              var full = document.createElement("div");
              full.textContent = value;
              details.appendChild(summary);
              details.appendChild(full);
              return details;
            }
            function cellFor(cell, run) {
              var td = document.createElement("td");
              if (!cell) { td.className = "missing"; td.textContent = "not run"; return td; }
              var output = cell[0], score = cell[1], error = cell[2];
              if (score === null) {
                td.className = "error";
                td.appendChild(folded("error: " + (error || "no score"), "out"));
                return td;
              }
              td.className = score >= 1 ? "pass" : score <= 0 ? "fail" : score >= 0.5 ? "partial pass-ish" : "partial";
              var mark = document.createElement("span");
              mark.className = "mark";
              mark.textContent = runs[run].pass_fail && (score === 0 || score === 1)
                ? (score === 1 ? "✓" : "✗") : score.toFixed(3);
              td.appendChild(mark);
              td.appendChild(folded(output === null ? "" : output, "out"));
              return td;
            }
            function rowFor(index) {
              var row = rows[index], tr = document.createElement("tr");
              tr.className = "case";
              tr.dataset.case = row[0];
              var id = document.createElement("td");
              id.className = "id";
              id.textContent = row[0];
              tr.appendChild(id);
              var input = document.createElement("td");
              input.appendChild(folded(row[1], "out"));
              tr.appendChild(input);
              var expected = document.createElement("td");
              expected.appendChild(folded(row[2], "out"));
              tr.appendChild(expected);
              row[3].forEach(function (cell, run) { tr.appendChild(cellFor(cell, run)); });
              return tr;
            }
            function showMore() {
              var fragment = document.createDocumentFragment();
              var end = Math.min(matching.length, shown + PAGE);
              for (var i = shown; i < end; i++) fragment.appendChild(rowFor(matching[i]));
              body.appendChild(fragment);
              shown = end;
              body.dataset.shown = String(shown);
              more.hidden = shown >= matching.length;
              more.textContent = "Show " + Math.min(PAGE, matching.length - shown) + " more";
              status.textContent = matching.length + " of " + rows.length + " cases" +
                (shown < matching.length ? ", " + shown + " shown" : "");
            }
            function update() {
              var query = search.value.trim().toLowerCase();
              matching = [];
              for (var i = 0; i < rows.length; i++) {
                if (filter.value === "failures" && !failed(rows[i])) continue;
                if (filter.value === "disagree" && spread(rows[i]) === 0) continue;
                if (query && text(i).indexOf(query) < 0) continue;
                matching.push(i);
              }
              if (sort.value === "diff") {
                var spreads = {};
                matching.forEach(function (i) { spreads[i] = spread(rows[i]); });
                matching.sort(function (a, b) { return spreads[b] - spreads[a] || a - b; });
              }
              body.textContent = "";
              body.dataset.matching = String(matching.length);
              shown = 0;
              showMore();
            }
            filter.addEventListener("change", function () { writeHash(); update(); });
            sort.addEventListener("change", function () { writeHash(); update(); });
            search.addEventListener("input", function () { writeHash(); update(); });
            if (pair) pair.addEventListener("change", function () { writeHash(); update(); });
            more.addEventListener("click", showMore);
            window.addEventListener("hashchange", function () {
              readHash();
              update();
              document.getElementById("cases").scrollIntoView();
            });
            readHash();
            update();
            // Milliseconds from navigation to the first rows drawn, for checking large pages.
            root.dataset.readyMs = String(Math.round(performance.now()));
          });
        })();
        """#
}
