/// A passage of a document: what retrieval finds and puts into `{{context}}`.
package struct Passage: Sendable, Hashable {
    package var title: String
    package var body: String

    package init(title: String, body: String) {
        self.title = title
        self.body = body
    }
}

/// Cuts documents into passages small enough that several fit in a prompt: at headings, then
/// between paragraphs, then (for one long paragraph) between sentences, including Japanese `。`.
package enum Chunker {
    package static let defaultMaxCharacters = 700

    /// Splits a text or markdown document. The first `# ` heading (else `fallbackTitle`) titles
    /// every passage; a `##` heading is prefixed to the passages of its section.
    package static func passages(
        of text: String, fallbackTitle: String, maxCharacters: Int = defaultMaxCharacters
    ) -> [Passage] {
        var title = fallbackTitle
        var section: String?
        var sections: [(heading: String?, paragraphs: [String])] = [(nil, [])]
        var paragraph: [String] = []
        func flushParagraph() {
            let joined = paragraph.joined(separator: "\n").trimmingWhitespace()
            if !joined.isEmpty { sections[sections.count - 1].paragraphs.append(joined) }
            paragraph = []
        }
        var sawTitle = false
        for line in text.lines() {
            let trimmed = line.trimmingWhitespace()
            if trimmed.hasPrefix("# ") && !sawTitle {
                flushParagraph()
                title = String(trimmed.dropFirst(2)).trimmingWhitespace()
                sawTitle = true
                continue
            }
            if trimmed.hasPrefix("#") {
                flushParagraph()
                section = String(trimmed.drop(while: { $0 == "#" })).trimmingWhitespace()
                sections.append((section, []))
                continue
            }
            if trimmed.isEmpty {
                flushParagraph()
            } else {
                paragraph.append(String(line))
            }
        }
        flushParagraph()
        var passages: [Passage] = []
        for (heading, paragraphs) in sections where !paragraphs.isEmpty {
            let prefix = heading.map { $0 + "\n" } ?? ""
            var current = ""
            for piece in paragraphs.flatMap({ split($0, maxCharacters: maxCharacters) }) {
                if !current.isEmpty && current.count + piece.count + 2 > maxCharacters {
                    passages.append(Passage(title: title, body: prefix + current))
                    current = ""
                }
                current += current.isEmpty ? piece : "\n\n" + piece
            }
            if !current.isEmpty { passages.append(Passage(title: title, body: prefix + current)) }
        }
        return passages
    }

    /// One paragraph in pieces of at most `maxCharacters`, cut after sentence ends where possible.
    static func split(_ paragraph: String, maxCharacters: Int) -> [String] {
        guard paragraph.count > maxCharacters else { return [paragraph] }
        var sentences: [String] = []
        var current = ""
        for character in paragraph {
            current.append(character)
            if "。！？.!?".contains(character) {
                sentences.append(current)
                current = ""
            }
        }
        if !current.isEmpty { sentences.append(current) }
        var pieces: [String] = []
        var piece = ""
        for sentence in sentences {
            if !piece.isEmpty && piece.count + sentence.count > maxCharacters {
                pieces.append(piece.trimmingWhitespace())
                piece = ""
            }
            piece += sentence
            while piece.count > maxCharacters {
                let cut = piece.index(piece.startIndex, offsetBy: maxCharacters)
                pieces.append(String(piece[..<cut]).trimmingWhitespace())
                piece = String(piece[cut...])
            }
        }
        if !piece.trimmingWhitespace().isEmpty { pieces.append(piece.trimmingWhitespace()) }
        return pieces
    }
}
