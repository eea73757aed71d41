import Foundation

/// How the managed `llama-server` is started so that prompts sharing a prefix (a few-shot block,
/// an instruction) reuse its KV cache instead of re-reading it for every case.
extension ManagedServer {
    /// The command line for `llama-server`.
    ///
    /// - `--swa-full` when the model uses sliding-window attention (Gemma 3): without it the
    ///   server keeps only the last window of the KV cache for those layers, so no prefix can be
    ///   reused (`timings.cache_n` stays 0) and every case re-reads its examples.
    /// - The context per slot is capped at what the model was trained for.
    /// - LoRA adapters are loaded unapplied (`--lora-init-without-apply`). That flag alone does
    ///   not make a request without a `lora` list a base request (llama-server b11434 still lists
    ///   them at scale 1 and applies them all), so the scales are set to 0 once it is up
    ///   (`settleAdapters`) and every request states each adapter's scale (`ModelClient`).
    /// - Parameter metadata: the model's GGUF header, nil when it could not be read.
    static func launchArguments(
        binary: String, port: Int, model: String, slots: Int, contextPerSlot: Int, adapters: [String] = [],
        metadata: GGUFMetadata?
    ) -> [String] {
        let context = ManagedServer.contextPerSlot(contextPerSlot, metadata: metadata)
        var arguments = [
            binary, "--host", "127.0.0.1", "--port", String(port), "--model", model, "--parallel", String(slots),
            "--ctx-size", String(context * slots), "--no-webui",
        ]
        if metadata?.slidingWindow != nil { arguments.append("--swa-full") }
        for adapter in adapters { arguments += ["--lora", adapter] }
        // The host-memory prompt cache restores a saved prompt's state for any request that begins
        // with it, whichever adapters computed it: a base request would read the adapter's KV.
        if !adapters.isEmpty { arguments += ["--lora-init-without-apply", "--cache-ram", "0"] }
        return arguments
    }

    /// The context per slot the server gets for `requested` (capped by the model's training).
    static func contextPerSlot(_ requested: Int, metadata: GGUFMetadata?) -> Int {
        min(requested, metadata?.trainedContextLength ?? requested)
    }

    /// The model's GGUF header, or nil when it cannot be read (the server then says what is wrong).
    static func metadata(model: String) -> GGUFMetadata? {
        try? GGUFMetadata(path: model)
    }

    /// The resident memory of process `pid` in bytes (`VmRSS` of `/proc/PID/status`).
    package static func residentBytes(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
        return kilobytes * 1024
    }

    /// The arguments process `pid` was started with.
    package static func commandLine(pid: Int32) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }
}
