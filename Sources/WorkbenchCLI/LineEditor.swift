import CEditLine
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Line editing for the REPL through libedit's readline interface: history kept in a file,
/// tab completion from a function of the line so far, UTF-8 editing (Japanese included).
///
/// libedit keeps global state and calls back on the thread that reads, so this is main-actor
/// code with the callbacks' state in statics that only that thread touches.
@MainActor
enum LineEditor {
    /// Given the words before the cursor and the partial word, the candidates for that word.
    typealias Completer = (_ before: [String], _ partial: String) -> [String]

    nonisolated(unsafe) private static var completer: Completer?
    nonisolated(unsafe) private static var candidates: [String] = []
    private static var historyPath: String?

    static func start(historyPath: String, completer: @escaping Completer) {
        // Multibyte editing needs a UTF-8 locale; fall back to C.UTF-8 when the environment has none.
        if let locale = setlocale(LC_CTYPE, ""), String(cString: locale).lowercased().contains("utf") == false {
            setlocale(LC_CTYPE, "C.UTF-8")
        } else if setlocale(LC_CTYPE, nil) == nil {
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        self.completer = completer
        self.historyPath = historyPath
        rl_initialize()
        stifle_history(2000)
        if FileManager.default.fileExists(atPath: historyPath) { read_history(historyPath) }
        pwb_rl_configure(strdup("pwb"), strdup(" \t")) { text, start, _ in
            pwb_rl_completion_over()
            guard let completer = LineEditor.completer, let text else { return nil }
            let partial = String(cString: text)
            var before: [String] = []
            if let buffer = pwb_rl_line_buffer(), start > 0 {
                let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(start))
                before = String(decoding: bytes, as: UTF8.self).split(separator: " ").map(String.init)
            }
            LineEditor.candidates = completer(before, partial).filter { $0.hasPrefix(partial) }
            guard !LineEditor.candidates.isEmpty else { return nil }
            return rl_completion_matches(text) { _, state in
                let index = Int(state)
                guard index < LineEditor.candidates.count else { return nil }
                return strdup(LineEditor.candidates[index])
            }
        }
    }

    /// What reading a line gave.
    enum Input {
        case line(String)
        /// Ctrl-C: the line was discarded.
        case interrupted
        /// Ctrl-D or the end of input.
        case end
    }

    /// Reads one line. Ctrl-C discards what was typed instead of ending the program.
    static func read(prompt: String) -> Input {
        Interrupts.whileReadingLine {
            guard let pointer = readline(prompt) else {
                return Interrupts.lineInterrupted != 0 ? .interrupted : .end
            }
            defer { free(pointer) }
            return .line(String(cString: pointer))
        }
    }

    /// Adds `line` to the history and saves the history file at once, so a crash loses nothing.
    static func remember(_ line: String) {
        add_history(line)
        if let historyPath { write_history(historyPath) }
    }
}
