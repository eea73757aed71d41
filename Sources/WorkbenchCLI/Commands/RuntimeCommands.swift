import Foundation
import ModelRuntime
import Workbench
import WorkbenchCore

/// `pwb runtime start|stop|status` and `pwb run`.
@MainActor
enum RuntimeCommands {
    static var all: [Command] { [run, start, stop, status] }

    struct StartOptions: CommandOptions {
        let modelFile = OptionKey<String>.text(
            "model", "PATH", "the GGUF model file (default: Gemma 3 270M from the set-up cache)")
        let port = OptionKey<Int>.number(
            "port", "N", in: 1...65535, "the port (default 8181, or a free one when that is taken)")
        let slots = OptionKey<Int>.number(
            "slots", "N", in: ServerProperties.slotRange, "requests served at once (default 2)")
        let context = OptionKey<Int>.number(
            "context", "TOKENS", in: 256...ServerProperties.contextRange.upperBound,
            "the context window of each slot (default 4096)")
    }

    static let start = Command(
        "runtime start", "start the managed llama-server on 127.0.0.1 and wait until it is healthy",
        options: StartOptions.self,
        details: "It keeps running after pwb exits; pwb runtime stop ends it. The log is .pwb/runtime.log."
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let server = workspace.runtime.managedServer(environment: invocation.session.environment)
        let info = try await server.start(
            model: invocation.modelFile, port: invocation.port, slots: invocation.slots,
            contextPerSlot: invocation.context)
        invocation.output.line(
            "llama-server is running: pid \(info.pid), http://127.0.0.1:\(info.port), \(info.slots) slots × \(info.contextPerSlot) tokens, model \((info.model as NSString).lastPathComponent)"
        )
        invocation.output.line("log: \(workspace.shown(server.logPath))   stop: pwb runtime stop")
    }

    static let stop = Command("runtime stop", "stop the managed llama-server") { invocation in
        let workspace = try invocation.session.workspace()
        let server = workspace.runtime.managedServer(environment: invocation.session.environment)
        if case .stale(let info) = await server.status() {
            invocation.output.line("llama-server (pid \(info.pid)) was not running; removed its stale pid file.")
            return
        }
        if let info = try await server.stop() {
            invocation.output.line("Stopped llama-server (pid \(info.pid), port \(info.port)).")
        } else {
            invocation.output.line("No managed llama-server is running.")
        }
    }

    static let status = Command(
        "runtime status", "show the managed llama-server and the configured models", options: JSONOptions.self
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let environment = invocation.session.environment
        let server = workspace.runtime.managedServer(environment: environment)
        let state = await server.status()
        let configuration = try workspace.runtime.configuration(environment: environment)
        var json: [String: JSONValue] = [:]
        var lines: [String] = []
        switch state {
        case .running(let info, let healthy):
            let resident = ManagedServer.residentBytes(group: info.pid)
            let fullCache = ManagedServer.commandLine(pid: info.pid).contains("--swa-full")
            json["managed"] = [
                "state": .string(healthy ? "running" : "not answering"), "pid": .number(Double(info.pid)),
                "endpoint": .string(info.endpoint.absoluteString), "model": .string(info.model),
                "slots": .number(Double(info.slots)), "context_per_slot": .number(Double(info.contextPerSlot)),
                "started_at": .string(info.startedAt),
                "resident_bytes": resident.map { .number(Double($0)) } ?? .null, "swa_full": .bool(fullCache),
            ]
            lines.append(
                "managed llama-server: \(healthy ? "running" : "NOT ANSWERING") (pid \(info.pid)) at \(info.endpoint.absoluteString), \(info.slots) slots × \(info.contextPerSlot) tokens, since \(info.startedAt)"
            )
            lines.append("  model: \(info.model)")
            let memory = resident.map { String(format: "%.0f MiB resident", Double($0) / 1_048_576) } ?? "unknown"
            lines.append(
                "  memory: \(memory)\(fullCache ? "; full KV cache for sliding-window layers (--swa-full), so shared prompt prefixes are reused" : "")"
            )
        case .stale(let info):
            json["managed"] = ["state": "stopped", "stale_pid": .number(Double(info.pid))]
            lines.append("managed llama-server: not running (removed a stale pid file for pid \(info.pid))")
        case .stopped:
            json["managed"] = ["state": "stopped"]
            lines.append("managed llama-server: not running (commands that need a model start it)")
        }
        let selected = try configuration.select(nil)
        var models: [JSONValue] = []
        for model in configuration.models.values.sorted(by: { $0.name < $1.name }) {
            models.append([
                "name": .string(model.name), "provider": .string(model.provider.rawValue),
                "endpoints": .array(model.endpoints.map { .string($0.absoluteString) }),
                "model": model.model.map { .string($0) } ?? .null,
            ])
            lines.append(
                "model \(model.name): \(model.provider.rawValue) at \(model.endpoints.map(\.absoluteString).joined(separator: ", "))\(model.model.map { " (\($0))" } ?? "")"
            )
        }
        json["models"] = .array(models)
        json["default"] = .string(selected?.name ?? ModelChoice.managedName)
        lines.append(
            "default model: \(selected.map { "\($0.name) (\($0.provider.rawValue) at \($0.endpoints.map(\.absoluteString).joined(separator: ", ")))" } ?? "\(ModelChoice.managedName) (the managed llama-server)")"
        )
        if invocation.json {
            invocation.output.line(JSONValue.object(json).serialized(pretty: true))
        } else {
            invocation.output.lines(lines)
        }
    }

