import Testing
import Workbench
import WorkbenchCore

@testable import WorkbenchCLI

/// What a model, a server or an eval set says cannot drive the terminal or a spreadsheet.
struct InjectionTests {
    @Test(arguments: [
        ("\u{1B}]0;owned\u{07}title", "\\x1B]0;owned\\x07title"),
        ("clear\u{1B}[2J", "clear\\x1B[2J"),
        ("back\rover", "back\\x0Dover"),
        ("c1 \u{9B}31m", "c1 \\x9B31m"),
        ("nul\u{0}byte\u{7F}", "nul\\x00byte\\x7F"),
        ("kept:\tTab\nline 日本語", "kept:\tTab\nline 日本語"),
    ])
    func controlCharactersAreMadeVisible(_ raw: String, _ shown: String) {
        #expect(Output.visible(raw) == shown)
    }

    @Test(arguments: [
        ("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-0.25", "-0.25"),
        ("'=already", "''=already"),
        ("'Tis", "'Tis"),
        ("plain", "plain"),
    ])
    func csvCellsThatASpreadsheetWouldRunAreQuoted(_ cell: String, _ written: String) {
        #expect(CaseExport.csvQuoted(cell) == written)
    }

    @Test func anExportedEvalSetReadsBackAsItWas() throws {
        let values = ["=1+1", "+x", "-y", "@z", "'=q", "''=r", "'Tis", "-3", "\tTab"]
        var text = "id,text,expected\n"
        for (index, value) in values.enumerated() {
            text += ["c\(index)", value, value].map(CaseExport.csvQuoted).joined(separator: ",") + "\n"
        }
        let cases = try EvalSetParser.parseCSV(text)
        #expect(cases.map { $0.vars["text"]?.stringValue } == values)
        #expect(cases.map { $0.expected.stringValue } == values)
    }
}

/// A quote, comma or `<` followed by a combining mark (U+0301) is one Character to Swift but still
/// a quote, comma or `<` to a browser and a spreadsheet: escaping goes by Unicode scalar.
struct CombiningMarkTests {
    @Test(arguments: [("\"", "&quot;"), ("'", "&#39;"), ("<", "&lt;"), (">", "&gt;"), ("&", "&amp;")])
    func htmlEscapingSeesAMarkupCharacterUnderACombiningMark(_ special: String, _ entity: String) {
        let escaped = HTMLReport.escape("x\(special)\u{301} onmouseover=alert(1)")
        #expect(Array(escaped.unicodeScalars) == Array("x\(entity)\u{301} onmouseover=alert(1)".unicodeScalars))
    }

    static let marked = [
        "a,\u{301}b", "q\"\u{301}r", "\"\u{301}start", "line\n\u{301}x", "cr\r\u{301}", "\r\n\u{301}", "=\u{301}1",
    ]

    @Test func aCSVCellWithAMarkedSeparatorIsQuotedAndReadsBackAsItWas() throws {
        #expect(CaseExport.csvQuoted("a,\u{301}b") == "\"a,\u{301}b\"")
        var text = "id,text,expected\n"
        for (index, value) in Self.marked.enumerated() {
            text += ["c\(index)", value, value].map(CaseExport.csvQuoted).joined(separator: ",") + "\n"
        }
        // What a spreadsheet sees, byte by byte: each record has the header's three fields.
        var fields = [1]
        var quoted = false
        for scalar in text.unicodeScalars {
            if scalar == "\"" { quoted.toggle() }
            if scalar == "," && !quoted { fields[fields.count - 1] += 1 }
            if scalar == "\n" && !quoted { fields.append(1) }
        }
        #expect(fields.dropLast().allSatisfy { $0 == 3 }, "\(fields)")
        let cases = try EvalSetParser.parseCSV(text)
        #expect(cases.count == Self.marked.count)
        for (read, value) in zip(cases, Self.marked) {
            #expect(read.vars["text"]?.stringValue.map { Array($0.unicodeScalars) } == Array(value.unicodeScalars))
            #expect(read.expected.stringValue.map { Array($0.unicodeScalars) } == Array(value.unicodeScalars))
        }
    }
}

struct ControlScanTests {
    /// The byte scan finds exactly the characters the per-character rule escapes, for every
    /// character up to U+00FF and a few beyond, alone and between other text.
    @Test func theByteScanAgreesWithTheCharacterRule() {
        func isControl(_ value: UInt32) -> Bool {
            (value < 0x20 && value != 0x0A && value != 0x09) || (0x7F...0x9F).contains(value)
        }
        let values: [UInt32] = Array(0...0xFF) + [0x100, 0x2028, 0x3000, 0x1F600]
        for value in values {
            let scalar = Unicode.Scalar(value)!
            for text in [String(scalar), "a\(scalar)b", "日本\(scalar)", "é\(scalar)"] {
                #expect(
                    Output.hasControl(text) == isControl(value),
                    "U+\(String(value, radix: 16)) in \(text.debugDescription)")
            }
        }
        #expect(!Output.hasControl(""))
    }
}
