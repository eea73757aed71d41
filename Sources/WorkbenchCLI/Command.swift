import Foundation
import ModelRuntime
import WorkbenchCore

/// What a value completes to at the REPL prompt: fixed words, or names the workspace holds.
enum Suggestions: Sendable, Equatable {
    case none
    case words([String])
    case templates
    /// `template` and `template/variant` for every stored variant.
    case references
    /// The variants of the current template.
    case variants
    /// The same, and `all`.
    case variantsOrAll
    case evalsets
    case corpora
    case runs
    case adapters
    /// `@1`…`@N`: the revisions of the current variant.
    case revisions
    /// `case` and `NAME=` for each variable the current variant's body uses.
    case caseVariables
}

/// An option a command accepts: a flag (`--json`) or one that takes a value (`--split dev`).
/// A value is parsed and checked when the line is read, by the option itself, so a command's
/// `run` reads typed values (`invocation.split` is a `Split?`).
struct Option: Sendable {
    var name: String
    /// The value's placeholder in help (`SPLIT`); nil for a flag.
    var placeholder: String?
    var help: String
    var repeatable: Bool
    var completion: Suggestions
    /// The numbers it takes, as help states them (`1 to 1000`); nil for an option of words.
    var range: String?
    /// Turns the text after the option into its value; throws a sentence that follows `--name`.
    let read: @Sendable (String) throws -> any Sendable

    init(
        _ name: String, placeholder: String?, repeatable: Bool = false, completion: Suggestions = .none,
        range: String? = nil, _ help: String, read: @escaping @Sendable (String) throws -> any Sendable
    ) {
        self.name = name
        self.placeholder = placeholder
        self.help = help
        self.repeatable = repeatable
        self.completion = completion
        self.range = range
        self.read = read
    }

    var isFlag: Bool { placeholder == nil }
}

/// Why an option's value was refused, worded to follow `--name`: `must be a whole number, not "x"`.
struct OptionValueError: Error {
    var problem: String
}

/// A typed handle on an option: a stored property of a command's `CommandOptions`, read back
/// as `Value` through that command's `Invocation`.
struct OptionKey<Value: Sendable>: Sendable, OptionDeclaration {
    let option: Option

    /// An option that takes a value, which `read` makes from its text or refuses with an
    /// `OptionValueError`.
    static func valued(
        _ name: String, _ placeholder: String, repeatable: Bool = false, completion: Suggestions = .none,
        range: String? = nil, _ help: String, read: @escaping @Sendable (String) throws -> Value
    ) -> Self {
        OptionKey(
            option: Option(
                name, placeholder: placeholder, repeatable: repeatable, completion: completion, range: range, help
            ) {
                try read($0)
            })
    }
}

extension OptionKey where Value == Bool {
    /// A flag: present or not.
    static func flag(_ name: String, _ help: String) -> Self {
        OptionKey(option: Option(name, placeholder: nil, help) { _ in true })
    }
}

extension OptionKey where Value == String {
    /// Free text: a name, a path, a reference.
    static func text(
        _ name: String, _ placeholder: String, repeatable: Bool = false, completion: Suggestions = .none,
        _ help: String
    ) -> Self {
        valued(name, placeholder, repeatable: repeatable, completion: completion, help) { $0 }
    }
}

extension OptionKey where Value == [String] {
    /// Names separated by commas (`a,b`); a repeatable one may also be given again.
    static func list(
        _ name: String, _ placeholder: String, repeatable: Bool = false, completion: Suggestions = .none,
        _ help: String
    ) -> Self {
        valued(name, placeholder, repeatable: repeatable, completion: completion, help) { text in
            let names = text.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
            guard !names.isEmpty else { throw OptionValueError(problem: "needs at least one name, not \"\(text)\"") }
            return names
        }
    }
}

extension OptionKey where Value == [Int] {
    /// Whole numbers within `range`, separated by commas (`20,40,80`).
    static func counts(
        _ name: String, _ placeholder: String, in range: ClosedRange<Int>, of what: String, _ help: String
    ) -> Self {
        valued(name, placeholder, range: NumberRange.stated(range), help) { text in
            let counts = text.split(separator: ",", omittingEmptySubsequences: false).map {
                Int($0.trimmingWhitespace())
            }
            guard !counts.isEmpty, counts.allSatisfy({ $0.map(range.contains) ?? false }) else {
                throw OptionValueError(
                    problem:
                        "takes counts of \(what) such as 20,40,80, each \(NumberRange.stated(range)), not \"\(text)\"")
            }
            return counts.map { $0! }
        }
    }
}

