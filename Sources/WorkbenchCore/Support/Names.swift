/// Names of templates, variants, eval sets and corpora: they come from file names and are typed
/// on the command line (`sentiment/question@3`), so they are letters (any script), digits, `-`,
/// `_` and `.`, start with a letter or digit, and are at most 64 characters.
package enum Names {
    package static let maxLength = 64

    /// Returns nil when `name` is acceptable, else the reason in a phrase.
    package static func problem(with name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.count > maxLength { return "is longer than \(maxLength) characters" }
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || isDigit(first) else {
            return "must start with a letter or digit"
        }
        for scalar in name.unicodeScalars {
            if scalar.properties.isAlphabetic || isDigit(scalar) || scalar == "-" || scalar == "_" || scalar == "." {
                continue
            }
            if scalar.properties.generalCategory == .nonspacingMark || scalar.properties.generalCategory == .spacingMark
            {
                continue
            }
            let shown =
                scalar.value < 0x20 || scalar == " "
                ? "U+\(String(scalar.value, radix: 16, uppercase: true))" : String(scalar)
            return "contains '\(shown)'; use letters, digits, '-', '_' and '.' only"
        }
        return nil
    }

    /// The one spelling a name is stored under: Unicode's composed form (NFC). がくせい typed
    /// here and がくせい from a macOS file name (decomposed: か and a combining mark) are one name.
    package static func canonical(_ name: String) -> String {
        name.precomposedStringWithCanonicalMapping
    }

    /// Throws an `InputError` naming `kind` (e.g. "template name") when `name` is not acceptable.
    package static func validate(_ name: String, kind: String, file: String? = nil) throws {
        if let problem = problem(with: name) {
            throw InputError(file: file, "the \(kind) \"\(name)\" \(problem)")
        }
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.numericType == .decimal
    }
}
