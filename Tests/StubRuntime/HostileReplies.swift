import Foundation
import WorkbenchCore

/// The misbehaviour of a hostile or broken model server, as stub replies: each one something a
/// real server (or what sits between it and pwb) has been seen to do.
extension StubReply {
    /// An HTTP status with an error body in the OpenAI shape.
    package static func status(_ code: Int, _ message: String = "refused", headers: [(String, String)] = [])
        -> StubReply
    {
        .json(["error": ["message": .string(message)]], status: code, headers: headers)
    }

    /// 429 with a `Retry-After` of `seconds`.
    package static func rateLimited(retryAfter seconds: String) -> StubReply {
        .status(429, "slow down", headers: [("Retry-After", seconds)])
    }

    /// A chunked answer whose first chunk declares `size` (e.g. `-1`, `7fffffffffffffff`).
    package static func chunkSize(_ size: String) -> StubReply {
        .raw(
            Array(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\n{\"content\": \"x\"}\r\n0\r\n\r\n".utf8
            ))
    }

    /// Declares a `Content-Length` of `length` and streams that many bytes (or until pwb hangs up).
    package static func declaredLength(_ length: Int) -> StubReply {
        .stream(
            head: Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\n\r\n".utf8),
            filler: UInt8(ascii: " "), count: length)
    }

    /// No length at all: a body of `bytes` bytes that ends when the connection closes.
    package static func oversized(bytes: Int) -> StubReply {
        .stream(
            head: Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n".utf8), filler: UInt8(ascii: " "),
            count: bytes)
    }

    /// A JSON answer with `content` raw bytes inside its string (invalid UTF-8, NUL, escapes…).
    package static func content(bytes: [UInt8], field: String = "content") -> StubReply {
        let body = Array("{\"\(field)\": \"".utf8) + bytes + Array("\", \"stop_type\": \"eos\"}".utf8)
        return .raw(
            Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
                + body)
    }

    /// Half of a JSON answer, then the connection closes.
    package static var closeMidBody: StubReply { .truncated(["content": "an answer that never ends"]) }

    /// A valid answer sent four bytes at a time, `interval` seconds apart.
    package static func trickled(_ value: JSONValue, interval: Double) -> StubReply {
        let body = Array(value.serialized().utf8)
        return .trickle(
            Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body, interval: interval)
    }
}
