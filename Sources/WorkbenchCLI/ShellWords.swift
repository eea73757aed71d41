/// Splits a command line into words the way a shell would, without expanding anything:
/// whitespace separates words; 'single quotes' keep everything; "double quotes" keep everything
/// but backslash escapes (\n, \t, \", \\); outside quotes a backslash keeps the next character.
enum ShellWords {
    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in line {
            if escaped {
                escaped = false
                if quote == "\"" {
                    switch character {
                    case "n": word.append("\n")
                    case "t": word.append("\t")
                    case "\"", "\\": word.append(character)
                    default:
                        word.append("\\")
                        word.append(character)
                    }
                } else {
                    word.append(character)
                }
                continue
            }
            if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\" && open == "\"" {
                    escaped = true
                } else {
                    word.append(character)
                }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                inWord = true
            case "\\":
                escaped = true
                inWord = true
            case _ where character.isWhitespace:
                if inWord {
                    words.append(word)
                    word = ""
                    inWord = false
                }
            default:
                word.append(character)
                inWord = true
            }
        }
        if let quote {
            throw UsageError("the line has an unbalanced \(quote); close the quote")
        }
        if escaped { throw UsageError("the line ends with a lone \\; remove it or quote it") }
        if inWord { words.append(word) }
        return words
    }
}
