import Foundation
import StubRuntime
import Testing

@testable import ModelRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// The managed server is known by its pid and start time, not by what its binary is called.
struct ManagedServerOwnershipTests {
    func folder() throws -> String {
        let path = NSTemporaryDirectory() + "pwb-managed-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func aServerUnderAnotherNameIsStillOursAndStopStopsIt() async throws {
        let state = try folder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        // A symlink with another name, as a packaged or wrapped llama-server would have.
        let link = state + "/model-server"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/bin/sleep")
        let pid = try ManagedServer.spawnDetached([link, "30"], log: state + "/runtime.log")
        defer { kill(pid, SIGKILL) }
        let server = ManagedServer(stateDirectory: state, environment: [:], http: HTTPClient())
        var info = RuntimeInfo(
            pid: pid, port: ManagedServer.freePort(), model: "m.gguf", slots: 1, contextPerSlot: 512, binary: link,
            startedAt: "")
        info.startTicks = ManagedServer.startTicks(pid: pid)
        #expect(info.startTicks != nil)
        try server.writeInfo(info)
        guard case .running(let found, let healthy) = await server.status() else {
            Issue.record("a live server under another name was taken as stale")
            return
        }
        #expect(found.pid == pid && !healthy)
        let stopped = try await server.stop(grace: 2)
        #expect(stopped?.pid == pid)
        #expect(!ManagedServer.isAlive(pid: pid), "runtime stop stopped it")
    }

    @Test func aRecycledPidIsNotOurs() async throws {
        let state = try folder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let server = ManagedServer(stateDirectory: state, environment: [:], http: HTTPClient())
        // A live process (this one) whose start time is not the one recorded.
        var info = RuntimeInfo(
            pid: getpid(), port: 1, model: "m.gguf", slots: 1, contextPerSlot: 512, binary: "/x/llama-server",
            startedAt: "")
        info.startTicks = (ManagedServer.startTicks(pid: getpid()) ?? 0) + 1
        try server.writeInfo(info)
        guard case .stale = await server.status() else {
            Issue.record("a recycled pid was taken for the managed server")
            return
        }
        #expect(server.readInfo() == nil, "the stale record is removed")
    }

    @Test func aHungHolderOfTheRuntimeLockDoesNotHangTheNextCommand() async throws {
        let state = try folder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let holder = open(state + "/runtime.lock", O_CREAT | O_RDWR, 0o644)
        defer { close(holder) }
        #expect(flock(holder, LOCK_EX) == 0)
        var server = ManagedServer(stateDirectory: state, environment: [:], http: HTTPClient())
        server.lockTimeout = 0.3
        let started = Date()
        let error = await #expect(throws: ManagedServerError.self) { try await server.stop() }
        #expect(Date().timeIntervalSince(started) < 60, "not the five minutes of the default, nor forever")
        #expect(error?.description.contains("holds \(state)/runtime.lock") == true)
    }
}

