import Foundation
import Testing
import WorkbenchCore

/// The templates the repository ships put what every case shares first: the server reuses a
/// prompt's cached beginning only up to the first character that differs between cases.
struct ShippedTemplateTests {
    static let templates = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("templates").path

    static var files: [String] {
        let enumerator = FileManager.default.enumerator(atPath: templates)
        return ((enumerator?.allObjects as? [String]) ?? []).filter { $0.hasSuffix(".prompt") }.sorted()
    }

    @Test func thereAreShippedTemplates() {
        #expect(Self.files.count >= 8)
    }

    @Test(arguments: files)
    func nothingCaseSpecificComesBeforeTheExamples(file: String) throws {
        let text = try String(contentsOfFile: Self.templates + "/" + file, encoding: .utf8)
        let body = try PromptFile(parsing: text).body
        var beforeExamples: [String] = []
        for case .variable(let name, _, _) in body.segments {
            if name == TemplateBody.examplesSlot { break }
            beforeExamples.append(name)
        }
        #expect(body.variables.contains(TemplateBody.examplesSlot), "\(file) has no {{examples}} slot")
        #expect(beforeExamples.isEmpty, "\(file) puts \(beforeExamples) before {{examples}}")
    }

    @Test func theExamplesComeBeforeThePassages() throws {
        let text = try String(contentsOfFile: Self.templates + "/handbook-qa/answer.prompt", encoding: .utf8)
        let body = try PromptFile(parsing: text).body
        let full = try body.render(["question": "Q?", "examples": "E1\n\nE2", "context": "P1"])
        #expect(full.range(of: "E2")!.lowerBound < full.range(of: "P1")!.lowerBound)
        #expect(!full.contains("\n\n\n"))
    }
}
