/// How a prompt is sent: as raw text to a completion endpoint, or as chat messages.
package enum PromptMode: String, Sendable, Hashable, CaseIterable {
    case completion
    case chat
}

/// The front matter of a `.prompt` file: how the body is sent and how few-shot examples look.
package struct PromptSettings: Sendable, Hashable {
    package var description: String = ""
    package var evalset: String?
    package var mode: PromptMode = .completion
    package var system: String?
    package var stop: [String] = []
    package var maxTokens: Int?
    package var temperature: Double?
    package var topP: Double?
    package var topK: Int?
    /// How one few-shot example is written: a body over the case's vars plus `{{expected}}`.
    package var exampleFormat: String?
    /// What goes between examples; a blank line unless set.
    package var exampleSeparator: String?

    package init() {}

    package static let keys = [
        "description", "evalset", "mode", "system", "max_tokens", "stop", "temperature", "top_p", "top_k",
        "example_format", "example_separator",
    ]
}

/// A variant as a file: front matter between `---` lines, then the body.
///
/// Front matter values are taken as they are, or as JSON when they start with `"` or `[`
/// (so `stop: ["\n"]` and `example_format: "Q: {{q}}\nA: {{expected}}"` can hold line breaks).
/// The body's final line break is not part of the prompt: editors add one, prompts rarely want it.
package struct PromptFile: Sendable, Hashable {
    package var settings: PromptSettings
    package var body: TemplateBody

    package init(settings: PromptSettings, body: TemplateBody) {
        self.settings = settings
        self.body = body
    }

    /// Parses a `.prompt` file's text. Errors carry the line; the caller adds the file.
    package init(parsing text: String) throws {
        let lines = text.lines()
        var settings = PromptSettings()
        var bodyStart = 0
        if let first = lines.first, first.trimmingWhitespace() == "---" {
            var seen = Set<String>()
            var closed = false
            var index = 1
            while index < lines.count {
                let line = lines[index]
                let lineNumber = index + 1
                index += 1
                let trimmed = line.trimmingWhitespace()
                if trimmed == "---" {
                    closed = true
                    break
                }
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                guard let colon = line.firstIndex(of: ":") else {
                    throw InputError(
                        line: lineNumber,
                        "front matter line \"\(trimmed)\" is not 'key: value' (if the body starts here, close the front matter with a '---' line above it)"
                    )
                }
                let key = line[..<colon].trimmingWhitespace()
                let raw = line[line.index(after: colon)...].trimmingWhitespace()
                guard PromptSettings.keys.contains(key) else {
                    let hint = Suggest.nearest(to: key, in: PromptSettings.keys).map { " (did you mean \($0)?)" } ?? ""
                    throw InputError(
                        line: lineNumber,
                        "unknown front matter key \"\(key)\"\(hint); known keys: \(PromptSettings.keys.joined(separator: ", "))"
                    )
                }
                guard seen.insert(key).inserted else {
                    throw InputError(line: lineNumber, "front matter key \"\(key)\" is given twice")
                }
                do {
                    try settings.set(key, PromptFile.frontMatterValue(raw))
                } catch let error as InputError {
                    throw InputError(line: lineNumber, field: key, error.message)
                }
            }
            guard closed else {
                throw InputError(line: 1, "front matter opened with '---' is never closed; end it with a '---' line")
            }
            bodyStart = index
        }
        var bodyText = lines[bodyStart...].joined(separator: "\n")
        if bodyText.hasSuffix("\n") { bodyText.removeLast() }
        guard !bodyText.trimmingWhitespace().isEmpty else {
            throw InputError(line: bodyStart + 1, "the prompt body is empty; write the prompt after the front matter")
        }
        if let format = settings.exampleFormat {
            do {
                _ = try TemplateBody(format)
            } catch let error as InputError {
                throw InputError(field: "example_format", error.message)
            }
        }
        self.settings = settings
        self.body = try TemplateBody(bodyText, firstLine: bodyStart + 1)
    }

    static func frontMatterValue(_ raw: String) throws -> JSONValue {
        if raw.hasPrefix("\"") || raw.hasPrefix("[") {
            do {
                return try JSONValue(parsing: raw)
            } catch {
                throw InputError(
                    "value is not valid JSON (\(error)); quote it as a JSON string or drop the leading quote")
            }
        }
        return .string(raw)
    }

    /// The file's canonical text: keys in a fixed order, only those set. Equal settings and body
    /// give equal text, so a revision's hash does not change when keys are reordered.
    package var canonicalText: String {
        var lines: [String] = []
        for key in PromptSettings.keys {
            if let value = settings.value(for: key) { lines.append("\(key): \(PromptFile.formatValue(value))") }
        }
        var front = lines.isEmpty ? "" : "---\n" + lines.joined(separator: "\n") + "\n---\n"
        // A body whose first line is `---` would be read back as front matter: fence it.
        if front.isEmpty && body.source.lines().first?.trimmingWhitespace() == "---" { front = "---\n---\n" }
        return front + body.source + "\n"
    }

    /// The content hash a revision is known by.
    package var contentHash: String { SHA256.hex(canonicalText) }

    /// Two long values cut down to where they differ: `…Answer: {{expected}}"` → `…Answer (yes or no): {{expected}}"`.
    static func changedParts(_ old: String, _ new: String, width: Int = 40) -> (String, String) {
        let a = Array(old)
        let b = Array(new)
        var prefix = 0
        while prefix < a.count && prefix < b.count && a[prefix] == b[prefix] { prefix += 1 }
        let start = max(0, prefix - 8)
        let cut = { (chars: [Character]) -> String in
            var text = String(chars[min(start, chars.count)...])
            if start > 0 { text = "…" + text }
            return DisplayWidth.truncate(text, to: width)
        }
        return (cut(a), cut(b))
    }

    static func formatValue(_ value: JSONValue) -> String {
        switch value {
        case .string(let s):
            // Line breaks and tabs by scalar: one followed by a combining mark is still a line
            // break (or tab) in the file, though a substring search may not see it.
            let plain =
                !s.isEmpty && !s.hasPrefix("\"") && !s.hasPrefix("[") && s.trimmingWhitespace() == s
                && !s.unicodeScalars.contains { $0 == "\n" || $0 == "\r" || $0 == "\t" }
            return plain ? s : value.serialized()
        default:
            return value.serialized()
        }
    }
}