/// How a number option's range reads in help and in its refusals.
enum NumberRange {
    /// `1 to 1000`, or `1 or more` when only the type bounds it.
    static func stated(_ range: ClosedRange<Int>) -> String {
        range.upperBound == Int.max ? "\(range.lowerBound) or more" : "\(range.lowerBound) to \(range.upperBound)"
    }

    static func stated(_ range: ClosedRange<Double>) -> String {
        "\(shown(range.lowerBound)) to \(shown(range.upperBound))"
    }

    /// The refusal of `number`, outside `range`.
    static func outside(_ range: ClosedRange<Int>, _ number: String) -> OptionValueError {
        OptionValueError(
            problem: range.upperBound == Int.max
                ? "must be at least \(range.lowerBound), not \(number)"
                : "must be between \(range.lowerBound) and \(range.upperBound), not \(number)")
    }

    static func shown(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }
}

/// `NAME=VALUE`.
struct Assignment: Sendable, Hashable {
    var name: String
    var value: String

    /// `NAME=VALUE` with a name; nil otherwise.
    init?(_ text: String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { return nil }
        name = String(text[..<equals])
        value = String(text[text.index(after: equals)...])
    }
}

extension OptionKey where Value == Assignment {
    /// `NAME=VALUE`, the name not empty.
    static func assignment(_ name: String, repeatable: Bool = false, _ help: String) -> Self {
        valued(name, "NAME=VALUE", repeatable: repeatable, help) { text in
            guard let assignment = Assignment(text) else {
                throw OptionValueError(problem: "needs NAME=VALUE, not \"\(text)\"")
            }
            return assignment
        }
    }
}

extension OptionKey where Value == Int {
    /// A whole number within `range`, which help states: every count pwb takes has a bound, so no
    /// value typed can overflow or size an allocation past memory.
    static func number(
        _ name: String, _ placeholder: String, in range: ClosedRange<Int>, completion: Suggestions = .none,
        _ help: String
    ) -> Self {
        valued(name, placeholder, completion: completion, range: NumberRange.stated(range), help) { text in
            guard let number = Int(text) else {
                // Digits past what a whole number holds are out of range, not something else.
                let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
                if !digits.isEmpty && digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
                    throw NumberRange.outside(range, text)
                }
                throw OptionValueError(problem: "must be a whole number, not \"\(text)\"")
            }
            guard range.contains(number) else { throw NumberRange.outside(range, String(number)) }
            return number
        }
    }
}

extension OptionKey where Value == Double {
    /// A finite number within `range`, which help states.
    static func decimal(
        _ name: String, _ placeholder: String, in range: ClosedRange<Double>, _ help: String
    ) -> Self {
        valued(name, placeholder, range: NumberRange.stated(range), help) { text in
            guard let number = Double(text), number.isFinite else {
                throw OptionValueError(problem: "must be a number, not \"\(text)\"")
            }
            guard range.contains(number) else {
                throw OptionValueError(
                    problem:
                        "must be between \(NumberRange.shown(range.lowerBound)) and \(NumberRange.shown(range.upperBound)), not \(NumberRange.shown(number))"
                )
            }
            return number
        }
    }
}

extension OptionKey where Value: CaseIterable & RawRepresentable & Sendable, Value.RawValue == String {
    /// One of the type's cases by its raw value; completes to them.
    static func choice(_ name: String, placeholder: String? = nil, _ help: String) -> Self {
        let names = Value.allCases.map(\.rawValue)
        return valued(name, placeholder ?? names.joined(separator: "|"), completion: .words(names), help) { text in
            guard let value = Value(rawValue: text) else {
                throw OptionValueError(problem: "is \"\(text)\"; use \(Self.alternatives(names))")
            }
            return value
        }
    }

