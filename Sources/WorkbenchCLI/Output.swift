import Foundation
import WorkbenchCore

#if canImport(Glibc)
    import Glibc
#endif

/// Where commands write: results to standard output, messages and progress to standard error.
/// Colour only when the stream is a terminal and `NO_COLOR` is unset.
final class Output: @unchecked Sendable {
    // @unchecked: the only mutable state is behind `lock`; the file handles are thread-safe writers.
    private let lock = NSLock()
    private let stdout: FileHandle
    private let stderr: FileHandle
    let stdoutIsTerminal: Bool
    let stderrIsTerminal: Bool
    let colorEnabled: Bool

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        stdout = FileHandle.standardOutput
        stderr = FileHandle.standardError
        stdoutIsTerminal = isatty(STDOUT_FILENO) != 0
        stderrIsTerminal = isatty(STDERR_FILENO) != 0
        colorEnabled = stderrIsTerminal && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }

    /// Writes one line (or several joined) to standard output, control characters made visible.
    func line(_ text: String = "") {
        write(Output.visible(text) + "\n", to: stdout)
    }

    func lines(_ texts: [String]) {
        guard !texts.isEmpty else { return }
        write(Output.visible(texts.joined(separator: "\n")) + "\n", to: stdout)
    }

    /// Writes lines as they are: for text this program styled itself, from parts already
    /// passed through `visible`.
    func styledLines(_ texts: [String]) {
        guard !texts.isEmpty else { return }
        write(texts.joined(separator: "\n") + "\n", to: stdout)
    }

    /// `text` with every control character but line break and tab written as `\x1B`-style
    /// escapes, so model output, case ids and server messages cannot move the cursor, retitle
    /// the window, rewrite the line or hide text on the terminal they are shown on.
    static func visible(_ text: String) -> String {
        func isControl(_ scalar: Unicode.Scalar) -> Bool {
            let value = scalar.value
            return (value < 0x20 && value != 0x0A && value != 0x09) || (0x7F...0x9F).contains(value)
        }
        guard hasControl(text) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result.append(contentsOf: "\\x\(hex.count < 2 ? "0" + hex : hex)".unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// Whether `text` has a control character `visible` escapes, by its UTF-8 bytes: C0 and DEL
    /// are single bytes, C1 (U+0080…U+009F) is 0xC2 then 0x80…0x9F. A byte scan, because a
    /// `--json` report of thousands of cases is passed through here whole.
    static func hasControl(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var previous: UInt8 = 0
            for byte in bytes {
                if (byte < 0x20 && byte != 0x0A && byte != 0x09) || byte == 0x7F
                    || (previous == 0xC2 && (0x80...0x9F).contains(byte))
                {
                    return true
                }
                previous = byte
            }
            return false
        }
    }

    /// Writes raw text to standard output, without adding a line break.
    func raw(_ text: String) {
        write(text, to: stdout)
    }

    /// A message for the person, not the pipeline: standard error.
    func note(_ text: String) {
        write(Output.visible(text) + "\n", to: stderr)
    }

    /// `pwb: error: …` on standard error, red on a terminal.
    func error(_ text: String) {
        let prefix = colorEnabled ? "\u{1B}[31mpwb: error:\u{1B}[0m " : "pwb: error: "
        write(prefix + Output.visible(text) + "\n", to: stderr)
    }

    func warning(_ text: String) {
        let prefix = colorEnabled ? "\u{1B}[33mpwb: warning:\u{1B}[0m " : "pwb: warning: "
        write(prefix + Output.visible(text) + "\n", to: stderr)
    }

    /// Progress text redrawn in place on a terminal's standard error; nothing when piped.
    func progress(_ text: String) {
        guard stderrIsTerminal else { return }
        write("\r\u{1B}[K" + Output.visible(text), to: stderr)
    }

    func clearProgress() {
        guard stderrIsTerminal else { return }
        write("\r\u{1B}[K", to: stderr)
    }

    private func write(_ text: String, to handle: FileHandle) {
        lock.lock()
        defer { lock.unlock() }
        handle.write(Data(text.utf8))
    }
}

/// An aligned text table; widths are measured in terminal columns, so Japanese lines up.
struct Table {
    struct Column {
        var title: String
        var alignRight: Bool
        var maxWidth: Int?

        init(_ title: String, right: Bool = false, maxWidth: Int? = nil) {
            self.title = title
            self.alignRight = right
            self.maxWidth = maxWidth
        }
    }

    var columns: [Column]
    var rows: [[String]] = []

    init(_ columns: [Column]) {
        self.columns = columns
    }

    mutating func add(_ row: [String]) {
        rows.append(row)
    }

    /// The table as lines: a header, a rule, then the rows, columns two spaces apart.
    func render() -> [String] {
        let cells = rows.map { row in
            columns.indices.map { index -> String in
                let text = (index < row.count ? row[index] : "").replacingOccurrences(of: "\n", with: " ")
                if let maxWidth = columns[index].maxWidth { return DisplayWidth.truncate(text, to: maxWidth) }
                return text
            }
        }
        var widths = columns.map { DisplayWidth.of($0.title) }
        for row in cells {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], DisplayWidth.of(cell)) }
        }
        func format(_ row: [String]) -> String {
            var parts: [String] = []
            for (index, cell) in row.enumerated() {
                let last = index == row.count - 1
                if last && !columns[index].alignRight {
                    parts.append(cell)
                } else {
                    parts.append(DisplayWidth.pad(cell, to: widths[index], right: columns[index].alignRight))
                }
            }
            return parts.joined(separator: "  ")
        }
        var lines = [format(columns.map(\.title))]
        lines.append(widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
        lines += cells.map(format)
        return lines.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
    }
}