extension PromptSettings {
    /// The largest `max_tokens` or `top_k`.
    static let maxWholeNumber = 1_000_000

    /// Sets one front matter key from its value, checking its type and range.
    package mutating func set(_ key: String, _ value: JSONValue) throws {
        func string() throws -> String {
            guard let s = value.stringValue else { throw InputError("expected text, found \(value.kindName)") }
            return s
        }
        func number() throws -> Double {
            if let n = value.doubleValue { return n }
            if let s = value.stringValue, let n = Double(s.trimmingWhitespace()) { return n }
            throw InputError("expected a number, found \"\(value.text)\"")
        }
        func integer() throws -> Int {
            if let n = value.intValue { return n }
            if let s = value.stringValue, let n = Int(s.trimmingWhitespace()) { return n }
            throw InputError("expected a whole number, found \"\(value.text)\"")
        }
        switch key {
        case "description": description = try string()
        case "evalset":
            let name = try string()
            if let problem = Names.problem(with: name) { throw InputError("the eval set name \"\(name)\" \(problem)") }
            evalset = name
        case "mode":
            let raw = try string()
            guard let parsed = PromptMode(rawValue: raw) else {
                throw InputError("mode is \"\(raw)\"; use completion or chat")
            }
            mode = parsed
        case "system": system = try string()
        case "stop":
            switch value {
            case .string(let s): stop = [s]
            case .array(let items):
                stop = []
                for item in items {
                    guard let s = item.stringValue else { throw InputError("stop must be text or a list of texts") }
                    stop.append(s)
                }
            default: throw InputError("stop must be text or a list of texts")
            }
        case "max_tokens":
            let n = try integer()
            // The bound keeps every value one that is written back as a whole number and read
            // again (1e15 would come back as "1e+15" and wedge the variant); no model comes close.
            guard n > 0 && n <= PromptSettings.maxWholeNumber else {
                throw InputError("max_tokens must be between 1 and 1000000, found \(n)")
            }
            maxTokens = n
        case "temperature":
            let t = try number()
            guard t >= 0 && t <= 5 else { throw InputError("temperature must be between 0 and 5, found \(t)") }
            temperature = t
        case "top_p":
            let p = try number()
            guard p > 0 && p <= 1 else { throw InputError("top_p must be in (0, 1], found \(p)") }
            topP = p
        case "top_k":
            let k = try integer()
            guard k >= 0 && k <= PromptSettings.maxWholeNumber else {
                throw InputError("top_k must be between 0 and 1000000, found \(k)")
            }
            topK = k
        case "example_format": exampleFormat = try string()
        case "example_separator": exampleSeparator = try string()
        default:
            throw InputError("unknown key \"\(key)\"; known keys: \(PromptSettings.keys.joined(separator: ", "))")
        }
    }

    /// The value of a key as set, or nil when it is not set.
    package func value(for key: String) -> JSONValue? {
        switch key {
        case "description": description.isEmpty ? nil : .string(description)
        case "evalset": evalset.map { .string($0) }
        case "mode": mode == .completion ? nil : .string(mode.rawValue)
        case "system": system.map { .string($0) }
        case "stop": stop.isEmpty ? nil : .array(stop.map { .string($0) })
        case "max_tokens": maxTokens.map { .number(Double($0)) }
        case "temperature": temperature.map { .number($0) }
        case "top_p": topP.map { .number($0) }
        case "top_k": topK.map { .number(Double($0)) }
        case "example_format": exampleFormat.map { .string($0) }
        case "example_separator": exampleSeparator.map { .string($0) }
        default: nil
        }
    }

    /// Clears a key back to its default.
    package mutating func unset(_ key: String) {
        switch key {
        case "description": description = ""
        case "evalset": evalset = nil
        case "mode": mode = .completion
        case "system": system = nil
        case "stop": stop = []
        case "max_tokens": maxTokens = nil
        case "temperature": temperature = nil
        case "top_p": topP = nil
        case "top_k": topK = nil
        case "example_format": exampleFormat = nil
        case "example_separator": exampleSeparator = nil
        default: break
        }
    }
}

extension PromptFile {
    /// What changed from `old` to this file, in a phrase: the settings that differ and the
    /// body's added and removed lines, e.g. `max_tokens: 4 → 8; body: +1 −1 lines`.
    package func changes(from old: PromptFile) -> String {
        var parts: [String] = []
        for key in PromptSettings.keys {
            let before = old.settings.value(for: key)
            let after = settings.value(for: key)
            guard before != after else { continue }
            let (old, new) = PromptFile.changedParts(
                before.map(PromptFile.formatValue) ?? "(unset)", after.map(PromptFile.formatValue) ?? "(unset)")
            parts.append("\(key): \(old) → \(new)")
        }
        let diff = LineDiff(old: old.body.source, new: body.source)
        if !diff.isEmpty { parts.append("body: +\(diff.addedCount) −\(diff.removedCount) lines") }
        return parts.isEmpty ? "no change" : parts.joined(separator: "; ")
    }
}
