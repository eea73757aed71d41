import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One keep-alive HTTP/1.1 connection over a TCP socket, with blocking calls bounded by
/// `poll` so every read and write honours the request's deadline.
///
/// Used by one request at a time (the pool hands it out exclusively); `abort()` may be called
/// from another thread to wake a blocked call when the request is cancelled.
final class RawConnection: Sendable {
    /// The request could not be sent: the server had closed the connection (while it was idle,
    /// when it was reused) or it broke during the send. The server has not seen a whole request,
    /// so sending it again on another connection is safe.
    struct SendFailed: Error {
        var reason: String
    }

    private let descriptor: Int32
    private let closed = Mutex(false)

    /// Connects to `host:port` (names are resolved; IPv4 and IPv6), giving up at `deadline`, or
    /// as soon as `isCancelled` says so. Errors name `url`, the request's.
    ///
    /// - Throws: `TransportError` (`.cannotConnect`, or `.timedOut` with 0 seconds: the caller
    ///   knows the time it allowed); `CancellationError`.
    init(
        host: String, port: Int, url: URL, deadline: Date, isCancelled: @Sendable () -> Bool = { false }
    ) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            throw TransportError(url: url, reason: .cannotConnect("cannot resolve the host name \(host)"))
        }
        defer { freeaddrinfo(results) }
        var lastError = "connection refused"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd < 0 {
                // Out of descriptors (EMFILE) is pwb's own trouble, not a server refusing.
                lastError = "cannot open a socket: \(String(cString: strerror(errno)))"
                continue
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var result = Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
            if result != 0 && errno == EINPROGRESS {
                if RawConnection.wait(fd, for: Int16(POLLOUT), until: deadline, isCancelled: isCancelled) {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    result = error == 0 ? 0 : -1
                    if error != 0 { lastError = String(cString: strerror(error)) }
                } else {
                    Glibc.close(fd)
                    if isCancelled() { throw CancellationError() }
                    throw TransportError(url: url, reason: .timedOut(seconds: 0))
                }
            } else if result != 0 {
                lastError = String(cString: strerror(errno))
            }
            if result == 0 {
                descriptor = fd
                return
            }
            Glibc.close(fd)
        }
        throw TransportError(url: url, reason: .cannotConnect(lastError.lowercased()))
    }

    deinit { close() }

    func close() {
        closed.withLock { closed in
            if !closed { Glibc.close(descriptor) }
            closed = true
        }
    }

    /// Wakes a call blocked on this connection; the request then fails and the caller closes it.
    /// Under the same lock as `close`, so the descriptor cannot have been closed and reused
    /// by another connection in between.
    func abort() {
        closed.withLock { closed in
            if !closed { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    /// The longest status or header line read.
    static let maxLineBytes = 64 << 10

    /// Writes the request and reads the whole response.
    ///
    /// - Throws: `SendFailed` when the request could not be sent; after it was sent,
    ///   `TransportError` (`.timedOut` with 0 seconds: the caller knows the time it allowed).
    func exchange(_ request: HTTPRequest, host: String, deadline: Date) throws -> HTTPResponse {
        var path = request.url.path.isEmpty ? "/" : request.url.path
        if let query = request.url.query { path += "?" + query }
        var head = "\(request.method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        head += "Content-Length: \(request.body.count)\r\nConnection: keep-alive\r\n"
        for (name, value) in request.headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try send(Array(head.utf8) + request.body, url: request.url, deadline: deadline)
        var reader = Reader(connection: self, url: request.url, deadline: deadline)
        return try reader.readResponse()
    }

    /// Whether the server has closed the connection, or sent something unasked for: either way
    /// no request can go over it. Nothing ever waits here.
    private var isClosedByPeer: Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) != 0
    }

    private func send(_ bytes: [UInt8], url: URL, deadline: Date) throws {
        // A server closes an idle keep-alive connection with a FIN that the next send would not
        // notice (the bytes go out; the answer is a reset): look for it before sending.
        if isClosedByPeer { throw SendFailed(reason: "the server had closed the connection") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.send(descriptor, buffer.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                offset += written
                continue
            }
            if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard RawConnection.wait(descriptor, for: Int16(POLLOUT), until: deadline) else {
                    throw TransportError(url: url, reason: .timedOut(seconds: 0))
                }
                continue
            }
            throw SendFailed(reason: String(cString: strerror(errno)).lowercased())
        }
    }

    /// Reads what is available, waiting until `deadline`; an empty result means the peer
    /// closed the connection. A broken connection is an error, never the end of the answer.
    fileprivate func read(into buffer: inout [UInt8], scratch chunk: inout [UInt8], url: URL, deadline: Date) throws
        -> Int
    {
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return count
            }
            if count == 0 { return 0 }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                guard RawConnection.wait(descriptor, for: Int16(POLLIN), until: deadline) else {
                    throw TransportError(url: url, reason: .timedOut(seconds: 0))
                }
                continue
            }
            throw TransportError(url: url, reason: .connectionLost(String(cString: strerror(errno)).lowercased()))
        }
    }

    /// Waits until `fd` is ready for `events` or `deadline` passes (false), in short slices so
    /// a shutdown from `abort()` is noticed.
    private static func wait(
        _ fd: Int32, for events: Int16, until deadline: Date, isCancelled: @Sendable () -> Bool = { false }
    ) -> Bool {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 || isCancelled() { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let result = poll(&entry, 1, Int32(min(remaining, 0.1) * 1000) + 1)
            if result > 0 { return true }
            if result < 0 && errno != EINTR { return true }
        }
    }

    /// Parses one HTTP/1.1 response: status line, headers, then a body by Content-Length,
    /// chunked transfer encoding, or until the connection closes.
    private struct Reader {
        let connection: RawConnection
        let url: URL
        let deadline: Date
        var buffer: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 16384)
        var position = 0

        init(connection: RawConnection, url: URL, deadline: Date) {
            self.connection = connection
            self.url = url
            self.deadline = deadline
            buffer.reserveCapacity(4096)
        }

        func failure(_ reason: TransportError.Reason) -> TransportError {
            TransportError(url: url, reason: reason)
        }

        mutating func fill() throws -> Bool {
            if position > 0 && position == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                position = 0
            }
            return try connection.read(into: &buffer, scratch: &scratch, url: url, deadline: deadline) > 0
        }

        mutating func readLine() throws -> String? {
            while true {
                if let newline = buffer[position...].firstIndex(of: 0x0A) {
                    var end = newline
                    if end > position && buffer[end - 1] == 0x0D { end -= 1 }
                    let line = String(decoding: buffer[position..<end], as: UTF8.self)
                    position = newline + 1
                    return line
                }
                if buffer.count - position > RawConnection.maxLineBytes {
                    throw failure(
                        .malformed(
                            "a line of the answer's head is longer than \(RawConnection.maxLineBytes / 1024) KiB"))
                }
                if try !fill() { return nil }
            }
        }

        /// The status line and headers of one answer.
        mutating func readHead(first: Bool) throws -> (Int, [String: String]) {
            guard let statusLine = try readLine() else {
                if first && buffer.isEmpty { throw failure(.closedWithoutAnswer) }
                throw failure(
                    .truncated(first ? "it ended inside the status line" : "it ended after an interim answer"))
            }
            let parts = statusLine.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]),
                (100..<600).contains(status)
            else {
                throw failure(.malformed("the answer is not HTTP: \"\(statusLine.prefix(60))\""))
            }
            var headers: [String: String] = [:]
            var count = 0
            while true {
                guard let line = try readLine() else { throw failure(.truncated("it ended inside the headers")) }
                if line.isEmpty { break }
                count += 1
                guard count <= 256 else { throw failure(.malformed("more than 256 header lines")) }
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
            return (status, headers)
        }

        /// Refuses a body that would pass the size limit.
        func checkSize(_ size: Int) throws {
            guard size <= HTTPResponse.maxBodyBytes else { throw failure(.tooLarge(limit: HTTPResponse.maxBodyBytes)) }
        }

        /// The next `count` bytes; when the connection closes first, `.truncated` with how far
        /// it got, in `extent`'s words (given the bytes that came).
        mutating func readBytes(_ count: Int, extent: (Int) -> String) throws -> [UInt8] {
            while buffer.count - position < count {
                if try !fill() { throw failure(.truncated(extent(buffer.count - position))) }
            }
            let bytes = Array(buffer[position..<(position + count)])
            position += count
            return bytes
        }

        mutating func readResponse() throws -> HTTPResponse {
            var (status, headers) = try readHead(first: true)
            // Interim answers (`100 Continue`, `103 Early Hints`) come before the real one.
            var interim = 0
            while (100..<200).contains(status) && status != 101 {
                interim += 1
                guard interim <= 8 else { throw failure(.malformed("only interim 1xx answers")) }
                (status, headers) = try readHead(first: false)
            }
            var body: [UInt8]
            if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
                body = []
                while true {
                    guard let sizeLine = try readLine() else {
                        throw failure(.truncated("it ended inside a chunk, after \(body.count) bytes"))
                    }
                    let sizeText = sizeLine.split(separator: ";").first.map(String.init) ?? ""
                    guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                        throw failure(.malformed("a bad chunk size \"\(sizeLine.prefix(20))\""))
                    }
                    try checkSize(body.count + min(size, Int.max - body.count))
                    if size == 0 {
                        while let trailer = try readLine(), !trailer.isEmpty {}
                        break
                    }
                    body += try readBytes(size) { [done = body.count] in
                        "it ended inside a chunk, after \(done + $0) bytes"
                    }
                    _ = try readLine()
                }
            } else if let lengthText = headers["content-length"] {
                guard let length = Int(lengthText), length >= 0 else {
                    throw failure(.malformed("a bad Content-Length \"\(lengthText.prefix(40))\""))
                }
                try checkSize(length)
                body = try readBytes(length) { "got \($0) of \(length) bytes" }
            } else if status == 204 || status == 304 || (100..<200).contains(status) {
                body = []
            } else {
                // No length given: the body is all that comes before the server closes.
                while try fill() { try checkSize(buffer.count - position) }
                body = Array(buffer[position...])
                headers["connection"] = "close"
            }
            return HTTPResponse(status: status, headers: headers, body: body)
        }
    }
}
