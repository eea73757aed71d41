/// A file a user wrote is not usable as it is. The description is one sentence naming the file,
/// the line and field where known, what is wrong and, where it is not obvious, the fix.
package struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    package var file: String?
    package var line: Int?
    package var field: String?
    /// What is wrong and the fix; the settings and commands it names are worded by the interface.
    package var message: Message

    package init(file: String? = nil, line: Int? = nil, field: String? = nil, _ message: Message) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    /// Settings named plainly, commands as `pwb import`.
    package var description: String { sentence(wording: \.description) }

    /// The same error, located in `file` (and shifted by `lineOffset` when the text it came from
    /// began further down that file).
    package func located(in file: String, lineOffset: Int = 0) -> InputError {
        var copy = self
        copy.file = copy.file ?? file
        if let line = copy.line { copy.line = line + lineOffset }
        return copy
    }
}

extension InputError: ExitCoded {
    package var exitCode: Int32 { ExitCode.badInput }

    /// The location (file, line, field), then the message as the interface words it.
    package func sentence(wording: (Message) -> String) -> String {
        var location = ""
        if let file {
            location = file
            if let line { location += ":\(line)" }
        } else if let line {
            location = "line \(line)"
        }
        var text = location.isEmpty ? "" : location + ": "
        if let field { text += "field \"\(field)\": " }
        text += wording(message)
        if !text.hasSuffix(".") && !text.hasSuffix("?") && !text.hasSuffix(")") { text += "." }
        return text
    }
}

/// Reads the files users write, refusing what cannot be a prompt, an eval set or a document:
/// a missing or empty file, one larger than the limit for its kind, or one that is not UTF-8.
package enum SourceFile {
    package static let promptLimit = 1 << 20
    package static let settingsLimit = 1 << 20
    package static let evalSetLimit = 32 << 20
    package static let documentLimit = 8 << 20

    /// Checks bytes read from `path` and decodes them as UTF-8 text.
    package static func decode(_ bytes: [UInt8], path: String, limit: Int, kind: String) throws -> String {
        if bytes.count > limit {
            throw InputError(
                file: path,
                "is \(formatBytes(bytes.count)); \(kind) may be at most \(formatBytes(limit))")
        }
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw InputError(file: path, "is empty; \(kind) needs content")
        }
        guard let text = String(validating: body, as: UTF8.self) else {
            let line = firstInvalidUTF8Line(bytes)
            throw InputError(
                file: path, line: line, "is not UTF-8 text; save it as UTF-8 (for example with iconv -t UTF-8)")
        }
        if text.contains("\0") {
            throw InputError(file: path, "contains NUL bytes; it looks like a binary file, not \(kind)")
        }
        return text
    }

    static func firstInvalidUTF8Line(_ bytes: [UInt8]) -> Int {
        var line = 1
        var lineStart = 0
        for (i, byte) in bytes.enumerated() where byte == 0x0A {
            if String(validating: bytes[lineStart..<i], as: UTF8.self) == nil { return line }
            line += 1
            lineStart = i + 1
        }
        return line
    }

    package static func formatBytes(_ count: Int) -> String {
        if count >= 1 << 20 { return "\(count >> 20) MiB" }
        if count >= 1 << 10 { return "\(count >> 10) KiB" }
        return "\(count) bytes"
    }
}
