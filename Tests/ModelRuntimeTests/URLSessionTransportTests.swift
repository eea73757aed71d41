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
}
