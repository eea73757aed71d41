import Foundation
import Workbench
import WorkbenchCore
import WorkbenchStore

/// `pwb template list|show|history|diff|export`.
@MainActor
enum TemplateCommands {
    static var all: [Command] { [list, show, history, diff, export] }

    static let list = Command(
        "template list", "list templates and their variants", options: JSONOptions.self
    ) { invocation in
        let summaries = try invocation.session.workspace().store.templateSummaries()
        if invocation.json {
            let items: [JSONValue] = summaries.map { summary in
                [
                    "template": .string(summary.template.name),
                    "variants": .array(
                        summary.variants.map {
                            [
                                "name": .string($0.name), "revisions": .number(Double($0.revisions)),
                                "hash": .string($0.latestHash), "updated_at": .string($0.updatedAt),
                            ]
                        }),
                ]
            }
            invocation.output.line(JSONValue.array(items).serialized(pretty: true))
            return
        }
        guard !summaries.isEmpty else {
            invocation.output.note(
                "No templates yet. Add templates/<template>/<variant>.prompt files and run pwb import.")
            return
        }
        var table = Table([
            .init("TEMPLATE"), .init("VARIANT"), .init("REVISIONS", right: true), .init("HASH"), .init("UPDATED"),
        ])
        for summary in summaries {
            for variant in summary.variants {
                table.add([
                    summary.template.name, variant.name, String(variant.revisions),
                    String(variant.latestHash.prefix(8)),
                    shortTime(variant.updatedAt),
                ])
            }
        }
        invocation.output.lines(table.render())
    }

    static let show = Command(
        "template show", "print a revision of a variant (the newest unless @N)",
        arguments: "TEMPLATE/VARIANT[@N]", min: 1, max: 1, options: JSONOptions.self
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let resolved = try workspace.library.resolve(RevisionReference(parsing: invocation.positionals[0]))
        if invocation.json {
            invocation.output.line(revisionJSON(resolved).serialized(pretty: true))
            return
        }
        invocation.output.lines(showLines(resolved))
    }

    static func showLines(_ resolved: ResolvedRevision) -> [String] {
        let r = resolved.revision
        var header = "# \(resolved.reference)  sha \(r.hash.prefix(8))  \(shortTime(r.createdAt))"
        if !r.origin.isEmpty { header += "  from \(r.origin)" }
        var text = resolved.file.canonicalText
        if text.hasSuffix("\n") { text.removeLast() }
        return [header] + text.lines().map(String.init)
    }

    static func revisionJSON(_ resolved: ResolvedRevision) -> JSONValue {
        var settings: [String: JSONValue] = [:]
        for key in PromptSettings.keys {
            if let value = resolved.file.settings.value(for: key) { settings[key] = value }
        }
        return [
            "template": .string(resolved.template.name), "variant": .string(resolved.variant.name),
            "revision": .number(Double(resolved.revision.number)), "hash": .string(resolved.revision.hash),
            "created_at": .string(resolved.revision.createdAt), "origin": .string(resolved.revision.origin),
            "settings": .object(settings), "body": .string(resolved.file.body.source),
            "variables": .array(resolved.file.body.variables.map { .string($0) }),
        ]
    }

    static let history = Command(
        "template history", "list the revisions of a variant, oldest first",
        arguments: "TEMPLATE/VARIANT", min: 1, max: 1, options: JSONOptions.self
    ) { invocation in
        let workspace = try invocation.session.workspace()
        try printHistory(workspace, reference: RevisionReference(parsing: invocation.positionals[0]), invocation)
    }

    static func printHistory(
        _ workspace: Workspace, reference: RevisionReference, _ invocation: Invocation<JSONOptions>
    )
        throws
    {
        let resolved = try workspace.library.resolve(
            RevisionReference(template: reference.template, variant: reference.variant))
        let revisions = try workspace.store.revisions(variantID: resolved.variant.id)
        if invocation.json {
            let items: [JSONValue] = revisions.map {
                [
                    "revision": .number(Double($0.number)), "hash": .string($0.hash),
                    "created_at": .string($0.createdAt),
                    "origin": .string($0.origin), "note": .string($0.note),
                ]
            }
            invocation.output.line(JSONValue.array(items).serialized(pretty: true))
            return
        }
        // Long notes are cut to keep rows on one line; --json has them as stored, template diff in full.
        var table = Table([
            .init("REV", right: true), .init("HASH"), .init("CREATED"), .init("FROM", maxWidth: 40),
            .init("CHANGES", maxWidth: 80),
        ])
        for revision in revisions {
            table.add([
                "@\(revision.number)", String(revision.hash.prefix(8)), shortTime(revision.createdAt), revision.origin,
                revision.note,
            ])
        }
        invocation.output.line("\(resolved.template.name)/\(resolved.variant.name)")
        invocation.output.lines(table.render())
    }

