import Foundation
import WorkbenchCore

/// An option a command accepts: a flag (`--json`) or one that takes a value (`--split dev`).
public struct Option: Sendable {
    public var name: String
    /// The value's placeholder in help (`SPLIT`); nil for a flag.
    public var value: String?
    public var help: String
    public var repeatable: Bool

    public init(_ name: String, value: String? = nil, repeatable: Bool = false, _ help: String) {
        self.name = name
        self.value = value
        self.help = help
        self.repeatable = repeatable
    }

    static let json = Option("json", "print JSON instead of a table")
    static let model = Option(
        "model", value: "NAME", "a model from .pwb/config.json (default: its default, else the managed local one)")
}

/// One command of the CLI and the REPL: the same words, options and output in both.
public struct Command: Sendable {
    /// The words that name it: `["template", "list"]`.
    public var path: [String]
    public var summary: String
    /// The positional arguments as help shows them, e.g. `TEMPLATE/VARIANT[@N]`.
    public var arguments: String
    public var minArguments: Int
    public var maxArguments: Int
    public var options: [Option]
    /// More help: examples, notes.
    public var details: String
    public var run: @MainActor @Sendable (Invocation) async throws -> Void

    public init(
        _ path: String, _ summary: String, arguments: String = "", min: Int = 0, max: Int = 0,
        options: [Option] = [], details: String = "",
        run: @escaping @MainActor @Sendable (Invocation) async throws -> Void
    ) {
        self.path = path.split(separator: " ").map(String.init)
        self.summary = summary
        self.arguments = arguments
        self.minArguments = min
        self.maxArguments = max
        self.options = options
        self.details = details
        self.run = run
    }

    public var name: String { path.joined(separator: " ") }

    public var usage: String {
        var text = "pwb " + name
        if !arguments.isEmpty { text += " " + arguments }
        if !options.isEmpty { text += " [options]" }
        return text
    }

    /// The full help text: usage, summary, options, details.
    public var help: [String] {
        var lines = ["usage: \(usage)", "", summary]
        if !options.isEmpty {
            lines += ["", "options:"]
            let shown = options.map { option in
                ("--" + option.name + (option.value.map { " " + $0 } ?? ""), option.help)
            }
            let width = shown.map { DisplayWidth.of($0.0) }.max() ?? 0
            for (left, help) in shown { lines.append("  " + DisplayWidth.pad(left, to: width) + "  " + help) }
        }
        if !details.isEmpty { lines += ["", details] }
        return lines
    }

    /// Splits `words` (after the command's own) into positionals and options, checking both.
    public func parse(_ words: [String]) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        var onlyPositionals = false
        while index < words.count {
            let word = words[index]
            index += 1
            if onlyPositionals || !word.hasPrefix("--") || word == "--" {
                if word == "--" && !onlyPositionals {
                    onlyPositionals = true
                    continue
                }
                parsed.positionals.append(word)
                continue
            }
            var name = String(word.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = options.first(where: { $0.name == name }) else {
                let hint = Suggest.nearest(to: name, in: options.map(\.name)).map { "did you mean --\($0)? " } ?? ""
                throw UsageError("\(self.name): unknown option --\(name); \(hint)see pwb \(self.name) --help")
            }
            if option.value == nil {
                guard inlineValue == nil else { throw UsageError("\(self.name): --\(name) takes no value") }
                parsed.flags.insert(name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < words.count else {
                    throw UsageError("\(self.name): --\(name) needs a value (\(option.value!)); usage: \(usage)")
                }
                value = words[index]
                index += 1
            }
            if !option.repeatable && parsed.values[name] != nil {
                throw UsageError("\(self.name): --\(name) is given twice")
            }
            parsed.values[name, default: []].append(value)
        }
        if parsed.positionals.count < minArguments {
            throw UsageError("\(self.name) needs \(arguments.isEmpty ? "arguments" : arguments); usage: \(usage)")
        }
        if parsed.positionals.count > maxArguments {
            let extra = parsed.positionals[maxArguments...].joined(separator: " ")
            throw UsageError("\(self.name): unexpected argument \"\(extra)\"; usage: \(usage)")
        }
        return parsed
    }
}

/// A command's arguments after parsing.
public struct ParsedArguments: Sendable {
    public var positionals: [String] = []
    public var flags: Set<String> = []
    public var values: [String: [String]] = [:]

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    public func value(_ name: String) -> String? { values[name]?.last }

    public func all(_ name: String) -> [String] { values[name] ?? [] }

    /// The positional arguments as run ids.
    public func runIDs() throws -> [Int] {
        try positionals.map { text in
            guard let id = Int(text) else { throw UsageError("\"\(text)\" is not a run id; pwb runs list shows them") }
            return id
        }
    }

    public func int(_ name: String, min: Int? = nil) throws -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text) else { throw UsageError("--\(name) must be a whole number, not \"\(text)\"") }
        if let min, number < min { throw UsageError("--\(name) must be at least \(min), not \(number)") }
        return number
    }

    public func double(_ name: String) throws -> Double? {
        guard let text = value(name) else { return nil }
        guard let number = Double(text), number.isFinite else {
            throw UsageError("--\(name) must be a number, not \"\(text)\"")
        }
        return number
    }

    public func positional(_ index: Int) -> String? { index < positionals.count ? positionals[index] : nil }
}

/// What a running command is given: its arguments and the session it runs in.
public struct Invocation: Sendable {
    public var command: Command
    public var arguments: ParsedArguments
    public var session: Session

    public var output: Output { session.output }
}
