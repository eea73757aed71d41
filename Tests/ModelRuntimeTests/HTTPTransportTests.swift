import Foundation
import Synchronization
import Testing

@testable import ModelRuntime

/// The transports behind `HTTPTransport`.
enum TransportKind: String, CaseIterable, CustomTestStringConvertible {
    case socket, urlSession

    var testDescription: String { rawValue }

    func make() -> any HTTPTransport {
        switch self {
        case .socket: SocketTransport(workers: Workers(limit: 8))
        // URLSession serves plain http:// too, so the same local server tests it.
        case .urlSession: URLSessionTransport()
        }
    }
}

/// One suite for every transport, against a server written for each case: how bodies end
/// (chunked, at the close, cut short), connections that go stale or break, silence, trickles
/// and cancellation.
struct HTTPTransportTests {
    func get(_ transport: any HTTPTransport, _ server: ScriptedServer, timeout: Double = 10) async throws
        -> HTTPResponse
    {
        try await transport.send(
            HTTPRequest(method: "GET", url: server.url.appendingPathComponent("x")), timeout: timeout)
    }

    /// A server that reads the request and never answers.
    static func silentServer() throws -> ScriptedServer {
        try ScriptedServer { connection in
            _ = connection.readRequest()
            connection.waitForClientToClose()
        }
    }

    @Test(arguments: TransportKind.allCases)
    func aChunkedBodyIsReassembledAndTheConnectionServesTheNextAnswer(_ kind: TransportKind) async throws {
        // A trailer after the last chunk stops the process inside URLSession on Linux
        // ("Transfer completed, but there's no response"): only the socket transport gets one.
        let trailer = kind == .socket ? "X-Trailer: 1\r\n" : ""
        let server = try ScriptedServer { connection in
            while connection.readRequest() != nil {
                connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
                usleep(20_000)  // the rest arrives in a later read
                connection.write("7;note=x\r\n, world\r\n0\r\n\(trailer)\r\n")
            }
        }
        defer { server.stop() }
        let transport = kind.make()
        for _ in 0..<2 {
            let response = try await get(transport, server)
            #expect(response.status == 200)
            #expect(response.text == "hello, world")
        }
        if kind == .socket { #expect(server.connections == 1, "both answers on one kept-alive connection") }
    }

    @Test(arguments: TransportKind.allCases)
    func aBodyWithoutALengthEndsWhereTheServerCloses(_ kind: TransportKind) async throws {
        let server = try ScriptedServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nthe first half, ")
            usleep(20_000)
            connection.write("the second half")
            connection.close()
        }
        defer { server.stop() }
        let transport = kind.make()
        for _ in 0..<2 {
            let response = try await get(transport, server)
            #expect(response.text == "the first half, the second half")
        }
        #expect(server.connections == 2, "a connection that ended the body is not used again")
    }

