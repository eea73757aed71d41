import Testing
import WorkbenchCore

@testable import WorkbenchCLI

struct CommandParsingTests {
    static let command = Command(
        "demo run", "a command for tests", arguments: "NAME [MORE]", min: 1, max: 2,
        options: [
            Option("json", "JSON"), Option("limit", value: "N", "a limit"),
            Option("var", value: "K=V", repeatable: true, "variables"),
        ]
    ) { _ in }

    @Test func splitsPositionalsFlagsAndValues() throws {
        let parsed = try Self.command.parse([
            "a", "--json", "--limit=5", "--var", "x=1", "--var", "y=2", "--", "--literal",
        ])
        #expect(parsed.positionals == ["a", "--literal"])
        #expect(parsed.flag("json"))
        #expect(try parsed.int("limit") == 5)
        #expect(parsed.all("var") == ["x=1", "y=2"])
    }

    @Test(arguments: [
        (["a", "--jsn"], "unknown option --jsn; did you mean --json?"),
        (["a", "--limit"], "--limit needs a value (N)"),
        (["a", "--json=yes"], "--json takes no value"),
        (["a", "--limit", "1", "--limit", "2"], "--limit is given twice"),
        ([], "demo run needs NAME [MORE]; usage: pwb demo run NAME [MORE] [options]"),
        (["a", "b", "c"], "unexpected argument \"c\""),
    ])
    func reportsMisuseWithTheUsage(words: [String], message: String) {
        let error = #expect(throws: UsageError.self) { try Self.command.parse(words) }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func checksNumbers() throws {
        let parsed = try Self.command.parse(["a", "--limit", "many"])
        #expect(throws: UsageError.self) { try parsed.int("limit") }
        let negative = try Self.command.parse(["a", "--limit", "-3"])
        #expect(throws: UsageError.self) { try negative.int("limit", min: 0) }
    }

    @Test func helpListsTheOptions() {
        let help = Self.command.help
        #expect(help.first == "usage: pwb demo run NAME [MORE] [options]")
        #expect(help.contains("  --limit N  a limit"))
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
        let (command, rest) = try CLI.find(["template", "show", "a/b"])
        #expect(command.name == "template show")
        #expect(rest == ["a/b"])
        #expect(throws: UsageError.self) { try CLI.find(["tempalte"]) }
        let error = #expect(throws: UsageError.self) { try CLI.find(["runs", "shwo"]) }
        #expect(error?.message.contains("did you mean runs show?") == true)
    }

    @Test func everyCommandHasAUniquePathAndHelp() {
        let cli = CLI.commands.map(\.name)
        let repl = REPLCommands.all.map(\.name)
        #expect(Set(cli).count == cli.count)
        #expect(Set(repl).count == repl.count)
        // In the REPL, compare also works without arguments (the current variant's two newest runs).
        #expect(Set(cli).intersection(repl) == ["compare"])
        for command in CLI.commands + REPLCommands.all {
            #expect(!command.summary.isEmpty)
            #expect(command.help.first?.hasPrefix("usage: pwb \(command.name)") == true)
        }
    }
}
