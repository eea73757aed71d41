/// Advice keeps some of its texts (why a step was skipped, what limited the examples) with the
/// settings and commands they name, so each interface words them; stored, each is the one string
/// it always was: the command line's wording (`--max-shots 8`, `pwb corpus add`).
extension Message: Codable {
    package init(from decoder: any Decoder) throws {
        // What was stored is read as text: the command line's wording, as it was written.
        self.init(stringLiteral: try decoder.singleValueContainer().decode(String.self))
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(commandLine)
    }
}

extension Message {
    /// Plain text, naming no setting or command.
    package init(_ text: String) {
        self = "\(text)"
    }

    package static func + (lhs: Message, rhs: Message) -> Message {
        "\(lhs)\(rhs)"
    }
}

extension Array where Element == Message {
    /// The messages one after another, `separator` between them.
    package func joined(separator: String) -> Message {
        guard var joined = first else { return Message("") }
        for message in dropFirst() { joined = "\(joined)\(separator)\(message)" }
        return joined
    }
}
