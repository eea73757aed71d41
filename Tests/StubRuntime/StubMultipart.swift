import Foundation

/// Reads a `multipart/form-data` body as a server would: parts between boundary lines, each a
/// head (`Content-Disposition`, `Content-Type`) and content.
package enum StubMultipart {
    package struct Part: Sendable {
        package var name: String
        package var filename: String?
        package var contentType: String?
        package var data: [UInt8]
    }

    package static func parse(_ body: [UInt8], contentType: String) -> [Part]? {
        guard contentType.lowercased().hasPrefix("multipart/form-data"),
            let range = contentType.range(of: "boundary=")
        else { return nil }
        let boundary = Array(
            ("--" + contentType[range.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))).utf8)
        var parts: [Part] = []
        var positions: [Int] = []
        var index = 0
        while index + boundary.count <= body.count {
            if body[index..<(index + boundary.count)].elementsEqual(boundary) {
                positions.append(index)
                index += boundary.count
            } else {
                index += 1
            }
        }
        guard positions.count >= 2 else { return nil }
        for (start, end) in zip(positions, positions.dropFirst()) {
            // After the boundary: CRLF, the head, a blank line, the content, CRLF before the next boundary.
            let section = Array(body[(start + boundary.count + 2)..<(end - 2)])
            guard
                let split = (0..<max(0, section.count - 3)).first(where: {
                    section[$0] == 13 && section[$0 + 1] == 10 && section[$0 + 2] == 13 && section[$0 + 3] == 10
                })
            else { return nil }
            let head = String(decoding: section[..<split], as: UTF8.self)
            var part = Part(name: "", data: Array(section[(split + 4)...]))
            for line in head.components(separatedBy: "\r\n") {
                let lower = line.lowercased()
                if lower.hasPrefix("content-disposition:") {
                    part.name = quotedValue("name", in: line) ?? ""
                    part.filename = quotedValue("filename", in: line)
                } else if lower.hasPrefix("content-type:") {
                    part.contentType = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
                }
            }
            parts.append(part)
        }
        // The last boundary must be the closing one.
        let last = positions.last! + boundary.count
        guard body.count >= last + 2, body[last] == UInt8(ascii: "-"), body[last + 1] == UInt8(ascii: "-") else {
            return nil
        }
        return parts
    }

    private static func quotedValue(_ key: String, in line: String) -> String? {
        guard let range = line.range(of: "; \(key)=\"") else { return nil }
        let rest = line[range.upperBound...]
        guard let close = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<close])
    }
}
