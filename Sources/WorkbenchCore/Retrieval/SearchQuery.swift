/// Turns free text (a question, a case's input) into an SQLite FTS5 query for the trigram
/// tokenizer: every word of three or more characters, and every three-character window of text
/// written without spaces, as alternatives (OR). BM25 then ranks passages by how many of these
/// they contain, rarer ones counting more.
public enum SearchQuery {
    /// Words too common to say anything about relevance.
    static let stopwords: Set<String> = [
        "the", "and", "for", "are", "was", "were", "what", "which", "who", "whom", "whose", "when", "where", "why",
        "how", "does", "did", "has", "have", "had", "with", "from", "that", "this", "these", "those", "into", "onto",
        "there", "their", "they", "them", "then", "than", "can", "could", "would", "should", "will", "shall", "may",
        "might", "must", "not", "but", "its", "his", "her", "our", "your", "you", "about", "each", "any", "all",
        "per", "many", "much", "more", "most", "some", "such", "also", "only", "other", "is", "be", "do", "of",
    ]

    /// The terms of `text`, without duplicates, in order of appearance.
    public static func terms(_ text: String) -> [String] {
        var terms: [String] = []
        var seen = Set<String>()
        func add(_ term: String) {
            if term.count >= 3, !stopwords.contains(term), seen.insert(term).inserted { terms.append(term) }
        }
        var word = ""
        var spaceless: [Character] = []
        func flushSpaceless() {
            if spaceless.count >= 3 {
                for start in 0...(spaceless.count - 3) { add(String(spaceless[start..<(start + 3)])) }
            } else if !spaceless.isEmpty {
                add(String(spaceless))
            }
            spaceless = []
        }
        for character in TextNormalizer.normalize(text) {
            guard let scalar = character.unicodeScalars.first else { continue }
            if TextNormalizer.isSpacelessScript(scalar) {
                if !word.isEmpty {
                    add(word)
                    word = ""
                }
                spaceless.append(character)
            } else if character.isLetter || character.isNumber {
                flushSpaceless()
                word.append(character)
            } else {
                flushSpaceless()
                if !word.isEmpty {
                    add(word)
                    word = ""
                }
            }
        }
        flushSpaceless()
        if !word.isEmpty { add(word) }
        return terms
    }

    /// The FTS5 `MATCH` expression for `text`, or nil when it has no usable term.
    public static func match(_ text: String, maxTerms: Int = 64) -> String? {
        let chosen = terms(text).prefix(maxTerms)
        guard !chosen.isEmpty else { return nil }
        return chosen.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " OR ")
    }
}
