import Foundation
import Workbench
import WorkbenchCore

/// `pwb report`: stored runs or advice as a self-contained HTML page.
@MainActor
enum ReportCommands {
    static var all: [Command] { [report] }

    struct ReportOptions: CommandOptions {
        let advice = OptionKey<String>.text(
            "advice", "ID", "the advice to show (an id, or latest) instead of runs")
        let out = OptionKey<String>.text(
            "out", "FILE", "write to FILE (default: .pwb/reports/… on a terminal, else standard output)")
        let open = OptionKey<Bool>.flag(
            "open", "open the page in the system's browser ($BROWSER, else xdg-open) after writing it")
    }

    static let report = Command(
        "report", "write stored runs or advice as a self-contained HTML page with charts",
        arguments: "[RUN…]", min: 0, max: Int.max, completing: .runs,
        options: ReportOptions.self,
        details: """
            pwb report 4 5 6            the runs' scores, the paired tests, every case side by side, what was run
            pwb report 4 5 --open       write it under .pwb/reports/ and open it in the browser
            pwb report --advice 2       the ladder, the few-shot curve, cost against quality, every case by rung
            The page needs nothing else: nothing is fetched, and its only script (filters for the case
            table) is pinned by a Content-Security-Policy hash. The case table's filters can be set in
            the address: #filter=failures or disagree, pair=0,2 (two runs by column), sort=diff, q=text,
            joined with &, e.g. #filter=disagree&pair=0,2&sort=diff.
            """
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let arguments = invocation.arguments
        let html: String
        let name: String
        if let advice = invocation.advice {
            guard arguments.positionals.isEmpty else { throw UsageError("report takes runs or --advice, not both") }
            let stored = try AdviseCommands.storedAdvice(advice, option: "advice", in: workspace)
            // Every case with each rung's answer: a rung's first run (a random rung's first draw).
            let rungRuns = try stored.rungs.compactMap { try $0.runs.first.map { try workspace.run(id: $0) } }
            let rungs = rungRuns.isEmpty ? nil : try workspace.report(for: rungRuns)
            html = HTMLReport.advice(stored, rungs: rungs, matrix: try rungs.map { try workspace.caseMatrix($0) })
            name = "advice-\(stored.id.map(String.init) ?? "latest")"
        } else {
            guard !arguments.positionals.isEmpty else {
                throw UsageError("report needs run ids (pwb runs list shows them) or --advice ID")
            }
            let ids = try arguments.runIDs()
            let runs = try ids.map { try workspace.run(id: $0) }
            let report = try workspace.report(for: runs)
            html = HTMLReport.runs(
                report, matrix: try workspace.caseMatrix(report), details: try workspace.runDetails(runs))
            name = "runs-" + ids.map(String.init).joined(separator: "-")
        }
        let defaultPath = "\(workspace.stateDirectory)/reports/\(name).html"
        let opening = invocation.open
        guard
            let out = invocation.out ?? (invocation.output.stdoutIsTerminal || opening ? defaultPath : nil)
        else {
            invocation.output.raw(html)
            return
        }
        try workspace.writeUserFile(html, to: out)
        guard opening else {
            invocation.output.note("wrote \(workspace.shown(out)); open it in a browser")
            return
        }
        let path = workspace.absolute(out)
        if let browser = openInBrowser(path) {
            invocation.output.note("wrote \(workspace.shown(out)); opened it with \(browser)")
        } else {
            invocation.output.note(
                "wrote \(workspace.shown(out)); no browser found (neither $BROWSER nor xdg-open could be started); open file://\(path) yourself"
            )
        }
    }

    /// Hands `path` to `$BROWSER` (the first of its `:`-separated commands found) or `xdg-open`,
    /// without waiting for the browser to close. Returns the command used, or nil when there is none.
    static func openInBrowser(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String?
    {
        let candidates =
            (environment["BROWSER"] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty } + ["xdg-open"]
        let searchPath = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for candidate in candidates {
            let executable =
                candidate.contains("/")
                ? candidate
                : searchPath.map { "\($0)/\(candidate)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
            guard let executable, FileManager.default.isExecutableFile(atPath: executable) else { continue }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [path]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            do {
                try process.run()
                return candidate
            } catch {
                continue
            }
        }
        return nil
    }
}
