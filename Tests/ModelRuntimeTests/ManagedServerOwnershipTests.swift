import Foundation
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
        #expect(error?.message.contains("holds \(state)/runtime.lock") == true)
    }
}