    @Test(arguments: TransportKind.allCases)
    func aBodyCutShortIsTruncatedNotAnAnswer(_ kind: TransportKind) async throws {
        let server = try ScriptedServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 512\r\n\r\n" + String(repeating: "x", count: 120))
            usleep(20_000)
            connection.close()
        }
        defer { server.stop() }
        let error = await #expect(throws: TransportError.self) { try await get(kind.make(), server) }
        #expect(error?.reason == .truncated("got 120 of 512 bytes"))
        #expect(
            error?.description
                == "the server at \(server.url)/x closed the connection before the answer was complete (got 120 of 512 bytes)"
        )
    }

    /// `close`: the server ends the idle connection politely (FIN), which a send does not notice;
    /// `reset`: it resets it, which a send fails on. Either way the request goes again, once, on
    /// a new connection.
    @Test(arguments: TransportKind.allCases, [false, true])
    func aKeptAliveConnectionTheServerClosedWhileIdleIsReplaced(_ kind: TransportKind, reset: Bool) async throws {
        let server = try ScriptedServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.answer("first")
            if connection.number == 0 {
                // Idle now: the server gives up on it.
                if reset { connection.reset() } else { connection.close() }
                return
            }
            while connection.readRequest() != nil { connection.answer("again") }
        }
        defer { server.stop() }
        let transport = kind.make()
        #expect(try await get(transport, server).text == "first")
        try await server.wait { $0.closedByServer == 1 }
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await get(transport, server).text == "first")
        #expect(server.connections == 2)
        #expect(server.requests == 2, "the stale connection never carried the second request")
    }

    @Test(arguments: TransportKind.allCases)
    func aRequestTheServerReadThenClosedOnIsAnErrorNotSentAgain(_ kind: TransportKind) async throws {
        let server = try ScriptedServer { connection in
            while let number = connection.readRequest() {
                guard number == 0 else { return }  // reads the second request, then closes
                connection.answer("first")
            }
        }
        defer { server.stop() }
        let transport = kind.make()
        #expect(try await get(transport, server).text == "first")
        let error = await #expect(throws: TransportError.self) { try await get(transport, server) }
        if kind == .socket {
            #expect(error?.reason == .closedWithoutAnswer)
            #expect(error?.description == "the server at \(server.url)/x closed the connection without answering")
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(server.requests == 2, "the request the server may have acted on is not sent again")
    }

    @Test(arguments: TransportKind.allCases)
    func aResetInTheMiddleOfABodyIsAnErrorNotItsEnd(_ kind: TransportKind) async throws {
        let server = try ScriptedServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nan answer that")
            usleep(50_000)
            connection.reset()
        }
        defer { server.stop() }
        let error = await #expect(throws: TransportError.self) { try await get(kind.make(), server) }
        if kind == .socket {
            #expect(error?.reason == .connectionLost("connection reset by peer"))
            #expect(
                error?.description
                    == "the connection to \(server.url)/x broke before the answer was complete (connection reset by peer)"
            )
        }
        #expect(server.requests == 1)
    }

    @Test(arguments: TransportKind.allCases)
    func aServerThatNeverAnswersTimesOut(_ kind: TransportKind) async throws {
        let server = try Self.silentServer()
        defer { server.stop() }
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) { try await get(kind.make(), server, timeout: 0.5) }
        let elapsed = started.duration(to: .now)
        #expect(error?.reason == .timedOut(seconds: 0.5))
        #expect(error?.description == "the server at \(server.url)/x did not answer within 0.5 s")
        // The upper bound is loose: tests share a busy machine, and without a timeout this never ends.
        #expect(elapsed >= .milliseconds(450) && elapsed < .seconds(30), "\(elapsed)")
    }

    @Test(arguments: TransportKind.allCases)
    func aTricklingServerTimesOutAtTheDeadline(_ kind: TransportKind) async throws {
        // 4,000 bytes one every 20 ms: never silent, and 80 s to the end.
        let server = try ScriptedServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n")
            for _ in 0..<4000 where connection.write("x") { usleep(20_000) }
        }
        defer { server.stop() }
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) { try await get(kind.make(), server, timeout: 1) }
        let elapsed = started.duration(to: .now)
        #expect(error?.reason == .timedOut(seconds: 1))
        #expect(
            elapsed >= .milliseconds(950) && elapsed < .seconds(30), "the deadline, not the 80 s trickle: \(elapsed)")
    }

    @Test(arguments: TransportKind.allCases)
    func cancellingARequestInFlightEndsItAtOnce(_ kind: TransportKind) async throws {
        let server = try Self.silentServer()
        defer { server.stop() }
        let transport = kind.make()
        let task = Task { try await get(transport, server, timeout: 120) }
        try await server.wait { $0.requests == 1 }
        let started = ContinuousClock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(started.duration(to: .now) < .seconds(15), "long before the 120 s timeout")
    }

    @Test(arguments: TransportKind.allCases)
    func nothingListeningIsCannotConnect(_ kind: TransportKind) async throws {
        let server = try ScriptedServer { _ in }
        let url = server.url
        server.stop()
        try await Task.sleep(for: .milliseconds(50))
        let error = await #expect(throws: TransportError.self) {
            try await kind.make().send(HTTPRequest(method: "GET", url: url), timeout: 5)
        }
        #expect(error?.reason == .cannotConnect("connection refused"))
        #expect(error?.description == "pwb cannot connect to \(url) (connection refused)")
    }

    @Test func everyErrorReadsAsASentence() {
        let url = URL(string: "http://127.0.0.1:8080/completion")!
        let cases: [(TransportError.Reason, String)] = [
            (.cannotConnect("connection refused"), "pwb cannot connect to \(url) (connection refused)"),
            (.unsupportedScheme, "\(url) is not an http:// or https:// URL"),
            (.closedWithoutAnswer, "the server at \(url) closed the connection without answering"),
            (
                .connectionLost("connection reset by peer"),
                "the connection to \(url) broke before the answer was complete (connection reset by peer)"
            ),
            (
                .truncated("got 120 of 512 bytes"),
                "the server at \(url) closed the connection before the answer was complete (got 120 of 512 bytes)"
            ),
            (
                .malformed("a bad chunk size \"-1\""),
                "the server at \(url) sent an answer that is not valid HTTP (a bad chunk size \"-1\")"
            ),
            (.tooLarge(limit: 64 << 20), "the answer from \(url) is larger than the 64 MiB pwb accepts"),
            (.timedOut(seconds: 2), "the server at \(url) did not answer within 2 s"),
        ]
        for (reason, sentence) in cases {
            let error = TransportError(url: url, reason: reason)
            // What a user sees: the CLI prints errors by interpolation.
            #expect("\(error)" == sentence)
            #expect(!"\(error)".contains("Reason") && !"\(error)".contains("TransportError"))
        }
    }
}

