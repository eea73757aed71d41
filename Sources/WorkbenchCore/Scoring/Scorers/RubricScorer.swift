import Foundation

/// A model-graded rubric: a judge model reads the task input, the reference answer, the answer to
/// grade and the rubric, and answers with a grade from 1 to 5, mapped to 0…1.
public struct RubricScorer: JudgedScorer {
    public static let name = "rubric"
    public static let isPassFail = false
    public static let settingKeys = ["rubric"]

    /// What the judge checks.
    public var rubric: String

    public init(rubric: String) {
        self.rubric = rubric
    }

    public init(settings: [String: JSONValue], labels: [String], field: String) throws {
        guard let rubric = settings["rubric"]?.stringValue, !rubric.trimmingWhitespace().isEmpty else {
            throw InputError(field: field + ".rubric", "the rubric scorer needs the criteria a judge checks")
        }
        self.init(rubric: rubric)
    }

    public var settings: [String: JSONValue] { ["rubric": .string(rubric)] }

    public func judgement(input: String, expected: JSONValue, output: String) -> Judgement {
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

    public func grade(_ judgeAnswer: String) -> Score? {
        guard let digit = judgeAnswer.first(where: { ("1"..."5").contains($0) }), let grade = Int(String(digit)) else {
            return nil
        }
        return Score(value: Double(grade - 1) / 4, detail: ["grade": .number(Double(grade))])
    }

    public func ungraded(_ judgeAnswer: String) -> String {
        "the judge gave no grade from 1 to 5 (it said \"\(judgeAnswer.prefix(40))\")"
    }
}
