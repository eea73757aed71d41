/// A prompt body with `{{name}}` placeholders, parsed once and rendered many times.
///
/// `{{examples}}` and `{{context}}` are the slots few-shot and retrieval fill. When a slot is
/// empty and stands alone on its line, the whole line goes, so a zero-shot prompt has no hole.
package struct TemplateBody: Sendable, Hashable {
    package enum Segment: Sendable, Hashable {
        case text(String)
        /// `standalone`: the placeholder is the only thing on its line.
        case variable(name: String, line: Int, standalone: Bool)
    }

    package static let examplesSlot = "examples"
    package static let contextSlot = "context"
    package static let slots: Set<String> = [examplesSlot, contextSlot]

    package let source: String
    package let segments: [Segment]

    /// Parses `source`; `firstLine` is the line of the file on which it begins, for errors.
    package init(_ source: String, firstLine: Int = 1) throws {
        self.source = source
        self.segments = try TemplateBody.parse(source, firstLine: firstLine)
    }

    /// The variables the body uses, in order of first use, slots included.
    package var variables: [String] {
        var seen = Set<String>()
        var names: [String] = []
        for case .variable(let name, _, _) in segments where seen.insert(name).inserted {
            names.append(name)
        }
        return names
    }

    /// The variables a case must provide: everything but the slots.
    package var caseVariables: [String] { variables.filter { !TemplateBody.slots.contains($0) } }

    package func line(of variable: String) -> Int? {
        for case .variable(let name, let line, _) in segments where name == variable { return line }
        return nil
    }

    /// Fills the placeholders. Slots that are not given render empty; any other missing variable
    /// is an error naming it and its line.
    package func render(_ values: [String: String]) throws -> String {
        var out = ""
        out.reserveCapacity(source.utf8.count + 64)
        var dropLineBreak = false
        for segment in segments {
            switch segment {
            case .text(var text):
                if dropLineBreak {
                    dropLineBreak = false
                    text = TemplateBody.droppingFirstLineBreak(text)
                }
                out += text
            case .variable(let name, let line, let standalone):
                let value: String
                if let given = values[name] {
                    value = given
                } else if TemplateBody.slots.contains(name) {
                    value = ""
                } else {
                    throw InputError(
                        line: line,
                        "{{\(name)}} is not defined; give it a value (the case's vars or \(setting: "var") \(name)=…)")
                }
                if value.isEmpty && standalone && TemplateBody.slots.contains(name) {
                    while let last = out.last, last == " " || last == "\t" { out.removeLast() }
                    dropLineBreak = true
                } else {
                    out += value
                }
            }
        }
        return out
    }

    /// The body with `slot` written in as `text` for good, every other placeholder kept: the
    /// prompt a few-shot rung sends, as one file. Nil when `text` holds a `{{`, which the body
    /// would read as a placeholder.
    package func filling(_ slot: String, with text: String) -> TemplateBody? {
        guard !text.contains("{{") else { return nil }
        var source = ""
        for segment in segments {
            switch segment {
            case .text(let literal): source += literal
            case .variable(let name, _, _): source += name == slot ? text : "{{\(name)}}"
            }
        }
        return try? TemplateBody(source)
    }

    private static func droppingFirstLineBreak(_ text: String) -> String {
        var rest = Substring(text)
        while let first = rest.first, first == " " || first == "\t" { rest = rest.dropFirst() }
        if rest.first == "\n" { return String(rest.dropFirst()) }
        if rest.first == "\r\n" { return String(rest.dropFirst()) }
        return String(rest)
    }

    private static func parse(_ source: String, firstLine: Int) throws -> [Segment] {
        var segments: [Segment] = []
        var literal = ""
        var line = firstLine
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            let before = rest[..<open.lowerBound]
            literal += before
            line += before.count(where: { $0 == "\n" || $0 == "\r\n" })
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else {
                throw InputError(line: line, "'{{' is not closed; write {{name}}")
            }
            let inner = afterOpen[..<close.lowerBound]
            if inner.contains("\n") || inner.contains("{{") {
                throw InputError(line: line, "'{{' is not closed on its line; write {{name}}")
            }
            let name = inner.trimmingWhitespace()
            if let problem = variableProblem(name) {
                throw InputError(line: line, "{{\(inner)}} is not a variable: the name \(problem)")
            }
            let standalone =
                onlySpacesSinceLineStart(source[..<open.lowerBound]) && startsLine(afterOpen[close.upperBound...])
            if !literal.isEmpty {
                segments.append(.text(literal))
                literal = ""
            }
            segments.append(.variable(name: name, line: line, standalone: standalone))
            rest = afterOpen[close.upperBound...]
        }
        literal += rest
        if !literal.isEmpty { segments.append(.text(literal)) }
        return segments
    }

    private static func variableProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        for scalar in name.unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal || scalar == "_"
                || scalar == "-" || scalar == "."
            {
                continue
            }
            return "contains '\(scalar)'; use letters, digits, '_', '-' and '.'"
        }
        return nil
    }

    /// True when nothing but spaces or tabs stands between the last line break of `text` (or its
    /// start) and its end: a placeholder after it is first on its line.
    private static func onlySpacesSinceLineStart(_ text: Substring) -> Bool {
        for c in text.reversed() {
            if c == " " || c == "\t" { continue }
            return c == "\n" || c == "\r\n"
        }
        return true
    }

    private static func startsLine(_ text: Substring) -> Bool {
        for c in text {
            if c == " " || c == "\t" { continue }
            return c == "\n" || c == "\r\n"
        }
        return true
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks.
    package func trimmingWhitespace() -> String {
        var start = startIndex
        var end = endIndex
        while start < end, self[start].isWhitespace { start = index(after: start) }
        while end > start, self[index(before: end)].isWhitespace { end = index(before: end) }
        return String(self[start..<end])
    }
}
