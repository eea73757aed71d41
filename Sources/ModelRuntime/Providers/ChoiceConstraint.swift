import Foundation
import WorkbenchCore

/// An answer constrained to a list of texts, in each server's terms: a GBNF grammar for
/// llama.cpp, vLLM's `guided_choice` for an OpenAI-compatible completion, and for chat (and
/// Ollama) a JSON schema whose one field is an enum of the texts, unwrapped again on the way back.
enum ChoiceConstraint {
    /// The field of the JSON object a schema-constrained answer is written in.
    static let field = "answer"

    /// A llama.cpp grammar: an optional space, then exactly one of `choices`. When the grammar is
    /// complete only the end of text can follow, so the answer is the choice.
    static func grammar(_ choices: [String]) -> String {
        "root ::= \" \"? (" + choices.map(literal).joined(separator: " | ") + ")"
    }

    /// `text` as a GBNF string literal.
    static func literal(_ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }

    /// A JSON schema of one object whose `answer` is one of `choices`.
    static func schema(_ choices: [String]) -> JSONValue {
        [
            "type": "object",
            "properties": [field: ["type": "string", "enum": .array(choices.map { .string($0) })]],
            "required": [.string(field)], "additionalProperties": false,
        ]
    }

    /// OpenAI's `response_format` for `schema`.
    static func responseFormat(_ choices: [String]) -> JSONValue {
        ["type": "json_schema", "json_schema": ["name": "choice", "strict": true, "schema": schema(choices)]]
    }

    /// The choice in a schema-constrained answer (`{"answer": "positive"}`), or the text itself
    /// when it is not such an object (a server that ignored the schema: the scorers then read it).
    static func unwrap(_ text: String) -> String {
        guard let object = try? JSONValue(parsing: Array(text.utf8)), let answer = object[field]?.stringValue else {
            return text
        }
        return answer
    }
}
