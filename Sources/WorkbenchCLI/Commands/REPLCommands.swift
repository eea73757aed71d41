import Foundation
import Workbench
import WorkbenchCore
import WorkbenchStore

#if canImport(Glibc)
    import Glibc
#endif

/// The REPL's commands on the current variant. Each prints what its CLI counterpart prints.
@MainActor
enum REPLCommands {
    static var all: [Command] { [use, show, edit, set, unset, tryIt, diff, history, newVariant] }

    /// The current template and variant, or a usage error saying how to choose them.
    static func current(_ session: Session) throws -> (template: String, variant: String) {
        guard let template = session.currentTemplate, let variant = session.currentVariant else {
            throw UsageError("no variant is in use; choose one with use TEMPLATE/VARIANT (template list shows them)")
        }
        return (template, variant)
    }

    static let use = Command(
        "use", "choose the template and variant the other commands work on",
        arguments: "TEMPLATE[/VARIANT]", min: 1, max: 1, scope: .repl
    ) { invocation in
        let session = invocation.session
        let workspace = try session.workspace()
        let reference = try RevisionReference(parsing: invocation.arguments.positionals[0])
        let template = try workspace.library.template(named: reference.template)
        let variants = try workspace.store.variants(templateID: template.id)
        var variant = reference.variant
        if variant == nil && variants.count == 1 { variant = variants[0].name }
        if let name = variant { _ = try workspace.library.variant(of: template, named: name) }
        session.currentTemplate = template.name
        session.currentVariant = variant
        if let variant {
            let resolved = try workspace.library.resolve(RevisionReference(template: template.name, variant: variant))
            invocation.output.line(
                "using \(resolved.reference)\(resolved.file.settings.evalset.map { " (eval set \($0))" } ?? "")")
        } else {
            invocation.output.line(
                "using \(template.name); choose a variant with use \(template.name)/NAME: \(variants.map(\.name).joined(separator: ", "))"
            )
        }
    }

    static let show = Command(
        "show", "print the current variant (the newest revision unless @N)", arguments: "[@N]", max: 1,
        completing: .revisions, scope: .repl
    ) { invocation in
        let (template, variant) = try current(invocation.session)
        let suffix = invocation.arguments.positional(0) ?? ""
        let workspace = try invocation.session.workspace()
        let resolved = try workspace.library.resolve(RevisionReference(parsing: "\(template)/\(variant)\(suffix)"))
        invocation.output.lines(TemplateCommands.showLines(resolved))
    }

    static let history = Command(
        "history", "list the current variant's revisions", completing: .none, options: JSONOptions.self,
        scope: .repl
    ) { invocation in
        let (template, variant) = try current(invocation.session)
        try TemplateCommands.printHistory(
            try invocation.session.workspace(), reference: RevisionReference(template: template, variant: variant),
            invocation)
    }

    static let diff = Command(
        "diff", "what changed between revisions of the current variant (default: the newest two)",
        arguments: "[@N] [@M]", max: 2, completing: .revisions, scope: .repl
    ) { invocation in
        let (template, variant) = try current(invocation.session)
        let workspace = try invocation.session.workspace()
        let base = "\(template)/\(variant)"
        let positionals = invocation.arguments.positionals
        for text in positionals where !text.hasPrefix("@") {
            throw UsageError("diff takes revisions as @N, not \"\(text)\"; usage: diff [@N] [@M]")
        }
        let first = try RevisionReference(parsing: base + (positionals.first ?? ""))
        let second = try positionals.count > 1 ? RevisionReference(parsing: base + positionals[1]) : nil
        let (old, new) = try TemplateCommands.diffPair(workspace, first, second)
        try TemplateCommands.printDiff(workspace, old, new, invocation)
    }

