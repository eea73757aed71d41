import Foundation
import StubRuntime
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP server on 127.0.0.1 for the transport tests: each connection runs `script` on a thread
/// of its own, which reads requests and writes exactly the bytes a case needs, then closes the
/// connection cleanly, resets it, or holds it open.
final class ScriptedServer: Sendable {
    let port: Int
    private let listener: Int32
    private let script: @Sendable (ScriptedConnection) -> Void
    private let state = Mutex(State())

    private struct State {
        var connections = 0
        var requests = 0
        var closedByServer = 0
        var open: [Int32] = []
        var stopped = false
    }

    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }
    /// Connections accepted so far.
    var connections: Int { state.withLock { $0.connections } }
    /// Whole requests read so far, on all connections.
    var requests: Int { state.withLock { $0.requests } }
    /// Connections the scripts closed or reset so far.
    var closedByServer: Int { state.withLock { $0.closedByServer } }

    init(script: @escaping @Sendable (ScriptedConnection) -> Void) throws {
        self.script = script
        (listener, port) = try listenOnLoopback()
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Stops accepting and wakes every script waiting on its connection. Under the lock that
    /// closing takes, so no descriptor is shut down after it was closed and reused elsewhere.
    func stop() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
            for fd in state.open { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Waits up to 5 s until `condition` holds (the server's threads run on their own time).
    func wait(until condition: (ScriptedServer) -> Bool) async throws {
        for _ in 0..<500 where !condition(self) { try await Task.sleep(for: .milliseconds(10)) }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                Glibc.close(listener)
                return
            }
            let number = state.withLock { state -> Int? in
                guard !state.stopped else { return nil }
                state.connections += 1
                state.open.append(fd)
                return state.connections - 1
            }
            guard let number else {
                Glibc.close(fd)
                continue
            }
            let thread = Thread { [self] in
                let connection = ScriptedConnection(fd: fd, number: number, server: self)
                script(connection)
                connection.close()
            }
            thread.stackSize = 256 << 10
            thread.start()
        }
    }

    fileprivate func countRequest() -> Int {
        state.withLock { state in
            state.requests += 1
            return state.requests - 1
        }
    }

    fileprivate func close(_ fd: Int32) {
        state.withLock { state in
            state.open.removeAll { $0 == fd }
            state.closedByServer += 1
            Glibc.close(fd)
        }
    }
}

/// One accepted connection, used by its script's thread only.
final class ScriptedConnection {
    /// 0 for the server's first connection, 1 for the next…
    let number: Int
    private let fd: Int32
    private let server: ScriptedServer
    private var buffer: [UInt8] = []
    private var isClosed = false

    fileprivate init(fd: Int32, number: Int, server: ScriptedServer) {
        self.fd = fd
        self.number = number
        self.server = server
    }

    /// Reads one whole request (head, and a body by Content-Length) and returns its number
    /// among all the server's requests; nil when the client closed the connection first.
    func readRequest() -> Int? {
        while true {
            if let end = headEnd() {
                let head = String(decoding: buffer[..<end], as: UTF8.self).lowercased()
                let length =
                    head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if buffer.count >= end + 4 + length {
                    buffer.removeFirst(end + 4 + length)
                    return server.countRequest()
                }
            }
            guard receive() else { return nil }
        }
    }

    /// Sends `text`; false when the client is gone.
    @discardableResult
    func write(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        // The socket blocks, so one send hands over every byte or fails.
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// A complete answer with a Content-Length, keeping the connection open.
    func answer(_ body: String) {
        write("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    /// Holds the connection until the client closes it or the server stops.
    func waitForClientToClose() {
        while receive() {}
    }

    /// Closes the connection the polite way (FIN).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        server.close(fd)
    }

    /// Closes the connection with a reset (RST), as a crashed or overloaded server does.
    func reset() {
        guard !isClosed else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        return (0...(buffer.count - 4)).first { buffer[$0..<($0 + 4)].elementsEqual([13, 10, 13, 10]) }
    }

    /// Appends what arrives to the buffer; false when the client closed or the server stopped.
    private func receive() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        guard count > 0 else { return false }
        buffer += chunk[0..<count]
        return true
    }
}
