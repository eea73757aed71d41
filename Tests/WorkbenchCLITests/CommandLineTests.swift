import Foundation
import Testing
import Workbench
import WorkbenchCore

@testable import WorkbenchCLI

struct CommandParsingTests {
    enum Color: String, CaseIterable, Sendable { case red, green, blue }

    struct DemoOptions: CommandOptions {
        let json = OptionKey<Bool>.flag("json", "JSON")
        let limit = OptionKey<Int>.number("limit", "N", in: 0...Int.max, "a limit")
        let variable = OptionKey<String>.text("var", "K=V", repeatable: true, "variables")
        let color = OptionKey<Color>.choice("color", "a color")
        let share = OptionKey<Double>.decimal("share", "X", in: 0...1, "a share")
    }
    static let command = Command(
        "demo run", "a command for tests", arguments: "NAME [MORE]", replArguments: "[NAME]", min: 1, max: 2,
        options: DemoOptions.self
    ) { _ in }

    @Test func splitsPositionalsFlagsAndTypedValues() throws {
        let parsed = try Self.command.parse([
            "a", "--json", "--limit=5", "--var", "x=1", "--var", "y=2", "--color", "green", "--", "--literal",
        ])
        #expect(parsed.positionals == ["a", "--literal"])
        let values = parsed.values(as: DemoOptions.self)
        #expect(values.json)
        #expect(values.limit == 5)
        #expect(values.color == .green)
        #expect(values.share == nil)
        #expect(values.all(\.variable) == ["x=1", "y=2"])
        let bare = try Self.command.parse(["a"]).values(as: DemoOptions.self)
        #expect(!bare.json)
        #expect(!bare.has(\.limit))
    }

    /// The options are the declaration's properties, in its order: help lists them so.
    @Test func theOptionsAreTheDeclaredPropertiesInOrder() {
        #expect(Self.command.options.map(\.name) == ["json", "limit", "var", "color", "share"])
    }

    @Test(arguments: [
        (["a", "--jsn"], "unknown option --jsn; did you mean --json?"),
        (["a", "--limit"], "--limit needs a value (N)"),
        (["a", "--json=yes"], "--json takes no value"),
        (["a", "--limit", "1", "--limit", "2"], "--limit is given twice"),
        ([], "demo run needs NAME [MORE]; usage: pwb demo run NAME [MORE] [options]"),
        (["a", "b", "c"], "unexpected argument \"c\""),
        // Values are checked as the line is read, by the option, before the command runs.
        (["a", "--limit", "many"], "--limit must be a whole number, not \"many\""),
        (["a", "--limit", "-3"], "--limit must be at least 0, not -3"),
        (["a", "--color", "grey"], "--color is \"grey\"; use red, green or blue"),
        (["a", "--share", "1.5"], "--share must be between 0 and 1, not 1.5"),
        (["a", "--share", "nan"], "--share must be a number, not \"nan\""),
    ])
    func reportsMisuseWithTheUsage(words: [String], message: String) {
        let error = #expect(throws: UsageError.self) { try Self.command.parse(words) }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func helpListsTheOptionsAndReadsAsTheLineWhereItIsTyped() {
        let help = Self.command.help()
        #expect(help.first == "usage: pwb demo run NAME [MORE] [options]")
        #expect(help.contains("  --limit N               a limit; 0 or more"))
        #expect(help.contains("  --color red|green|blue  a color"))
        #expect(Self.command.help(inREPL: true).first == "usage: demo run [NAME] [options]")
        let error = #expect(throws: UsageError.self) { try Self.command.parse([], inREPL: true) }
        #expect(error?.message == "demo run needs [NAME]; usage: demo run [NAME] [options]")
    }
}

struct TableTests {
    @Test func alignsColumnsByDisplayWidth() {
        var table = Table([.init("ID"), .init("TEXT"), .init("N", right: true)])
        table.add(["ja-1", "配送はいつですか", "3"])
        table.add(["en-22", "when is it coming", "12"])
        let lines = table.render()
        #expect(lines.count == 4)
        // Every row's third column ends at the same terminal column.
        let widths = lines.map { DisplayWidth.of($0) }
        #expect(Set(widths).count == 1, "\(lines)")
        #expect(lines[2] == "ja-1   配送はいつですか    3")
    }

    @Test func truncatesLongCells() {
        var table = Table([.init("A", maxWidth: 6)])
        table.add(["返品したいのですが"])
        #expect(table.render()[2] == "返品…")
    }
}

@MainActor
struct CLIDispatchTests {
    @Test func findsTheLongestCommandAndSuggestsForTypos() throws {
        let (command, rest) = try Commands.find(["template", "show", "a/b"], inREPL: false)
        #expect(command.name == "template show")
        #expect(rest == ["a/b"])
        #expect(throws: UsageError.self) { try Commands.find(["tempalte"], inREPL: false) }
        let error = #expect(throws: UsageError.self) { try Commands.find(["runs", "shwo"], inREPL: false) }
        #expect(error?.message.contains("did you mean runs show?") == true)
    }

