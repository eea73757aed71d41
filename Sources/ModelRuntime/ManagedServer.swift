import Foundation
import WorkbenchCore

#if canImport(Glibc)
    import Glibc
#endif

/// What `.pwb/runtime.json` records about the `llama-server` that `pwb` started.
package struct RuntimeInfo: Sendable, Hashable {
    package var pid: Int32
    package var port: Int
    package var model: String
    package var slots: Int
    package var contextPerSlot: Int
    package var binary: String
    package var startedAt: String
    /// When the process started, in clock ticks after boot (`/proc/PID/stat`): with the pid,
    /// the process's identity, which a recycled pid cannot share and a renamed binary keeps.
    package var startTicks: Int?
    /// LoRA adapters (GGUF paths) loaded unapplied: each request names those it applies.
    package var adapters: [String] = []

    package var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    var json: JSONValue {
        [
            "pid": .number(Double(pid)), "port": .number(Double(port)), "model": .string(model),
            "slots": .number(Double(slots)), "context_per_slot": .number(Double(contextPerSlot)),
            "binary": .string(binary), "started_at": .string(startedAt),
            "start_ticks": startTicks.map { .number(Double($0)) } ?? .null,
            "adapters": .array(adapters.map { .string($0) }),
        ]
    }

    init(pid: Int32, port: Int, model: String, slots: Int, contextPerSlot: Int, binary: String, startedAt: String) {
        self.pid = pid
        self.port = port
        self.model = model
        self.slots = slots
        self.contextPerSlot = contextPerSlot
        self.binary = binary
        self.startedAt = startedAt
    }

    init?(json: JSONValue) {
        guard let pid = json["pid"]?.intValue, let port = json["port"]?.intValue, let model = json["model"]?.stringValue
        else { return nil }
        self.init(
            pid: Int32(pid), port: port, model: model, slots: json["slots"]?.intValue ?? 1,
            contextPerSlot: json["context_per_slot"]?.intValue ?? 0, binary: json["binary"]?.stringValue ?? "",
            startedAt: json["started_at"]?.stringValue ?? "")
        startTicks = json["start_ticks"]?.intValue
        adapters = json["adapters"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

/// The managed runtime failed to start or stop; the message says why and what to do.
package struct ManagedServerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong; the commands to run next are named as such, for the interface to word.
    package var message: Message
    /// True when the cause is that nothing is installed or nothing could run (exit code 3).
    package var unavailable: Bool
    /// The server could not bind its port: another process took it first.
    package var portTaken = false

    package init(message: Message, unavailable: Bool, portTaken: Bool = false) {
        self.message = message
        self.unavailable = unavailable
        self.portTaken = portTaken
    }
}

extension ManagedServerError: MessageError {
    /// A server that cannot be had is a runtime unavailable; one the configuration asks wrongly of, a usage error.
    package var exitCode: Int32 { unavailable ? ExitCode.runtimeUnavailable : ExitCode.usage }
}

/// The local `llama-server` that `pwb` starts and stops itself: loopback only, logging to
/// `.pwb/runtime.log`, its pid and port in `.pwb/runtime.json`. It keeps running after the
/// command that started it, so the next command finds it warm; `pwb runtime stop` ends it.
package struct ManagedServer: Sendable {
    package static let defaultPort = 8181
    /// Two slots, by measurement on the 2-core machine this is developed on: 40 prompts sharing a
    /// 180-token 3-shot block (Gemma 3 270M, --swa-full, 4,096 tokens a slot, a client at the slot
    /// count, warm, the machine shared): 1 slot 133.6 s (399 MiB resident), 2 slots 73.3 s
    /// (585 MiB), 4 slots 74.8 s (794 MiB); 2 slots with --cache-reuse 256 76.7 s, so it is not
    /// used (the shared part is a prefix, which the prompt cache reuses without it); 4 slots
    /// without --swa-full 245.8 s. Four slots cost 200 MiB more for no gain.
    package static let defaultSlots = 2
    package static let defaultContextPerSlot = 4096
    package static let defaultModelFile = "gemma-3-270m-q4_k_m.gguf"

    package let stateDirectory: String
    package let environment: [String: String]
    let http: HTTPClient
    /// How long to wait for another pwb process that is starting or stopping the server.
    package var lockTimeout: Double = 300

    package init(stateDirectory: String, environment: [String: String], http: HTTPClient) {
        self.stateDirectory = stateDirectory
        self.environment = environment
        self.http = http
    }

    package var logPath: String { stateDirectory + "/runtime.log" }
    var infoPath: String { stateDirectory + "/runtime.json" }

    /// `$XDG_CACHE_HOME/pwb` or `~/.cache/pwb`, where set-up puts the server and the model.
    package var cacheDirectory: String {
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/pwb" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/pwb"
    }

    package func binaryPath() throws -> String {
        if let path = environment["PWB_LLAMA_SERVER"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw ManagedServerError(
                    message: "PWB_LLAMA_SERVER=\(path) is not an executable file; point it at llama-server",
                    unavailable: true)
            }
            return path
        }
        let path = cacheDirectory + "/bin/llama-server"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ManagedServerError(
                message:
                    "llama-server is not installed at \(path); run make demo (or scripts/setup-runtime.sh) to build it, or set PWB_LLAMA_SERVER",
                unavailable: true)
        }
        return path
    }

    package func defaultModelPath() throws -> String {
        if let path = environment["PWB_MODEL_PATH"], !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else {
                throw ManagedServerError(message: "PWB_MODEL_PATH=\(path) does not exist", unavailable: true)
            }
            return path
        }
        let path = cacheDirectory + "/models/" + ManagedServer.defaultModelFile
        guard FileManager.default.fileExists(atPath: path) else {
            throw ManagedServerError(
                message:
                    "the default model is not at \(path); run make demo (or scripts/setup-runtime.sh) to fetch it, or set PWB_MODEL_PATH",
                unavailable: true)
        }
        return path
    }

    package enum Status: Sendable {
        case running(RuntimeInfo, healthy: Bool)
        /// The pid file named a process that is gone (or is something else now); it was removed.
        case stale(RuntimeInfo)
        case stopped
    }

    /// Whether the recorded server runs; a stale record is removed.
    package func status() async -> Status {
        guard let info = readInfo() else { return .stopped }
        guard ManagedServer.isOurs(info) else {
            try? FileManager.default.removeItem(atPath: infoPath)
            return .stale(info)
        }
        return .running(info, healthy: await answers(info, timeout: 5))
    }

    /// Whether the recorded server answers `/health` itself: a server of another process that
    /// holds its port (ours still loading, or it lost the port) is never taken for it. "Itself"
    /// is its process group: a wrapper script that runs `llama-server` without `exec` is the
    /// pid pwb started, and the server that holds the port is its child.
    func answers(_ info: RuntimeInfo, timeout: Double) async -> Bool {
        if ManagedServer.holdsPort(group: info.pid, port: info.port) == false { return false }
        let provider = LlamaCppProvider(endpoint: info.endpoint, http: http)
        return (try? await provider.health(timeout: timeout)) != nil
    }

    /// Starts `llama-server` on 127.0.0.1 and waits for `/health`.
    /// - Parameter port: nil picks the default port, or a free one when that is taken.
    package func start(
        model: String?, port: Int?, slots: Int?, contextPerSlot: Int?, adapters: [String] = [],
        healthTimeout: Double = 120
    ) async throws -> RuntimeInfo {
        try await exclusively {
            try await startLocked(
                model: model, port: port, slots: slots, contextPerSlot: contextPerSlot, adapters: adapters,
                healthTimeout: healthTimeout)
        }
    }

    /// Runs `body` holding `.pwb/runtime.lock`, so two commands that both find no server running
    /// do not both start one (and lose track of the first).
    private func exclusively<T>(_ body: () async throws -> T) async throws -> T {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let fd = open(stateDirectory + "/runtime.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return try await body() }
        defer { close(fd) }
        // Not a blocking flock: a hung holder must not hang every later command with it.
        let deadline = Date().addingTimeInterval(lockTimeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
                throw ManagedServerError(
                    message:
                        "another pwb process has been starting or stopping the managed llama-server for \(Int(lockTimeout)) s (it holds \(stateDirectory)/runtime.lock); stop that process, then try again",
                    unavailable: true)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        defer { flock(fd, LOCK_UN) }
        return try await body()
    }

    private func startLocked(
        model: String?, port: Int?, slots: Int?, contextPerSlot: Int?, adapters: [String], healthTimeout: Double
    ) async throws -> RuntimeInfo {
        if case .running(let info, _) = await status() {
            throw ManagedServerError(
                message:
                    "a managed llama-server already runs (pid \(info.pid), port \(info.port)); stop it with \(command: "runtime stop")",
                unavailable: false)
        }
        let binary = try binaryPath()
        let modelPath =
            try model.map { path -> String in
                guard FileManager.default.fileExists(atPath: path) else {
                    throw ManagedServerError(message: "the model \(path) does not exist", unavailable: false)
                }
                return path
            } ?? defaultModelPath()
        for adapter in adapters where !FileManager.default.fileExists(atPath: adapter) {
            throw ManagedServerError(message: "the adapter \(adapter) does not exist", unavailable: false)
        }
        if let port, ManagedServer.isListening(port: port) {
            throw ManagedServerError(
                message:
                    "port \(port) on 127.0.0.1 is taken by another program; choose another with \(setting: "port")",
                unavailable: false)
        }
        let slots = slots ?? ManagedServer.defaultSlots
        let metadata = ManagedServer.metadata(model: modelPath)
        let context = ManagedServer.contextPerSlot(
            contextPerSlot ?? ManagedServer.defaultContextPerSlot, metadata: metadata)
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        // A port found free can be taken by another process before the server binds it (two
        // workspaces starting at once): a port pwb chose is chosen again, a few times.
        var attempt = 0
        while true {
            attempt += 1
            let chosenPort =
                port
                ?? (attempt == 1 && !ManagedServer.isListening(port: ManagedServer.defaultPort)
                    ? ManagedServer.defaultPort : ManagedServer.freePort())
            do {
                return try await launch(
                    binary: binary, port: chosenPort, model: modelPath, slots: slots, contextPerSlot: context,
                    adapters: adapters, metadata: metadata, healthTimeout: healthTimeout)
            } catch let error as ManagedServerError where error.portTaken && port == nil && attempt < 4 {
                continue
            }
        }
    }

    /// Spawns the server on `port` and waits for it to be healthy. Liveness is checked before
    /// health, so a server that died (a port taken after all) is never mistaken for another one
    /// answering on that port.
    private func launch(
        binary: String, port: Int, model: String, slots: Int, contextPerSlot: Int, adapters: [String],
        metadata: GGUFMetadata?, healthTimeout: Double
    ) async throws -> RuntimeInfo {
        let arguments = ManagedServer.launchArguments(
            binary: binary, port: port, model: model, slots: slots, contextPerSlot: contextPerSlot,
            adapters: adapters, metadata: metadata)
        let pid = try ManagedServer.spawnDetached(ManagedServer.watched(arguments, record: infoPath), log: logPath)
        var info = RuntimeInfo(
            pid: pid, port: port, model: model, slots: slots, contextPerSlot: contextPerSlot, binary: binary,
            startedAt: ISO8601DateFormatter().string(from: Date()))
        info.startTicks = ManagedServer.startTicks(pid: pid)
        info.adapters = adapters
        try writeInfo(info)
        let deadline = Date().addingTimeInterval(healthTimeout)
        while Date() < deadline {
            if !ManagedServer.isAlive(pid: pid) {
                // What a wrapper left behind goes with it.
                kill(-pid, SIGKILL)
                try? FileManager.default.removeItem(atPath: infoPath)
                let log = lastLogLines()
                throw ManagedServerError(
                    message: "llama-server exited while starting: \(log) (full log: \(logPath))", unavailable: true,
                    portTaken: log.contains("couldn't bind"))
            }
            if await answers(info, timeout: 2) {
                try await settleAdapters(info)
                return info
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        // The whole group: a wrapper's children with it, or they would run on with nobody to stop them.
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        try? FileManager.default.removeItem(atPath: infoPath)
        throw ManagedServerError(
            message: "llama-server did not become healthy within \(Int(healthTimeout)) s; see \(logPath)",
            unavailable: true)
    }

    /// The running server, started first when there is none. `started` tells which.
    /// - Parameter adapters: LoRA adapters (GGUF paths) it must have loaded. A server without
    ///   one of them is restarted with the same model and settings and every adapter it had, plus
    ///   the new ones: llama-server loads adapters only when it starts.
    package func ensureRunning(adapters: [String] = []) async throws -> (info: RuntimeInfo, started: Bool) {
        try await exclusively { try await ensureRunningLocked(adapters: adapters) }
    }

    private func ensureRunningLocked(adapters: [String]) async throws -> (info: RuntimeInfo, started: Bool) {
        switch await status() {
        case .running(let info, _) where !Set(adapters).isSubset(of: info.adapters):
            _ = try await stopLocked(grace: 10)
            let kept = info.adapters.filter { FileManager.default.fileExists(atPath: $0) && !adapters.contains($0) }
            return (
                try await startLocked(
                    model: info.model, port: ManagedServer.isListening(port: info.port) ? nil : info.port,
                    slots: info.slots, contextPerSlot: info.contextPerSlot, adapters: kept + adapters,
                    healthTimeout: 120), true
            )
        case .running(let info, let healthy):
            // A server started by an earlier pwb may still apply its adapters globally.
            if healthy {
                try await settleAdapters(info)
                return (info, false)
            }
            // Still loading, perhaps: give it a moment before calling it dead.
            for _ in 0..<100 {
                if await answers(info, timeout: 2) {
                    try await settleAdapters(info)
                    return (info, false)
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let another =
                ManagedServer.holdsPort(group: info.pid, port: info.port) == false
                    && ManagedServer.isListening(port: info.port)
                ? " (another program answers on its port \(info.port))" : ""
            throw ManagedServerError(
                message:
                    "the managed llama-server (pid \(info.pid)) does not answer\(another); restart it with \(command: "runtime stop"), then \(command: "runtime start")",
                unavailable: true)
        case .stale, .stopped:
            return (
                try await startLocked(
                    model: nil, port: nil, slots: nil, contextPerSlot: nil, adapters: adapters, healthTimeout: 120),
                true
            )
        }
    }

    /// Sets the global scale of every adapter the server loaded to 0 and checks that it took.
    /// llama-server (b11434) loads adapters at scale 1 even with `--lora-init-without-apply`, and
    /// answers a request that names no scales with all of them applied. Every request pwb sends
    /// states the scales itself (`ModelClient.complete`); this keeps the server's own default the
    /// base model too, for anything else that asks it.
    func settleAdapters(_ info: RuntimeInfo) async throws {
        guard !info.adapters.isEmpty else { return }
        let server = LlamaCppProvider(endpoint: info.endpoint, http: http)
        do {
            let loaded = try await server.loadedAdapters(timeout: 10)
            guard loaded.contains(where: { $0.scale != 0 }) else { return }
            try await server.setAdapterScales(loaded.map { LoraScale(id: $0.id, scale: 0) }, timeout: 10)
            let after = try await server.loadedAdapters(timeout: 10)
            if let applied = after.first(where: { $0.scale != 0 }) {
                throw ManagedServerError(
                    message:
                        "the managed llama-server still applies adapter \(applied.path) at scale \(applied.scale) after it was set to 0; restart it with \(command: "runtime stop")",
                    unavailable: true)
            }
        } catch let error as ModelError {
            throw ManagedServerError(
                message: "the managed llama-server's LoRA adapters could not be set to scale 0: \(error)",
                unavailable: true)
        }
    }

    /// Stops the managed server and every process of its group (a wrapper's children, the
    /// watchdog): SIGTERM, then SIGKILL after `grace` seconds. Returns what was stopped, or nil
    /// when nothing ran.
    package func stop(grace: Double = 10) async throws -> RuntimeInfo? {
        try await exclusively { try await stopLocked(grace: grace) }
    }

    private func stopLocked(grace: Double) async throws -> RuntimeInfo? {
        guard case .running(let info, _) = await status() else { return nil }
        // The server leads a group of its own (it was started in a session of its own), and its
        // start time was just checked: the group is ours, and a live group's id is never reused.
        kill(-info.pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while ManagedServer.groupIsAlive(info.pid) && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        if ManagedServer.groupIsAlive(info.pid) { kill(-info.pid, SIGKILL) }
        if ManagedServer.isAlive(pid: info.pid) {
            var status: Int32 = 0
            waitpid(info.pid, &status, WNOHANG)
        }
        try? FileManager.default.removeItem(atPath: infoPath)
        return info
    }

    func readInfo() -> RuntimeInfo? {
        guard let data = FileManager.default.contents(atPath: infoPath),
            let json = try? JSONValue(parsing: [UInt8](data))
        else { return nil }
        return RuntimeInfo(json: json)
    }

    func writeInfo(_ info: RuntimeInfo) throws {
        try Data(info.json.serialized(pretty: true).utf8).write(to: URL(fileURLWithPath: infoPath), options: .atomic)
    }

    func lastLogLines(_ count: Int = 3) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "(no log)" }
        let lines = String(decoding: data, as: UTF8.self).lines().filter { !$0.isEmpty }.suffix(count)
        return lines.joined(separator: " | ")
    }

    /// Starts a process in a session of its own (so Ctrl-C in the terminal does not reach it),
    /// standard input from /dev/null, output appended to `log`, no other descriptors inherited.
    static func spawnDetached(_ arguments: [String], log: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours goes with it: an inherited pipe would keep whoever reads pwb's
        // output waiting for as long as the server lives.
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(entry), fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Default signal handling and nothing blocked: a mask or an ignored SIGTERM inherited from
        // whoever started pwb would make the server deaf to `pwb runtime stop`.
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(
            &attributes, ManagedServer.spawnSetSID | Int16(POSIX_SPAWN_SETSIGMASK) | Int16(POSIX_SPAWN_SETSIGDEF))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw ManagedServerError(
                message: "cannot start \(arguments[0]): \(String(cString: strerror(result)))", unavailable: true)
        }
        return pid
    }

    /// glibc's `POSIX_SPAWN_SETSID` (spawn.h), which Swift does not import without `_GNU_SOURCE`.
    static let spawnSetSID: Int16 = 0x80

    static func isAlive(pid: Int32) -> Bool {
        if kill(pid, 0) != 0 { return false }
        // A zombie (exited, not yet reaped) is not alive.
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].trimmingWhitespace().hasPrefix("Z")
        {
            var status: Int32 = 0
            waitpid(pid, &status, WNOHANG)
            return false
        }
        return true
    }

    /// True when the recorded server is the process alive under its pid: the same start time
    /// when it was recorded (whatever the binary is called: a symlink or a wrapper script),
    /// else, for a record from before start times, a `llama-server` command line.
    static func isOurs(_ info: RuntimeInfo) -> Bool {
        guard isAlive(pid: info.pid) else { return false }
        if let recorded = info.startTicks { return startTicks(pid: info.pid) == recorded }
        return isLlamaServer(pid: info.pid)
    }

    /// Field 22 of `/proc/PID/stat`: when the process started, in clock ticks after boot.
    static func startTicks(pid: Int32) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After the command name in parentheses: field 3 (state) onwards; the start time is 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? Int(fields[19]) : nil
    }

    /// True when `pid` is alive and is a `llama-server` (a reused pid is someone else).
    static func isLlamaServer(pid: Int32) -> Bool {
        guard isAlive(pid: pid), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else {
            return false
        }
        let command = String(decoding: data.prefix(while: { $0 != 0 }), as: UTF8.self)
        return command.contains("llama-server")
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    static func isListening(port: Int) -> Bool {
        let url = URL(string: "http://127.0.0.1:\(port)")!
        return (try? RawConnection(host: "127.0.0.1", port: port, url: url, deadline: Date().addingTimeInterval(1)))
            != nil
    }

    /// A port the system says is free now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
