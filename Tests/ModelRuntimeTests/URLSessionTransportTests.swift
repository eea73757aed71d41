import Foundation
import StubRuntime
import Testing
import WorkbenchCore

@testable import ModelRuntime

/// The `https://` path (URLSession), driven over plain HTTP against the hostile stub so no
/// certificate is needed: the same code path, with a total deadline and a size cap.
struct URLSessionTransportTests {
    static let model = StubModel { _ in " ok" }

    func post(_ server: StubServer, timeout: Double) async throws -> HTTPResponse {
        try await URLSessionTransport().send(
            HTTPRequest(method: "POST", url: server.url.appendingPathComponent("completion"), body: Array("{}".utf8)),
            timeout: timeout)
    }

    @Test func aTimeoutUnderASecondIsNotAnInstantOne() async throws {
        // URLSession on Linux counts its timeout in whole seconds: 0.4 was 0, a timeout at once.
        let server = try StubServer(model: Self.model) { _ in .delayed(0.05, .json(["content": " ok"])) }
        defer { server.stop() }
        let started = Date()
        do {
            #expect(try await post(server, timeout: 0.4).status == 200)
        } catch {
            // Only a machine too busy to answer in 0.4 s may time out, and not before then.
            #expect(Date().timeIntervalSince(started) >= 0.35, "\(error)")
        }
    }

    @Test func anAnswerComesThrough() async throws {
        let server = try StubServer(model: Self.model) { _ in .json(["content": " ok"], headers: [("X-Seen", "1")]) }
        defer { server.stop() }
        let response = try await post(server, timeout: 10)
        #expect(response.status == 200)
        #expect(response.headers["x-seen"] == "1")
        #expect(try JSONValue(parsing: response.body)["content"]?.stringValue == " ok")
    }

    @Test func aTricklingServerTimesOutAtTheDeadlineNotAtTheEndOfTheTrickle() async throws {
        // 4,000 bytes four at a time, 50 ms apart: never idle long enough for an idle timeout,
        // and 50 s to the end.
        let server = try StubServer(model: Self.model) { _ in
            .trickled(["content": .string(String(repeating: "x", count: 4000))], interval: 0.05)
        }
        defer { server.stop() }
        let started = Date()
        let error = await #expect(throws: TransportError.self) { try await post(server, timeout: 2) }
        #expect(error?.reason == .timedOut(seconds: 2))
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 1.9 && elapsed < 12, "the deadline, not the 50 s the trickle takes: \(elapsed) s")
    }

    @Test(arguments: [
        StubReply.oversized(bytes: 80 << 20), .declaredLength(100_000_000_000),
    ])
    func anAnswerOverTheCapIsRefused(_ reply: StubReply) async throws {
        let server = try StubServer(model: Self.model) { _ in reply }
        defer { server.stop() }
        let error = await #expect(throws: TransportError.self) { try await post(server, timeout: 60) }
        #expect(
            "\(error.map { $0 as Any } ?? "")".contains("larger than the 64 MiB pwb accepts"),
            "\(String(describing: error))")
    }

    @Test func cancellingAHungRequestEndsItAtOnce() async throws {
        let server = try StubServer(model: Self.model) { _ in .hang }
        defer { server.stop() }
        let started = Date()
        let task = Task { try await post(server, timeout: 120) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(Date().timeIntervalSince(started) < 10)
    }
}