    @Test func theREPLsCommandsAreFoundOnlyThereAndReplOnlyOnTheCommandLine() throws {
        #expect(try Commands.find(["use", "a/b"], inREPL: true).0.name == "use")
        let error = #expect(throws: UsageError.self) { try Commands.find(["use", "a/b"], inREPL: false) }
        #expect(error?.message.contains("pwb repl") == true, "\(String(describing: error))")
        #expect(try Commands.find(["repl"], inREPL: false).0.name == "repl")
        #expect(throws: UsageError.self) { try Commands.find(["repl"], inREPL: true) }
        // One eval and one compare serve both; in the REPL they default to the current variant.
        #expect(try Commands.find(["eval"], inREPL: true).0.usage(inREPL: true) == "eval [all] [TEMPLATE] [options]")
        #expect(try Commands.find(["compare"], inREPL: false).0.usage() == "pwb compare RUN RUN [options]")
    }

    @Test func everyCommandHasAUniquePathAndHelp() {
        let names = Commands.all.map(\.name)
        #expect(Set(names).count == names.count)
        for command in Commands.all {
            #expect(!command.summary.isEmpty)
            #expect(command.help().first?.hasPrefix("usage: pwb \(command.name)") == true)
            #expect(command.help(inREPL: true).first?.hasPrefix("usage: \(command.name)") == true)
            let options = command.options.map(\.name)
            #expect(Set(options).count == options.count, "\(command.name) declares an option twice")
        }
    }

    @Test func helpInTheREPLListsTheREPLsLines() throws {
        let overview = try Commands.help([], inREPL: true)
        #expect(overview.contains { $0.hasPrefix("  use TEMPLATE[/VARIANT]") })
        #expect(overview.contains { $0.hasPrefix("  eval [all] [TEMPLATE]") })
        #expect(!overview.contains { $0.contains("pwb use") })
        #expect(try Commands.help(["use"], inREPL: true).first == "usage: use TEMPLATE[/VARIANT]")
        #expect(try Commands.help(["repl"], inREPL: false).first == "usage: pwb repl")
    }
}

@MainActor
struct CompletionTests {
    static func session() throws -> Session {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pwb-completion-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let session = Session(directory: folder.path, environment: [:], output: Output(environment: ["NO_COLOR": "1"]))
        let file = try PromptFile(parsing: "Review: {{text}}\nSentiment:")
        for variant in ["plain", "terse"] {
            _ = try session.workspace().library.saveRevision(
                template: "reviews", variant: variant, file: file, origin: "test")
        }
        return session
    }

    @Test func commandsOptionsAndValuesCompleteFromTheOneList() throws {
        let session = try Self.session()
        let complete = { (before: [String], partial: String) in
            Commands.completions(before: before, partial: partial, session: session)
        }
        #expect(complete([], "").contains("use"))
        #expect(complete([], "").contains("eval"))
        #expect(!complete([], "").contains("repl"), "repl is typed on the command line, not in the REPL")
        #expect(complete(["runs"], "") == ["list", "show"])
        #expect(complete(["eval"], "--").contains("--variants"))
        #expect(complete(["eval", "--split"], "") == ["train", "dev", "test"])
        #expect(complete(["use"], "").contains("reviews/terse"))
        session.currentTemplate = "reviews"
        session.currentVariant = "plain"
        #expect(complete(["eval", "--variants"], "") == ["plain", "terse", "all"])
        #expect(complete(["new", "variant"], "") == ["plain", "terse"])
        #expect(complete(["try"], "") == ["case", "text="])
        #expect(complete(["show"], "") == ["@1"])
    }
}

/// Every number an option takes has a range: its help states it and its parser holds to it, so
/// no value typed can overflow, allocate without bound or trap later (`--repeat` at Int.max).
@MainActor
struct OptionRangeTests {
    /// Each command's options that take numbers: those that read "1" as a number.
    static var numberOptions: [(command: Command, option: Option)] {
        Commands.all.flatMap { command in
            command.options.filter { option in
                guard !option.isFlag, let value = try? option.read("1") else { return false }
                return value is Int || value is Double || value is [Int]
            }.map { (command, $0) }
        }
    }

    @Test func everyNumberOptionStatesItsRangeInHelp() throws {
        #expect(Self.numberOptions.count > 20)
        for (command, option) in Self.numberOptions {
            let line = try #require(command.help().first { $0.hasPrefix("  --\(option.name) ") })
            #expect(
                line.contains(/[0-9] to [0-9]|[0-9] or more/), "pwb \(command.name) --\(option.name): \(line)")
        }
    }

    /// Values far past anything meant: only run ids may be that large (they are looked up, not counted).
    @Test(arguments: ["9223372036854775807", "99999999999999999999", "-9223372036854775808", "1e308"])
    func noNumberOptionTakesAValueBeyondItsRange(_ text: String) {
        for (command, option) in Self.numberOptions where option.placeholder != "RUN" || text.hasPrefix("-") {
            let error = #expect(throws: UsageError.self, "pwb \(command.name) --\(option.name) \(text)") {
                try command.parse(
                    command.minArguments > 0
                        ? ["x", "x"].prefix(command.minArguments) + ["--\(option.name)", text]
                        : ["--\(option.name)", text])
            }
            // One sentence naming the option and what it takes.
            let message = error?.message ?? ""
            #expect(
                message.hasPrefix("--\(option.name) ")
                    && message.contains(/between [0-9]+ and [0-9]+|[0-9]+ to [0-9]+|at least [0-9]+|a whole number/),
                "\(message)")
        }
    }
}