    /// `a, b or c`.
    static func alternatives(_ names: [String]) -> String {
        names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}

/// A command's options, declared once as the stored properties (`OptionKey`s) of a struct: the
/// command's parser knows exactly these, help lists them in the order they are declared, and the
/// command's `run` reads them by key path (`invocation.split`), so reading an option the command
/// did not declare does not compile.
protocol CommandOptions: Sendable {
    init()
}

/// What a `CommandOptions` property is: an option, whatever its value's type.
protocol OptionDeclaration {
    var option: Option { get }
}

extension CommandOptions {
    /// The declared options, in declaration order.
    static var declared: [Option] {
        let properties = Mirror(reflecting: Self()).children
        let options = properties.compactMap { ($0.value as? any OptionDeclaration)?.option }
        // Only options belong here: anything else would be a value no parser fills.
        precondition(options.count == properties.count, "\(Self.self) declares a property that is not an option")
        return options
    }
}

/// The options of a command that takes none.
struct NoOptions: CommandOptions {
    init() {}
}

/// The options of a command whose only option is `--json`.
struct JSONOptions: CommandOptions {
    let json = Options.json
}

/// Options several commands declare alike; each command lists those it takes in its own
/// `CommandOptions` (`let json = Options.json`).
enum Options {
    static let json = OptionKey<Bool>.flag("json", "print JSON instead of a table")
    static let model = OptionKey<String>.text(
        "model", "NAME", "a model from .pwb/config.json (default: its default, else the managed local one)")
    static let evalset = OptionKey<String>.text(
        "evalset", "NAME", completion: .evalsets, "the eval set (default: the one the template names)")
    static let seed = OptionKey<Int>.number("seed", "S", in: seedRange, "seed for drawing examples (default 0)")

    /// Seeds as llama.cpp and the trainer take them (unsigned 32 bits).
    static let seedRange = 0...4_294_967_295
    /// Counts of cases: far above what the largest eval set (32 MiB) holds.
    static let caseCountRange = 1...10_000_000
    /// Requests at once: as many as a server may have slots.
    static let concurrencyRange = ServerProperties.slotRange
    /// Run ids, looked up rather than counted.
    static let runIDRange = 1...Int.max
    static let out = OptionKey<String>.text("out", "FILE", "write to FILE instead of standard output")
}

/// Where a command can be typed.
enum Scope: Sendable {
    /// On the command line (`pwb NAME …`) and in the REPL (`NAME …`).
    case everywhere
    /// Only in the REPL: it works on the current template and variant.
    case repl
    /// Only on the command line.
    case commandLine
}

/// One command: its words, positional arguments, typed options and what it runs. The command
/// line, the REPL, help and completion are all driven by the list in `Commands.all`, so a new
/// command is one `Command` value added there.
struct Command: Sendable {
    /// The words that name it: `["template", "list"]`.
    var path: [String]
    var summary: String
    /// What it does in the REPL, when that differs (it works on the current variant).
    var replSummary: String?
    /// The positional arguments as help shows them, e.g. `TEMPLATE/VARIANT[@N]`.
    var arguments: String
    /// The same in the REPL, when it differs (`eval [all] [TEMPLATE]`: the current template by default).
    var replArguments: String?
    var minArguments: Int
    var maxArguments: Int
    /// What the positional arguments complete to.
    var argumentCompletion: Suggestions
    /// The options its `CommandOptions` declares, in their order.
    let options: [Option]
    var scope: Scope
    /// More help: examples, notes.
    var details: String
    private let perform: @MainActor @Sendable (Command, ParsedArguments, Session, Bool) async throws -> Void

    /// A command whose options are the properties of `Declared`, which `run` reads by key path.
    init<Declared: CommandOptions>(
        _ path: String, _ summary: String, replSummary: String? = nil, arguments: String = "",
        replArguments: String? = nil, min: Int = 0,
        max: Int = 0, completing argumentCompletion: Suggestions = .references,
        options: Declared.Type,
        scope: Scope = .everywhere, details: String = "",
        run: @escaping @MainActor @Sendable (Invocation<Declared>) async throws -> Void
    ) {
        self.path = path.split(separator: " ").map(String.init)
        self.summary = summary
        self.replSummary = replSummary
        self.arguments = arguments
        self.replArguments = replArguments
        self.minArguments = min
        self.maxArguments = max
        self.argumentCompletion = argumentCompletion
        self.options = Declared.declared
        self.scope = scope
        self.details = details
        self.perform = { command, arguments, session, inREPL in
            try await run(
                Invocation(
                    command: command, arguments: arguments, session: session, inREPL: inREPL,
                    options: OptionValues(arguments, declared: Declared())))
        }
    }