/// The worker threads under the socket transport: bounded, reused, and gone when idle.
struct WorkersTests {
    @Test func twoHundredRequestsAtOnceUseNoMoreThanTheLimitOfThreads() async throws {
        let server = try ScriptedServer { connection in
            while connection.readRequest() != nil {
                usleep(5_000)
                connection.answer("ok")
            }
        }
        defer { server.stop() }
        let workers = Workers(limit: 8, idleTimeout: 0.3)
        let transport = SocketTransport(workers: workers)
        let url = server.url.appendingPathComponent("x")
        let answered = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<200 {
                group.addTask { try await transport.send(HTTPRequest(method: "GET", url: url), timeout: 60).status }
            }
            return try await group.reduce(into: 0) { count, status in count += status == 200 ? 1 : 0 }
        }
        #expect(answered == 200)
        #expect(workers.mostThreads <= 8 && workers.mostThreads >= 2, "\(workers.mostThreads) threads")
        #expect(server.connections <= 8, "one connection per busy thread at most, then reused")
        for _ in 0..<1000 where workers.threads > 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(workers.threads == 0, "idle threads exit")
    }

    @Test func oneRequestAfterAnotherUsesOneThread() async throws {
        let server = try ScriptedServer { connection in
            while connection.readRequest() != nil { connection.answer("ok") }
        }
        defer { server.stop() }
        let workers = Workers(limit: 8)
        let transport = SocketTransport(workers: workers)
        for _ in 0..<20 {
            _ = try await transport.send(HTTPRequest(method: "GET", url: server.url), timeout: 10)
        }
        #expect(workers.mostThreads == 1)
        #expect(server.connections == 1)
    }

    @Test func aJobWaitingForAThreadIsCancelledWithoutRunning() async throws {
        let workers = Workers(limit: 1)
        let release = DispatchSemaphore(value: 0)
        let ran = Mutex(false)
        let busy = Task { try await workers.run { release.wait() } }
        while workers.threads == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let waiting = Task { try await workers.run { ran.withLock { $0 = true } } }
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(started.duration(to: .now) < .seconds(15), "not when the busy job ends")
        release.signal()
        try await busy.value
        try await Task.sleep(for: .milliseconds(50))
        #expect(ran.withLock { $0 } == false)
        #expect(workers.mostThreads == 1)
    }
}
