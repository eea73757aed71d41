import Foundation

/// A model-graded rubric: a judge model reads the task input, the reference answer, the answer to
/// grade and the rubric, and answers with a grade from 1 to 5, mapped to 0…1.
package struct RubricScorer: JudgedScorer {
    package static let name = "rubric"
    package static let isPassFail = false
    package static let settingKeys = ["rubric"]

    /// What the judge checks.
    package var rubric: String

    package init(rubric: String) {
        self.rubric = rubric
    }

    package init(settings: [String: JSONValue], labels: [String], field: String) throws {
        guard let rubric = settings["rubric"]?.stringValue, !rubric.trimmingWhitespace().isEmpty else {
            throw InputError(field: field + ".rubric", "the rubric scorer needs the criteria a judge checks")
        }
        self.init(rubric: rubric)
    }

    package var settings: [String: JSONValue] { ["rubric": .string(rubric)] }

    package func judgement(input: String, expected: JSONValue, output: String) -> Judgement {
        Judgement(
            prompt: """
                You are grading an answer against a rubric.

                Rubric: \(rubric)

                Task input:
                \(input)

                Reference answer: \(expected.text)

                Answer to grade: \(output.trimmingWhitespace())

                Grade the answer from 1 (fails the rubric) to 5 (fully meets it). Reply with the grade only.
                Grade:
                """,
            maxTokens: 4, temperature: 0, stop: ["\n"])
    }

    package func grade(_ judgeAnswer: String) -> Score? {
        guard let digit = judgeAnswer.first(where: { ("1"..."5").contains($0) }), let grade = Int(String(digit)) else {
            return nil
        }
        return Score(value: Double(grade - 1) / 4, detail: ["grade": .number(Double(grade))])
    }

    package func ungraded(_ judgeAnswer: String) -> String {
        "the judge gave no grade from 1 to 5 (it said \"\(judgeAnswer.prefix(40))\")"
    }
}