    struct RunOptions: CommandOptions {
        let variable = OptionKey<Assignment>.assignment(
            "var", repeatable: true, "a variable's value (repeat for several)")
        let caseID = OptionKey<String>.text("case", "ID", "take the variables from this case of the eval set")
        let caseEvalset = OptionKey<String>.text(
            "evalset", "NAME", completion: .evalsets, "the eval set for --case (default: the template's)")
        let model = Options.model
        let showPrompt = RuntimeCommands.showPrompt
        let json = RuntimeCommands.json
    }

    /// `pwb run`'s and the REPL's `try`'s.
    nonisolated static let showPrompt = OptionKey<Bool>.flag("prompt", "print the rendered prompt before the answer")
    nonisolated static let json = OptionKey<Bool>.flag("json", "print everything as JSON, log-probabilities included")

    static let run = Command(
        "run", "render a variant with some variables, send it to the model once, print the answer",
        arguments: "TEMPLATE/VARIANT[@N]", min: 1, max: 1,
        options: RunOptions.self
    ) { invocation in
        var input = TryInput(reference: invocation.positionals[0])
        input.assignments = invocation.all(\.variable)
        input.caseID = invocation.caseID
        input.evalset = invocation.caseEvalset
        input.model = invocation.model
        input.showPrompt = invocation.showPrompt
        input.json = invocation.json
        try await send(input, invocation: invocation)
    }

    /// What `pwb run` and the REPL's `try` send: a revision, its variables, where to send it.
    struct TryInput {
        var reference: String
        var assignments: [Assignment] = []
        var caseID: String?
        var evalset: String?
        var model: String?
        var showPrompt = false
        var json = false
    }

    /// Renders the revision with the input's variables, sends it once and prints the answer.
    static func send(_ input: TryInput, invocation: Invocation<some CommandOptions>) async throws {
        let session = invocation.session
        let workspace = try session.workspace()
        let resolved = try workspace.library.resolve(RevisionReference(parsing: input.reference))
        var values: [String: String] = [:]
        for assignment in input.assignments { values[assignment.name] = assignment.value }
        let vars: [String: String]
        do {
            vars = try workspace.library.variables(
                for: resolved, caseID: input.caseID, evalset: input.evalset, values: values)
        } catch let missing as MissingVariables {
            let needed = missing.names.map { invocation.inREPL ? "\($0)=…" : "--var \($0)=…" }.joined(separator: " ")
            throw UsageError("\(missing): give \(needed), or \(invocation.inREPL ? "case ID" : "--case ID")")
        }
        let request = try Prompting.request(resolved.file, reference: resolved.reference, vars: vars, topLogprobs: 5)
        let model = try await workspace.runtime.connect(ModelChoice(input.model), environment: session.environment)
        if let started = model.startedRuntime { invocation.note(Workspace.startedNote(started)) }
        let completion = try await Interrupts.run(output: invocation.output, stop: nil) {
            try await model.client.checkFits(request, contextSize: model.properties.contextSize)
            return try await model.client.complete(request)
        }
        if input.json {
            invocation.output.line(runJSON(resolved, request, completion, model).serialized(pretty: true))
            return
        }
        if input.showPrompt {
            invocation.output.lines(["── prompt", request.promptText, "── answer"])
        }
        // An answer of nothing (or only spaces) would otherwise be an invisible line.
        invocation.output.line(completion.text.trimmingWhitespace().isEmpty ? "(an empty answer)" : completion.text)
        invocation.output.line("── " + summary(completion, model: model))
    }

    static func summary(_ completion: Completion, model: ConnectedModel) -> String {
        var parts: [String] = []
        let prompt = completion.promptTokens.map(String.init) ?? "?"
        let generated = completion.completionTokens.map(String.init) ?? "?"
        parts.append("\(prompt) prompt + \(generated) completion tokens")
        parts.append("\(String(format: "%.0f", completion.latencyMilliseconds)) ms")
        if let timings = completion.serverTimings, let promptMs = timings.promptMilliseconds,
            let generationMs = timings.generationMilliseconds
        {
            parts.append(
                "server: prompt \(String(format: "%.0f", promptMs)) ms, generation \(String(format: "%.0f", generationMs)) ms"
            )
        }
        parts.append("finish: \(completion.finishReason)")
        parts.append("model: \(model.name) (\(model.identity))")
        return parts.joined(separator: " · ")
    }

    static func runJSON(
        _ resolved: ResolvedRevision, _ request: CompletionRequest, _ completion: Completion, _ model: ConnectedModel
    ) -> JSONValue {
        [
            "revision": .string(resolved.reference), "request": request.canonicalJSON,
            "output": .string(completion.text),
            "prompt_tokens": completion.promptTokens.map { .number(Double($0)) } ?? .null,
            "completion_tokens": completion.completionTokens.map { .number(Double($0)) } ?? .null,
            "latency_ms": .number(completion.latencyMilliseconds),
            "finish_reason": .string(completion.finishReason.description),
            "server_timings": completion.serverTimings?.json ?? .null,
            "logprobs": completion.logprobs.map { .array($0.map(\.json)) } ?? .null,
            "endpoint": .string(completion.endpoint), "model": .string(model.identity),
        ]
    }
}
