import Foundation
import Synchronization
import WorkbenchCore

#if canImport(Glibc)
    import Glibc
#endif

/// A request the stub received.
package struct StubRequest: Sendable {
    package var method: String
    package var path: String
    package var headers: [String: String]
    package var body: [UInt8]

    package var json: JSONValue? { try? JSONValue(parsing: body) }
}

/// How the stub answers one request, misbehaviour included.
package indirect enum StubReply: Sendable {
    case json(JSONValue, status: Int = 200, headers: [(String, String)] = [])
    case text(String, status: Int = 200, headers: [(String, String)] = [])
    /// Waits, then answers.
    case delayed(Double, StubReply)
    /// Sends these bytes as the whole answer and closes the connection.
    case raw([UInt8])
    /// Declares the full length of this JSON but sends only half of it, then closes.
    case truncated(JSONValue)
    /// Closes the connection without a word: a server that died mid-request.
    case drop
    /// `100 Continue` first, then this answer.
    case interim(StubReply)
    /// Holds the connection open and never answers (until the server stops).
    case hang
    /// Sends these bytes a few at a time, `interval` seconds apart, then closes: a server that
    /// is never silent long enough for an idle timeout.
    case trickle([UInt8], interval: Double)
    /// Sends `head`, then `count` copies of `filler` (stopping when the peer goes away), then
    /// closes: bodies far larger than anything a model should answer.
    case stream(head: [UInt8], filler: UInt8, count: Int)
}

/// An HTTP/1.1 server on 127.0.0.1 inside the test process: each connection on its own thread,
/// keep-alive, every request recorded, the answer decided by `handler`.
package final class StubServer: Sendable {
    package let port: Int
    private let listener: Int32
    private let handler: @Sendable (StubRequest) -> StubReply
    private let state = Mutex(State())

    struct State {
        var requests: [StubRequest] = []
        var inFlight = 0
        var maxInFlight = 0
        var stopped = false
        var connections: [Int32] = []
    }

    package var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Starts listening on `port` (0: any free port) and serving at once.
    package init(port: Int = 0, handler: @escaping @Sendable (StubRequest) -> StubReply) throws {
        self.handler = handler
        (listener, self.port) = try listenOnLoopback(port: port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting and closes every open connection.
    package func stop() {
        let connections = state.withLock { state -> [Int32]? in
            if state.stopped { return nil }
            state.stopped = true
            return state.connections
        }
        guard let connections else { return }
        // Shut down, not close: the accept thread closes the descriptor as it leaves, so the
        // number cannot be reused by another socket while that thread still holds it.
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in connections { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    package var requests: [StubRequest] { state.withLock { $0.requests } }

    /// The most requests the stub was answering at the same moment.
    package var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    package func requests(to path: String) -> [StubRequest] { requests.filter { $0.path == path } }

    private func acceptLoop() {
        defer { close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if state.withLock({ $0.stopped }) { return }
                if errno == EINTR { continue }
                return
            }
            if state.withLock({ $0.stopped }) {
                close(client)
                return
            }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            state.withLock { $0.connections.append(client) }
            let thread = Thread { [self] in serve(client) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            state.withLock { $0.connections.removeAll { $0 == fd } }
            close(fd)
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            // Read one request: headers, then Content-Length bytes of body.
            var headerEnd: Int?
            while headerEnd == nil {
                if let range = findHeaderEnd(buffer) {
                    headerEnd = range
                    break
                }
                let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if count <= 0 { return }
                buffer.append(contentsOf: chunk[0..<count])
            }
            let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let requestLine = lines.removeFirst().split(separator: " ")
            guard requestLine.count >= 2 else { return }
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            let bodyStart = headerEnd! + 4
            while buffer.count < bodyStart + length {
                let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if count <= 0 { return }
                buffer.append(contentsOf: chunk[0..<count])
            }
            let request = StubRequest(
                method: String(requestLine[0]), path: String(requestLine[1]), headers: headers,
                body: Array(buffer[bodyStart..<(bodyStart + length)]))
            buffer.removeFirst(bodyStart + length)
            state.withLock { state in
                state.requests.append(request)
                state.inFlight += 1
                state.maxInFlight = max(state.maxInFlight, state.inFlight)
            }
            let keepOpen = respond(fd, handler(request))
            state.withLock { $0.inFlight -= 1 }
            if !keepOpen { return }
        }
    }

    private func findHeaderEnd(_ buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4)
        where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// Writes the reply; returns whether the connection stays open.
    private func respond(_ fd: Int32, _ reply: StubReply) -> Bool {
        switch reply {
        case .json(let value, let status, let headers):
            return send(
                fd, status: status, headers: [("Content-Type", "application/json")] + headers,
                body: Array(value.serialized().utf8))
        case .text(let text, let status, let headers):
            return send(fd, status: status, headers: [("Content-Type", "text/plain")] + headers, body: Array(text.utf8))
        case .delayed(let seconds, let next):
            Thread.sleep(forTimeInterval: seconds)
            return respond(fd, next)
        case .raw(let bytes):
            write(fd, bytes)
            return false
        case .truncated(let value):
            let body = Array(value.serialized().utf8)
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
            write(fd, Array(head.utf8) + body.prefix(body.count / 2))
            return false
        case .drop:
            return false
        case .interim(let next):
            guard write(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return false }
            return respond(fd, next)
        case .hang:
            while !state.withLock({ $0.stopped }) { Thread.sleep(forTimeInterval: 0.02) }
            return false
        case .trickle(let bytes, let interval):
            var offset = 0
            while offset < bytes.count, !state.withLock({ $0.stopped }) {
                let end = min(bytes.count, offset + 4)
                if !write(fd, Array(bytes[offset..<end])) { return false }
                offset = end
                Thread.sleep(forTimeInterval: interval)
            }
            return false
        case .stream(let head, let filler, let count):
            guard write(fd, head) else { return false }
            let block = [UInt8](repeating: filler, count: 65536)
            var sent = 0
            while sent < count, !state.withLock({ $0.stopped }) {
                let size = min(block.count, count - sent)
                if !write(fd, Array(block[0..<size])) { return false }
                sent += size
            }
            return false
        }
    }

    private func send(_ fd: Int32, status: Int, headers: [(String, String)], body: [UInt8]) -> Bool {
        var head = "HTTP/1.1 \(status) \(status < 400 ? "OK" : "Error")\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return write(fd, Array(head.utf8) + body)
    }

    @discardableResult
    private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }
}