    static let set = Command(
        "set", "change the body or a front matter key of the current variant (adds a revision)",
        arguments: "body|KEY VALUE…", min: 2, max: Int.max, completing: .words(["body"] + PromptSettings.keys),
        scope: .repl,
        details: """
            set body "Review: {{text}}\\nSentiment:"     the whole body; \\n is a line break inside double quotes
            set max_tokens 8
            set stop "\\n" "###"                            several stop sequences
            set system "You label reviews."
            Keys: body, \(PromptSettings.keys.joined(separator: ", ")).
            """
    ) { invocation in
        let (template, variant) = try current(invocation.session)
        let workspace = try invocation.session.workspace()
        let resolved = try workspace.library.resolve(RevisionReference(template: template, variant: variant))
        let key = invocation.arguments.positionals[0]
        let values = Array(invocation.arguments.positionals.dropFirst())
        var file = resolved.file
        if key == "body" {
            file.body = try TemplateBody(values.joined(separator: " "))
        } else {
            guard PromptSettings.keys.contains(key) else {
                let hint =
                    Suggest.nearest(to: key, in: ["body"] + PromptSettings.keys).map { "did you mean \($0)? " } ?? ""
                throw UsageError(
                    "set: \"\(key)\" is not a key; \(hint)keys: body, \(PromptSettings.keys.joined(separator: ", "))")
            }
            let value: JSONValue =
                key == "stop" ? .array(values.map { .string($0) }) : .string(values.joined(separator: " "))
            do {
                try file.settings.set(key, value)
            } catch let error as InputError {
                throw UsageError("set \(key): \(error.message)")
            }
        }
        try save(file, template: template, variant: variant, origin: "repl: set \(key)", invocation: invocation)
    }

    static let unset = Command(
        "unset", "clear a front matter key of the current variant (adds a revision)", arguments: "KEY", min: 1, max: 1,
        completing: .words(PromptSettings.keys), scope: .repl
    ) { invocation in
        let (template, variant) = try current(invocation.session)
        let workspace = try invocation.session.workspace()
        var file = try workspace.library.resolve(RevisionReference(template: template, variant: variant)).file
        let key = invocation.arguments.positionals[0]
        guard PromptSettings.keys.contains(key) else {
            throw UsageError(
                "unset: \"\(key)\" is not a front matter key; keys: \(PromptSettings.keys.joined(separator: ", "))")
        }
        file.settings.unset(key)
        try save(file, template: template, variant: variant, origin: "repl: unset \(key)", invocation: invocation)
    }

    /// Saves `file` as the next revision and says what changed (or that nothing did).
    static func save(
        _ file: PromptFile, template: String, variant: String, origin: String,
        invocation: Invocation<some CommandOptions>
    ) throws {
        let workspace = try invocation.session.workspace()
        if let saved = try workspace.library.saveRevision(
            template: template, variant: variant, file: file, origin: origin)
        {
            invocation.output.line("\(saved.reference): \(saved.revision.note)")
        } else {
            let newest = try workspace.library.resolve(RevisionReference(template: template, variant: variant))
            invocation.output.line("no change; \(newest.reference) stays the newest")
        }
    }

    static let edit = Command(
        "edit", "open the current variant in $EDITOR; saving a change adds a revision", completing: .none,
        scope: .repl,
        details: "If what you save cannot be read, it is kept in .pwb/edit/ and the next edit opens it again."
    ) { invocation in
        let session = invocation.session
        let (template, variant) = try current(session)
        let workspace = try session.workspace()
        let resolved = try workspace.library.resolve(RevisionReference(template: template, variant: variant))
        let folder = workspace.stateDirectory + "/edit"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let draft = folder + "/\(template)--\(variant).prompt"
        if !FileManager.default.fileExists(atPath: draft) {
            try Data(resolved.file.canonicalText.utf8).write(to: URL(fileURLWithPath: draft))
        } else {
            invocation.output.note("reopening your unsaved edit of \(template)/\(variant) (\(workspace.shown(draft)))")
        }
        let editor = session.environment["VISUAL"] ?? session.environment["EDITOR"] ?? "vi"
        let status = try runEditor(editor, file: draft)
        guard status == 0 else {
            throw UsageError(
                "the editor (\(editor)) exited with status \(status); your text is kept in \(workspace.shown(draft))")
        }
        let text = try String(contentsOfFile: draft, encoding: .utf8)
        let file: PromptFile
        do {
            file = try PromptFile(parsing: text)
        } catch let error as InputError {
            throw error.located(in: workspace.shown(draft))
        }
        try save(file, template: template, variant: variant, origin: "repl: edit", invocation: invocation)
        try? FileManager.default.removeItem(atPath: draft)
    }

