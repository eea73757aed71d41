import Foundation

/// Text as the search index sees it, and queries over it.
///
/// SQLite FTS5's `unicode61` tokenizer splits on spaces and punctuation, so text written without
/// spaces (Japanese, Chinese) would become one long token per sentence. Such runs are written as
/// overlapping two-character tokens instead (配送料 → 配送 送料), the usual way to index CJK text:
/// most words there are two characters long, which FTS5's trigram tokenizer cannot match at all.
/// Everything else is lowercased words; BM25 then ranks by shared tokens, rarer ones counting more.
package enum SearchText {
    /// `text` rewritten for the index: normalized, spaceless runs as overlapping bigrams.
    package static func indexable(_ text: String) -> String {
        tokens(text).joined(separator: " ")
    }

    /// The tokens of `text`, in order (with repeats), as the index stores them.
    package static func tokens(_ text: String) -> [String] {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return asciiTokens(text) }
        var tokens: [String] = []
        var word = ""
        var run: [Character] = []
        func flushRun() {
            if run.count == 1 {
                tokens.append(String(run))
            } else if run.count > 1 {
                for start in 0..<(run.count - 1) { tokens.append(String(run[start...(start + 1)])) }
            }
            run = []
        }
        func flushWord() {
            if !word.isEmpty { tokens.append(word) }
            word = ""
        }
        // Compatibility-mapped and lowercased like TextNormalizer, but punctuation separates tokens
        // here instead of vanishing, so 送料、返品 does not make the bigram 料返.
        let folded =
            text.utf8.allSatisfy { $0 < 0x80 }
            ? text.lowercased() : text.precomposedStringWithCompatibilityMapping.lowercased()
        for character in folded {
            guard let scalar = character.unicodeScalars.first else { continue }
            if TextNormalizer.isSpacelessScript(scalar) {
                flushWord()
                run.append(character)
            } else if character.isLetter || character.isNumber {
                flushRun()
                word.append(character)
            } else {
                flushRun()
                flushWord()
            }
        }
        flushRun()
        flushWord()
        return tokens
    }
}

extension SearchText {
    /// The same tokens for ASCII text, over bytes: most eval sets are ASCII, and indexing a
    /// hundred thousand cases should not wait on Character iteration.
    static func asciiTokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var word: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): word.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): word.append(byte + 32)
            default:
                if !word.isEmpty {
                    tokens.append(String(decoding: word, as: UTF8.self))
                    word.removeAll(keepingCapacity: true)
                }
            }
        }
        if !word.isEmpty { tokens.append(String(decoding: word, as: UTF8.self)) }
        return tokens
    }
}

/// Turns free text (a question, a case's input) into an FTS5 query over `SearchText`: every
/// distinct token but stopwords, as alternatives (OR).
package enum SearchQuery {
    /// Words too common to say anything about relevance.
    static let stopwords: Set<String> = [
        "a", "an", "the", "and", "or", "for", "are", "was", "were", "what", "which", "who", "whom", "whose", "when",
        "where", "why", "how", "does", "did", "do", "has", "have", "had", "with", "from", "that", "this", "these",
        "those", "into", "onto", "there", "their", "they", "them", "then", "than", "can", "could", "would", "should",
        "will", "shall", "may", "might", "must", "not", "but", "its", "his", "her", "our", "your", "you", "about",
        "each", "any", "all", "per", "many", "much", "more", "most", "some", "such", "also", "only", "other", "is",
        "be", "of", "to", "in", "on", "at", "by", "it", "as", "if", "i", "we", "my", "me",
    ]

    /// The distinct search terms of `text`, in order of appearance.
    package static func terms(_ text: String) -> [String] {
        var seen = Set<String>()
        return SearchText.tokens(text).filter { token in
            // A lone letter ("s" of "it's") says nothing; a lone ideograph (米) may.
            let spaceless = token.unicodeScalars.first.map(TextNormalizer.isSpacelessScript) ?? false
            return (token.count > 1 || spaceless) && !stopwords.contains(token) && seen.insert(token).inserted
        }
    }

    /// The FTS5 `MATCH` expression for `text`, or nil when it has no usable term.
    package static func match(_ text: String, maxTerms: Int = 64) -> String? {
        let chosen = terms(text).prefix(maxTerms)
        guard !chosen.isEmpty else { return nil }
        return chosen.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " OR ")
    }
}