    /// A command that takes no options.
    init(
        _ path: String, _ summary: String, replSummary: String? = nil, arguments: String = "",
        replArguments: String? = nil, min: Int = 0,
        max: Int = 0, completing argumentCompletion: Suggestions = .references,
        scope: Scope = .everywhere, details: String = "",
        run: @escaping @MainActor @Sendable (Invocation<NoOptions>) async throws -> Void
    ) {
        self.init(
            path, summary, replSummary: replSummary, arguments: arguments, replArguments: replArguments, min: min,
            max: max, completing: argumentCompletion, options: NoOptions.self, scope: scope, details: details, run: run)
    }

    /// Runs the command with `arguments` (from its `parse`) in `session`.
    @MainActor
    func run(_ arguments: ParsedArguments, session: Session, inREPL: Bool) async throws {
        try await perform(self, arguments, session, inREPL)
    }

    var name: String { path.joined(separator: " ") }

    /// The arguments as the usage shows them where the command is typed.
    func shownArguments(inREPL: Bool) -> String { inREPL ? (replArguments ?? arguments) : arguments }

    /// `pwb eval TEMPLATE [options]` on the command line, `eval [all] [TEMPLATE] [options]` in the REPL.
    func usage(inREPL: Bool = false) -> String {
        var text = (inREPL ? "" : "pwb ") + name
        let shown = shownArguments(inREPL: inREPL)
        if !shown.isEmpty { text += " " + shown }
        if !options.isEmpty { text += " [options]" }
        return text
    }

    /// The full help text: usage, summary, options, details.
    func help(inREPL: Bool = false) -> [String] {
        var lines = ["usage: \(usage(inREPL: inREPL))", "", inREPL ? replSummary ?? summary : summary]
        if !options.isEmpty {
            lines += ["", "options:"]
            let shown = options.map { option in
                (
                    "--" + option.name + (option.placeholder.map { " " + $0 } ?? ""),
                    option.help + (option.range.map { "; " + $0 } ?? "")
                )
            }
            let width = shown.map { DisplayWidth.of($0.0) }.max() ?? 0
            for (left, help) in shown { lines.append("  " + DisplayWidth.pad(left, to: width) + "  " + help) }
        }
        if !details.isEmpty { lines += ["", details] }
        return lines
    }

    /// Splits `words` (after the command's own) into positionals and typed option values,
    /// checking both.
    func parse(_ words: [String], inREPL: Bool = false) throws -> ParsedArguments {
        var parsed = ParsedArguments(declared: options.map(\.name))
        var index = 0
        var onlyPositionals = false
        let usage = self.usage(inREPL: inREPL)
        let helpCommand = inREPL ? "help \(name)" : "pwb \(name) --help"
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
                throw UsageError("\(self.name): unknown option --\(name); \(hint)see \(helpCommand)")
            }
            if !option.repeatable && !option.isFlag && parsed.values[name] != nil {
                throw UsageError("\(self.name): --\(name) is given twice")
            }
            let text: String
            if option.isFlag {
                guard inlineValue == nil else { throw UsageError("\(self.name): --\(name) takes no value") }
                text = ""
            } else if let inlineValue {
                text = inlineValue
            } else {
                guard index < words.count else {
                    throw UsageError("\(self.name): --\(name) needs a value (\(option.placeholder!)); usage: \(usage)")
                }
                text = words[index]
                index += 1
            }
            do {
                parsed.values[name, default: []].append(try option.read(text))
            } catch let error as OptionValueError {
                throw UsageError("--\(name) \(error.problem)")
            }
        }
        if parsed.positionals.count < minArguments {
            let shown = shownArguments(inREPL: inREPL)
            throw UsageError("\(self.name) needs \(shown.isEmpty ? "arguments" : shown); usage: \(usage)")
        }
        if parsed.positionals.count > maxArguments {
            let extra = parsed.positionals[maxArguments...].joined(separator: " ")
            throw UsageError("\(self.name): unexpected argument \"\(extra)\"; usage: \(usage)")
        }
        return parsed
    }
}