    /// Runs the editor on the terminal, as the shell would run `$EDITOR file`: in pwb's own
    /// process group, with its standard streams. (Foundation's `Process` puts children in a
    /// group of their own, where reading the terminal fails and editors quit at once.)
    static func runEditor(_ editor: String, file: String) throws -> Int32 {
        let arguments = ["/bin/sh", "-c", "\(editor) \"$1\"", "editor", file]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        var status: Int32 = 0
        // The editor owns the terminal while it runs; Ctrl-C is its own.
        try Interrupts.leavingCtrlC {
            let result = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
            guard result == 0 else {
                throw UsageError("cannot start the editor (\(editor)): \(String(cString: strerror(result)))")
            }
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        // Exited normally: its exit code; killed by a signal: 128 + the signal, as shells say.
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    struct TryOptions: CommandOptions {
        let model = Options.model
        let showPrompt = RuntimeCommands.showPrompt
        let json = RuntimeCommands.json
    }

    static let tryIt = Command(
        "try", "send the current variant to the model once: with NAME=VALUE variables, or a case",
        arguments: "NAME=VALUE… | case ID", min: 1, max: Int.max, completing: .caseVariables,
        options: TryOptions.self,
        scope: .repl,
        details: "The same as pwb run TEMPLATE/VARIANT --var NAME=VALUE … (or --case ID)."
    ) { invocation in
        let (template, variant) = try current(invocation.session)
        var input = RuntimeCommands.TryInput(reference: "\(template)/\(variant)")
        let positionals = invocation.positionals
        if positionals.first == "case" {
            guard positionals.count == 2 else { throw UsageError("usage: try case ID") }
            input.caseID = positionals[1]
        } else {
            for text in positionals {
                guard let assignment = Assignment(text) else {
                    throw UsageError(
                        "try takes NAME=VALUE or case ID, not \"\(text)\"; usage: try NAME=VALUE… | try case ID")
                }
                input.assignments.append(assignment)
            }
        }
        input.model = invocation.model
        input.showPrompt = invocation.showPrompt
        input.json = invocation.json
        try await RuntimeCommands.send(input, invocation: invocation)
    }

    static let newVariant = Command(
        "new variant", "make a new variant from the current one (or another), and use it",
        arguments: "NAME [from VARIANT]", min: 1, max: 3, completing: .variants, scope: .repl
    ) { invocation in
        let session = invocation.session
        guard let template = session.currentTemplate else {
            throw UsageError("no template is in use; choose one with use TEMPLATE")
        }
        let positionals = invocation.arguments.positionals
        let name = positionals[0]
        var source = session.currentVariant
        if positionals.count > 1 {
            guard positionals.count == 3, positionals[1] == "from" else {
                throw UsageError("usage: new variant NAME [from VARIANT]")
            }
            source = positionals[2]
        }
        guard let source else { throw UsageError("say which variant to start from: new variant \(name) from VARIANT") }
        let workspace = try session.workspace()
        let record = try workspace.library.template(named: template)
        if try workspace.store.variant(templateID: record.id, named: name) != nil {
            throw UsageError("\(template)/\(name) already exists; use \(template)/\(name) to work on it")
        }
        let original = try workspace.library.resolve(RevisionReference(template: template, variant: source))
        guard
            let created = try workspace.library.saveRevision(
                template: template, variant: name, file: original.file, origin: "repl: new from \(original.reference)")
        else { return }
        session.currentVariant = name
        invocation.output.line("created \(created.reference) from \(original.reference); using it")
    }
}
