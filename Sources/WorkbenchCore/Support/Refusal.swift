/// What was asked cannot be done as asked: a name that does not exist, settings that do not go
/// together, a value out of range. The message names the settings and commands it mentions as
/// such, so each interface words them its own way (the command line: `--split`, `pwb runs list`).
public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: Message

    public init(_ message: Message) {
        self.message = message
    }

    /// The message with settings named plainly (`split`) and commands as `pwb runs list`.
    public var description: String { message.description }
}

extension Refusal: ExitCoded {
    public var exitCode: Int32 { ExitCode.usage }

    public func sentence(wording: (Message) -> String) -> String { wording(message) }
}

/// Text that names settings and commands for the interface to word: written with string
/// interpolation, `"choose another \(setting: "split")"`.
public struct Message: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public enum Part: Sendable, Hashable {
        case text(String)
        /// A setting of the request, by its name (`split`, `shots`).
        case setting(String)
        /// Something to run next, by its command words (`runs list`, `corpus add NAME PATH…`).
        case command(String)
    }

    public var parts: [Part]

    public init(stringLiteral value: String) {
        parts = value.isEmpty ? [] : [.text(value)]
    }

    public init(stringInterpolation: StringInterpolation) {
        parts = stringInterpolation.parts
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var parts: [Part] = []

        public init(literalCapacity: Int, interpolationCount: Int) {}

        public mutating func appendLiteral(_ literal: String) {
            append(literal)
        }

        public mutating func appendInterpolation(_ value: some Any) {
            append(String(describing: value))
        }

        /// Another message, its settings and commands kept as such.
        public mutating func appendInterpolation(_ message: Message) {
            for part in message.parts {
                if case .text(let text) = part { append(text) } else { parts.append(part) }
            }
        }

        /// Text joins the text before it, so a message equals the same words written another way.
        mutating func append(_ text: String) {
            guard !text.isEmpty else { return }
            if case .text(let before)? = parts.last {
                parts[parts.count - 1] = .text(before + text)
            } else {
                parts.append(.text(text))
            }
        }

        public mutating func appendInterpolation(setting name: String) {
            parts.append(.setting(name))
        }

        public mutating func appendInterpolation(command words: String) {
            parts.append(.command(words))
        }
    }

    /// The text, each setting and command worded by the closures.
    public func worded(setting: (String) -> String, command: (String) -> String) -> String {
        parts.map { part in
            switch part {
            case .text(let text): text
            case .setting(let name): setting(name)
            case .command(let words): command(words)
            }
        }.joined()
    }

    /// Settings named plainly (`split`), commands as `pwb runs list`.
    public var description: String { worded(setting: { $0 }, command: { "pwb " + $0 }) }
}
