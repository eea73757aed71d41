import Foundation

/// Comparing answers fairly: NFKC (so full-width ＡＢＣ１２３ is ABC123), case folded, punctuation
/// dropped, whitespace collapsed; and splitting text into tokens that work with and without
/// spaces between words.
package enum TextNormalizer {
    /// NFKC, lowercased, punctuation removed, runs of whitespace as one space, trimmed.
    package static func normalize(_ text: String) -> String {
        // ASCII needs no compatibility mapping, and most answers are ASCII: skip the costly part.
        let compatible =
            text.utf8.allSatisfy { $0 < 0x80 }
            ? text.lowercased() : text.precomposedStringWithCompatibilityMapping.lowercased()
        var out = ""
        out.reserveCapacity(compatible.utf8.count)
        var pendingSpace = false
        for scalar in compatible.unicodeScalars {
            if isWhitespace(scalar) {
                pendingSpace = !out.isEmpty
                continue
            }
            if isPunctuation(scalar) {
                continue
            }
            if pendingSpace {
                out.append(" ")
                pendingSpace = false
            }
            out.unicodeScalars.append(scalar)
        }
        return out
    }

    /// ASCII punctuation by table (Unicode's P* categories; `$+<=>^`|~` are symbols), the rest
    /// by the Unicode properties, which cost a lookup per character.
    private static let asciiPunctuation: [Bool] = {
        let marks = Set(##"!"#%&'()*,-./:;?@[\]_{}"##.unicodeScalars.map(\.value))
        return (0..<128).map { marks.contains($0) }
    }()

    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value) }
        return scalar.properties.isWhitespace
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return asciiPunctuation[Int(scalar.value)] }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// Characters written without spaces between words: CJK ideographs, kana, hangul.
    package static func isSpacelessScript(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3040...0x30FF, 0x31F0...0x31FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0xFF66...0xFF9F,
            0xAC00...0xD7A3, 0x20000...0x2FFFD:
            return true
        default:
            return false
        }
    }

    /// Tokens of normalized text: words where words are spaced, single characters where the
    /// script has no spaces (so 配送が遅い and "late delivery" both score by meaningful units).
    package static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var word = ""
        for scalar in normalize(text).unicodeScalars {
            if scalar == " " {
                if !word.isEmpty {
                    tokens.append(word)
                    word = ""
                }
            } else if isSpacelessScript(scalar) {
                if !word.isEmpty {
                    tokens.append(word)
                    word = ""
                }
                tokens.append(String(scalar))
            } else {
                word.unicodeScalars.append(scalar)
            }
        }
        if !word.isEmpty { tokens.append(word) }
        return tokens
    }
}
