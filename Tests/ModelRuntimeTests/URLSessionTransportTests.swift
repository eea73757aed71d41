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

    /// A redirect to another scheme, host or port is not followed: the key would go with it, and
    /// over plain http when the redirect says so. The answer names where it pointed.
    @Test func aRedirectToAnotherOriginIsNotFollowedWithTheKey() async throws {
        let elsewhere = try StubServer(model: Self.model)
        defer { elsewhere.stop() }
        let target = elsewhere.url.appendingPathComponent("v1/chat/completions").absoluteString
        let server = try StubServer(model: Self.model) { _ in
            .text("moved", status: 307, headers: [("Location", target)])
        }
        defer { server.stop() }
        let provider = OpenAIProvider(
            endpoint: server.url.appendingPathComponent("v1"), model: "m", apiKey: "sk-secret",
            http: URLSessionTransport())
        let request = CompletionRequest(prompt: .chat([ChatMessage(role: "user", content: "hi")]), maxTokens: 2)
        let error = await #expect(throws: ModelError.self) { try await provider.complete(request, timeout: 10) }
        #expect(elsewhere.requests.isEmpty, "the other server got \(elsewhere.requests.map(\.headers))")
        #expect(error?.description.contains("redirects to \(target)") == true, "\(String(describing: error))")
        #expect(error?.isConfigurationRefusal == true, "the endpoint in the configuration is the thing to fix")
    }

    @Test func aRedirectWithinTheSameServerIsFollowed() async throws {
        let server = try StubServer(model: Self.model) { request in
            request.path == "/old" ? .text("moved", status: 307, headers: [("Location", "/completion")]) : nil
        }
        defer { server.stop() }
        let response = try await URLSessionTransport().send(
            HTTPRequest(method: "POST", url: server.url.appendingPathComponent("old"), body: Array("{}".utf8)),
            timeout: 10)
        #expect(response.status == 200)
        #expect(server.requests(to: "/completion").count == 1)
    }
}