/// A command's arguments after parsing: positionals as typed, option values as their options
/// read them. The values are read through `OptionValues`, by the command's own declarations.
struct ParsedArguments: Sendable {
    var positionals: [String] = []
    fileprivate var values: [String: [any Sendable]] = [:]
    /// The names of the options the command declares, which alone can be read back.
    fileprivate let declared: [String]

    init(declared: [String]) {
        self.declared = declared
    }

    /// The option values, read by the key paths of `Declared`: the command's own options.
    func values<Declared: CommandOptions>(as _: Declared.Type) -> OptionValues<Declared> {
        OptionValues(self, declared: Declared())
    }

    /// The positional arguments as run ids.
    func runIDs() throws -> [Int] {
        try positionals.map { text in
            guard let id = Int(text) else { throw UsageError("\"\(text)\" is not a run id; pwb runs list shows them") }
            return id
        }
    }

    func positional(_ index: Int) -> String? { index < positionals.count ? positionals[index] : nil }
}

/// The values of a command's options, read by key paths into its `CommandOptions`
/// (`values.split` is a `Split?`, `values.json` a `Bool`).
@dynamicMemberLookup
struct OptionValues<Declared: CommandOptions>: Sendable {
    private let values: [String: [any Sendable]]
    private let declared: Declared

    fileprivate init(_ parsed: ParsedArguments, declared: Declared) {
        precondition(
            Declared.declared.map(\.name) == parsed.declared,
            "\(Declared.self) are not the options these arguments were parsed with")
        values = parsed.values
        self.declared = declared
    }

    /// The option's value (the last, for a repeatable one).
    subscript<Value>(dynamicMember key: KeyPath<Declared, OptionKey<Value>>) -> Value? {
        values[declared[keyPath: key].option.name]?.last as? Value
    }

    /// For a flag, whether it was given.
    subscript(dynamicMember key: KeyPath<Declared, OptionKey<Bool>>) -> Bool {
        values[declared[keyPath: key].option.name] != nil
    }

    /// Every value of a repeatable option, in order.
    func all<Value>(_ key: KeyPath<Declared, OptionKey<Value>>) -> [Value] {
        values[declared[keyPath: key].option.name]?.compactMap { $0 as? Value } ?? []
    }

    /// Whether the option was given at all.
    func has<Value>(_ key: KeyPath<Declared, OptionKey<Value>>) -> Bool {
        values[declared[keyPath: key].option.name] != nil
    }

    /// Those of `keys`' options that were given, in the order of `keys`.
    func given(_ keys: [PartialKeyPath<Declared>]) -> [Option] {
        keys.compactMap { (declared[keyPath: $0] as? any OptionDeclaration)?.option }
            .filter { values[$0.name] != nil }
    }
}

/// What a running command is given: its arguments, read by its own options' key paths
/// (`invocation.split`), and the session it runs in.
@dynamicMemberLookup
struct Invocation<Declared: CommandOptions>: Sendable {
    var command: Command
    /// The positionals as typed; the options are read through `options`.
    var arguments: ParsedArguments
    var session: Session
    /// Typed in the REPL (usage and hints then read as REPL lines).
    var inREPL: Bool
    var options: OptionValues<Declared>

    var output: Output { session.output }

    var positionals: [String] { arguments.positionals }

    /// A note for the person, its settings and commands worded as this interface names them.
    func note(_ message: Message) {
        output.note(inREPL ? REPL.worded(message) : CLI.worded(message))
    }

    subscript<Value>(dynamicMember key: KeyPath<Declared, OptionKey<Value>>) -> Value? {
        options[dynamicMember: key]
    }

    subscript(dynamicMember key: KeyPath<Declared, OptionKey<Bool>>) -> Bool {
        options[dynamicMember: key]
    }

    func all<Value>(_ key: KeyPath<Declared, OptionKey<Value>>) -> [Value] { options.all(key) }

    func has<Value>(_ key: KeyPath<Declared, OptionKey<Value>>) -> Bool { options.has(key) }

    func given(_ keys: [PartialKeyPath<Declared>]) -> [Option] { options.given(keys) }
}
