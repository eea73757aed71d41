/// What was asked cannot be done as asked: a name that does not exist, settings that do not go
/// together, a value out of range. The message names the settings and commands it mentions as
/// such, so each interface words them its own way (the command line: `--split`, `pwb runs list`).
package struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: Message

    package init(_ message: Message) {
        self.message = message
    }
}

extension Refusal: MessageError {
    package var exitCode: Int32 { ExitCode.usage }
}

/// Text that names settings and commands for the interface to word: written with string
/// interpolation, `"choose another \(setting: "split")"`.
package struct Message: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    package enum Part: Sendable, Hashable {
        case text(String)
        /// A setting of the request, by its name (`split`, `shots`).
        case setting(String)
        /// Something to run next, by its command words (`runs list`, `corpus add NAME PATH…`).
        case command(String)
    }

    package var parts: [Part]

    package init(stringLiteral value: String) {
        parts = value.isEmpty ? [] : [.text(value)]
    }

    package init(stringInterpolation: StringInterpolation) {
        parts = stringInterpolation.parts
    }

    package struct StringInterpolation: StringInterpolationProtocol {
        var parts: [Part] = []

        package init(literalCapacity: Int, interpolationCount: Int) {}

        package mutating func appendLiteral(_ literal: String) {
            append(literal)
        }

        package mutating func appendInterpolation(_ value: some Any) {
            append(String(describing: value))
        }

        /// Another message, its settings and commands kept as such.
        package mutating func appendInterpolation(_ message: Message) {
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

        package mutating func appendInterpolation(setting name: String) {
            parts.append(.setting(name))
        }

        package mutating func appendInterpolation(command words: String) {
            parts.append(.command(words))
        }
    }

    /// The text, each setting and command worded by the closures.
    package func worded(setting: (String) -> String, command: (String) -> String) -> String {
        parts.map { part in
            switch part {
            case .text(let text): text
            case .setting(let name): setting(name)
            case .command(let words): command(words)
            }
        }.joined()
    }

    /// Settings named plainly (`split`), commands as `pwb runs list`.
    package var description: String { worded(setting: { $0 }, command: { "pwb " + $0 }) }

    /// As the command line words it: settings as options (`--split`), commands as `pwb runs list`.
    package var commandLine: String { worded(setting: { "--" + $0 }, command: { "pwb " + $0 }) }
}