    static let diff = Command(
        "template diff", "show what changed between two revisions (default: the newest and the one before)",
        arguments: "TEMPLATE/VARIANT[@N] [TEMPLATE/VARIANT[@M] | @M]", min: 1, max: 2,
        details: """
            pwb template diff sentiment/question          the newest revision against the one before
            pwb template diff sentiment/question@1        revision 1 against the newest
            pwb template diff sentiment/question@1 @3     revision 1 against revision 3
            pwb template diff sentiment/question sentiment/instruction   two variants
            """
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let first = try RevisionReference(parsing: invocation.positionals[0])
        let second = try invocation.arguments.positional(1).map { text in
            text.hasPrefix("@")
                ? try RevisionReference(parsing: "\(first.template)/\(first.variant ?? "")\(text)")
                : try RevisionReference(parsing: text)
        }
        let (old, new) = try diffPair(workspace, first, second)
        try printDiff(workspace, old, new, invocation)
    }

    /// Which two revisions a diff compares, following the rules in the command's help.
    static func diffPair(_ workspace: Workspace, _ first: RevisionReference, _ second: RevisionReference?) throws
        -> (ResolvedRevision, ResolvedRevision)
    {
        if let second { return (try workspace.library.resolve(first), try workspace.library.resolve(second)) }
        let newest = try workspace.library.resolve(RevisionReference(template: first.template, variant: first.variant))
        if first.number != nil { return (try workspace.library.resolve(first), newest) }
        guard newest.revision.number > 1 else {
            throw UsageError("\(newest.reference) is the only revision; there is nothing to compare it with")
        }
        var previous = first
        previous.variant = newest.variant.name
        previous.number = newest.revision.number - 1
        return (try workspace.library.resolve(previous), newest)
    }

    static func printDiff(
        _ workspace: Workspace, _ old: ResolvedRevision, _ new: ResolvedRevision,
        _ invocation: Invocation<some CommandOptions>
    ) throws {
        let lines = workspace.diff(old, new)
        if lines.count == 2 {
            invocation.output.line("\(old.reference) and \(new.reference) are the same.")
            return
        }
        let colored = invocation.output.stdoutIsTerminal && invocation.output.colorEnabled
        invocation.output.styledLines(
            lines.map(Output.visible).map { line in
                guard colored else { return line }
                if line.hasPrefix("+") && !line.hasPrefix("+++") { return "\u{1B}[32m\(line)\u{1B}[0m" }
                if line.hasPrefix("-") && !line.hasPrefix("---") { return "\u{1B}[31m\(line)\u{1B}[0m" }
                if line.hasPrefix("@@") { return "\u{1B}[36m\(line)\u{1B}[0m" }
                return line
            })
    }

    struct ExportOptions: CommandOptions {
        let folder = OptionKey<String>.text(
            "out", "DIR", "write DIR/<template>/<variant>.prompt files (e.g. --out templates)")
    }

    static let export = Command(
        "template export", "write variants back to .prompt files (or one to standard output)",
        arguments: "TEMPLATE[/VARIANT[@N]]", min: 1, max: 1,
        options: ExportOptions.self,
        details: "Without --out, one variant is printed to standard output."
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let reference = try RevisionReference(parsing: invocation.positionals[0])
        if let folder = invocation.folder {
            for path in try workspace.exportTemplate(reference, to: folder) { invocation.output.line("wrote \(path)") }
            return
        }
        // resolve() refuses a bare template name when it has several variants, naming them.
        invocation.output.raw(try workspace.library.resolve(reference).file.canonicalText)
    }

    /// `2026-11-21T13:05:00.123Z` → `2026-11-21 13:05`.
    static func shortTime(_ timestamp: String) -> String {
        guard timestamp.count >= 16 else { return timestamp }
        return String(timestamp.prefix(16)).replacingOccurrences(of: "T", with: " ")
    }
}
