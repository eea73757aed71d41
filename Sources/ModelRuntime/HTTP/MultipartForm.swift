import Foundation

/// A `multipart/form-data` body (RFC 7578): how a file goes to an upload API such as OpenAI's
/// `/v1/files`. The transports carry any body; this builds one, and the `Content-Type` that names
/// its boundary.
package struct MultipartForm: Sendable {
    /// One field of the form: a text value, or a file with its name and media type.
    package struct Part: Sendable {
        package var name: String
        package var filename: String?
        package var contentType: String?
        package var data: [UInt8]

        /// A text field.
        package init(name: String, value: String) {
            self.name = name
            self.data = Array(value.utf8)
        }

        /// A file field.
        package init(name: String, filename: String, contentType: String, data: [UInt8]) {
            self.name = name
            self.filename = filename
            self.contentType = contentType
            self.data = data
        }
    }

    package var parts: [Part]
    /// The boundary between parts: random, and checked to occur in no part's content.
    package let boundary: String

    package init(_ parts: [Part]) {
        self.parts = parts
        var boundary = MultipartForm.randomBoundary()
        // A part that contains the boundary would end early on the server; with 128 random bits
        // that needs an attacker who sees the boundary first, but checking costs one scan.
        while parts.contains(where: { MultipartForm.contains($0.data, Array(boundary.utf8)) }) {
            boundary = MultipartForm.randomBoundary()
        }
        self.boundary = boundary
    }

    /// The request's `Content-Type` header value.
    package var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// The whole body: each part's head and content between boundary lines, then the closing line.
    package var body: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.data.count + 200 } + boundary.utf8.count + 8)
        for part in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(MultipartForm.quoted(part.name))\""
            if let filename = part.filename { head += "; filename=\"\(MultipartForm.quoted(filename))\"" }
            head += "\r\n"
            if let contentType = part.contentType { head += "Content-Type: \(contentType)\r\n" }
            head += "\r\n"
            out += Array(head.utf8)
            out += part.data
            out += Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    /// A name or file name as a quoted string in a part's head: a quote, a backslash or a line
    /// break would end the head or the quotes, so they are percent-encoded, as browsers do.
    static func quoted(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "%22"
            case "\\": out += "%5C"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func randomBoundary() -> String {
        "pwb-" + (0..<4).map { _ in String(UInt32.random(in: .min ... .max), radix: 16) }.joined(separator: "-")
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return true
            }
            index += 1
        }
        return false
    }
}
