import Foundation
import Workbench
import WorkbenchCore

/// `pwb report`: stored runs or advice as a self-contained HTML page.
@MainActor
enum ReportCommands {
    static var all: [Command] { [report] }

    static let report = Command(
        "report", "write stored runs or advice as a self-contained HTML page with charts",
        arguments: "[RUN…]", min: 0, max: Int.max,
        options: [
            Option("advice", value: "ID", "the advice to show (an id, or latest) instead of runs"),
            Option("out", value: "FILE", "write to FILE (default: .pwb/reports/… on a terminal, else standard output)"),
        ],
        details: """
            pwb report 4 5 6            the runs' scores with intervals, the table and the paired tests
            pwb report --advice 2       the ladder, the few-shot curve and cost against quality
            The page needs nothing else: no scripts, no fonts or files fetched. Open it in a browser.
            """
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let arguments = invocation.arguments
        let html: String
        let name: String
        if let advice = arguments.value("advice") {
            guard arguments.positionals.isEmpty else { throw UsageError("report takes runs or --advice, not both") }
            let stored = try AdviseCommands.storedAdvice(advice, option: "advice", in: workspace)
            html = HTMLReport.advice(stored)
            name = "advice-\(stored.id.map(String.init) ?? "latest")"
        } else {
            guard !arguments.positionals.isEmpty else {
                throw UsageError("report needs run ids (pwb runs list shows them) or --advice ID")
            }
            let ids = try arguments.runIDs()
            html = HTMLReport.runs(try workspace.report(for: try ids.map { try workspace.run(id: $0) }))
            name = "runs-" + ids.map(String.init).joined(separator: "-")
        }
        let defaultPath = "\(workspace.stateDirectory)/reports/\(name).html"
        if let out = arguments.value("out") ?? (invocation.output.stdoutIsTerminal ? defaultPath : nil) {
            try workspace.writeUserFile(html, to: out)
            invocation.output.note("wrote \(workspace.shown(out)); open it in a browser")
        } else {
            invocation.output.raw(html)
        }
    }
}