/// A server of ours is trusted only on its own word, and never outlives its workspace.
struct ManagedServerLeakTests {
    func folder() throws -> String {
        let path = NSTemporaryDirectory() + "pwb-leak-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A stand-in for `llama-server`: answers every GET with `{"status": "ok"}` on its `--port`.
    func fakeServer(in folder: String) throws -> [String: String] {
        let path = folder + "/fake-llama-server"
        try #"""
        #!/bin/sh
        port=
        while [ $# -gt 0 ]; do
          case $1 in --port) port=$2; shift ;; esac
          shift
        done
        exec python3 -c '
        import http.server, sys
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"{\"status\": \"ok\"}"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *arguments):
                pass
        http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
        ' "$port"
        """#.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        try "not a model".write(toFile: folder + "/model.gguf", atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["PWB_LLAMA_SERVER"] = path
        return environment
    }

    /// Waits up to `seconds` for `pid` to be gone.
    func ends(_ pid: Int32, within seconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !ManagedServer.isAlive(pid: pid) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return !ManagedServer.isAlive(pid: pid)
    }

    /// The processes whose parent is `pid`.
    func children(of pid: Int32) -> [Int32] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { Int32($0) }
    }

    /// The stand-in behind a wrapper script that runs it as a child, without `exec`, as a
    /// packaging wrapper may: the pid pwb starts is the wrapper's, the port the child's.
    func wrappedFakeServer(in folder: String) throws -> [String: String] {
        var environment = try fakeServer(in: folder)
        let wrapper = folder + "/llama-server-wrapper"
        try "#!/bin/sh\necho wrapping\n\(folder)/fake-llama-server \"$@\"\necho done\n".write(
            toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        environment["PWB_LLAMA_SERVER"] = wrapper
        return environment
    }

    /// The live processes of process group `group`.
    func members(of group: Int32) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && fields[0] != "Z" && fields[2] == "\(group)"
        }
    }

    /// Kills whatever listens on `port`: what a failed test would otherwise leave running.
    func killListeners(on port: Int) {
        for pid in ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
        where pid != getpid() && ManagedServer.holdsPort(pid: pid, port: port) == true {
            kill(pid, SIGKILL)
        }
    }

    /// Waits up to `seconds` for process group `group` to have no live process.
    func groupEnds(_ group: Int32, within seconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if members(of: group).isEmpty { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return members(of: group).isEmpty
    }

    @Test func aWrapperWithoutExecIsHealthyAndStopEndsItsWholeGroup() async throws {
        let scratch = try folder()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let environment = try wrappedFakeServer(in: scratch)
        let server = ManagedServer(stateDirectory: scratch + "/.pwb", environment: environment, http: HTTPClient())
        let port = ManagedServer.freePort()
        defer { killListeners(on: port) }
        // The child holds the port: healthy at once, not after the whole wait.
        let started = Date()
        let info = try await server.start(
            model: scratch + "/model.gguf", port: port, slots: 1, contextPerSlot: 512, healthTimeout: 20)
        defer { kill(-info.pid, SIGKILL) }
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(members(of: info.pid).count >= 3, "the wrapper, the server it runs and the watchdog")
        guard case .running(_, healthy: true) = await server.status() else {
            Issue.record("the wrapped server was not found healthy")
            return
        }
        #expect(try await server.stop(grace: 5)?.pid == info.pid)
        #expect(try await groupEnds(info.pid, within: 10), "left running: \(members(of: info.pid))")
    }

    @Test func aWrappedServerWhoseWorkspaceIsDeletedExitsWithItsWholeGroup() async throws {
        let scratch = try folder()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let environment = try wrappedFakeServer(in: scratch)
        let server = ManagedServer(
            stateDirectory: scratch + "/workspace/.pwb", environment: environment, http: HTTPClient())
        let port = ManagedServer.freePort()
        defer { killListeners(on: port) }
        let info = try await server.start(
            model: scratch + "/model.gguf", port: port, slots: 1, contextPerSlot: 512, healthTimeout: 20)
        defer { kill(-info.pid, SIGKILL) }
        try FileManager.default.removeItem(atPath: scratch + "/workspace")
        #expect(
            try await groupEnds(info.pid, within: ManagedServer.watchInterval + 15),
            "left running: \(members(of: info.pid))")
    }

    @Test func aForeignServerOnTheRecordedPortIsNotTakenForOurs() async throws {
        let state = try folder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        // Our process is alive (its start time matches), but another process answers on the port.
        let foreign = try StubServer(model: StubModel { _ in " ok" })
        defer { foreign.stop() }
        let pid = try ManagedServer.spawnDetached(["/bin/sleep", "30"], log: state + "/runtime.log")
        defer { kill(pid, SIGKILL) }
        var info = RuntimeInfo(
            pid: pid, port: foreign.port, model: "m.gguf", slots: 1, contextPerSlot: 512, binary: "/bin/sleep",
            startedAt: "")
        info.startTicks = ManagedServer.startTicks(pid: pid)
        let server = ManagedServer(stateDirectory: state, environment: [:], http: HTTPClient())
        try server.writeInfo(info)
        #expect(ManagedServer.holdsPort(pid: pid, port: foreign.port) == false)
        #expect(ManagedServer.holdsPort(pid: getpid(), port: foreign.port) == true)
        guard case .running(_, let healthy) = await server.status() else {
            Issue.record("our live process was not found")
            return
        }
        #expect(!healthy, "the other process's /health was taken for our server's")
    }

    @Test func thePortIsFoundAmongManySockets() throws {
        // More listening sockets than fit the first 4 KiB of /proc/net/tcp: each is found.
        let servers = try (0..<40).map { _ in try StubServer(model: StubModel { _ in " ok" }) }
        defer { for server in servers { server.stop() } }
        let table = try #require(ManagedServer.readWhole("/proc/net/tcp"))
        #expect(table.utf8.count > 4096)
        for server in servers {
            #expect(ManagedServer.holdsPort(pid: getpid(), port: server.port) == true, "port \(server.port)")
        }
    }

    @Test func aServerWhoseWorkspaceIsDeletedExitsAndStopLeavesNoWatchdog() async throws {
        let scratch = try folder()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let environment = try fakeServer(in: scratch)
        let state = scratch + "/workspace/.pwb"
        let server = ManagedServer(stateDirectory: state, environment: environment, http: HTTPClient())
        let info = try await server.start(
            model: scratch + "/model.gguf", port: ManagedServer.freePort(), slots: 1, contextPerSlot: 512,
            healthTimeout: 60)
        defer { kill(info.pid, SIGKILL) }
        let watchdogs = children(of: info.pid)
        #expect(watchdogs.count == 1, "the watchdog is the server's child")
        // Longer than the watchdog's interval: while the record names the server, it runs.
        try await Task.sleep(for: .seconds(ManagedServer.watchInterval + 1))
        guard case .running(_, healthy: true) = await server.status() else {
            Issue.record("the server did not keep running while its workspace was there")
            return
        }
        try FileManager.default.removeItem(atPath: scratch + "/workspace")
        #expect(try await ends(info.pid, within: ManagedServer.watchInterval + 15), "the server outlived its workspace")
        for watchdog in watchdogs {
            #expect(
                try await ends(watchdog, within: ManagedServer.watchInterval + 5), "the watchdog outlived the server")
        }
    }

    @Test func stopEndsTheWatchdogAndAReplacedRecordEndsTheServer() async throws {
        let scratch = try folder()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let environment = try fakeServer(in: scratch)
        let server = ManagedServer(stateDirectory: scratch + "/.pwb", environment: environment, http: HTTPClient())
        let first = try await server.start(
            model: scratch + "/model.gguf", port: ManagedServer.freePort(), slots: 1, contextPerSlot: 512,
            healthTimeout: 60)
        defer { kill(first.pid, SIGKILL) }
        let firstWatchdogs = children(of: first.pid)
        #expect(firstWatchdogs.count == 1)
        #expect(try await server.stop(grace: 5)?.pid == first.pid)
        for watchdog in firstWatchdogs {
            #expect(try await ends(watchdog, within: ManagedServer.watchInterval + 5), "a watchdog leaked")
        }
        // A record that names another process (a new .pwb in the same place, say) is not this server's.
        let second = try await server.start(
            model: scratch + "/model.gguf", port: ManagedServer.freePort(), slots: 1, contextPerSlot: 512,
            healthTimeout: 60)
        defer { kill(second.pid, SIGKILL) }
        var other = second
        other.pid = getpid()
        try server.writeInfo(other)
        #expect(try await ends(second.pid, within: ManagedServer.watchInterval + 15))
    }
}
