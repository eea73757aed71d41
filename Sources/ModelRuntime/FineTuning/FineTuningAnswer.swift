import Foundation
import WorkbenchCore

/// Reads the provider's JSON into the typed values, within bounds: an id that could not be a
/// path segment, a token count past 10^13, an epoch count past 1,000, a date past the year 5000
/// or a log line of a megabyte is a server pwb cannot believe, refused naming the URL and field.
struct FineTuningAnswer {
    let json: JSONValue
    let url: String

    func bad(_ detail: String) -> ModelError { .malformed(url: url, detail: detail) }

    /// An id the provider gave, which later requests put into their paths.
    func id(_ key: String, in value: JSONValue? = nil) throws -> String {
        guard let text = (value ?? json)[key]?.stringValue else { throw bad("no \"\(key)\"") }
        guard FineTuningAnswer.isIdentifier(text) else {
            throw bad("\"\(key)\" is not an id pwb can use (letters, digits, '-', '_', '.', ':', at most 256)")
        }
        return text
    }

    func optionalID(_ key: String, in value: JSONValue? = nil) throws -> String? {
        let field = (value ?? json)[key]
        if field == nil || field == .null { return nil }
        return try id(key, in: value)
    }

    /// A whole number in `range`, or nil when absent, null or `auto` (not yet settled).
    func count(_ key: String, in value: JSONValue, range: ClosedRange<Double>, name: String) throws -> Int? {
        guard let field = value[key], field != .null, field.stringValue == nil else { return nil }
        guard let number = field.doubleValue, range.contains(number), number.rounded() == number else {
            throw bad(
                "\(name) is \(field.serialized().prefix(40)), not a whole number from \(Int(range.lowerBound)) to \(Int(range.upperBound))"
            )
        }
        return Int(number)
    }

    /// A Unix time in seconds between 1970 and the year 5000, or nil.
    func date(_ key: String, in value: JSONValue? = nil) throws -> Date? {
        guard let field = (value ?? json)[key], field != .null else { return nil }
        guard let seconds = field.doubleValue, (0...95_617_584_000).contains(seconds) else {
            throw bad("\"\(key)\" is \(field.serialized().prefix(40)), not a time in seconds")
        }
        return Date(timeIntervalSince1970: seconds)
    }

    func uploadedFile() throws -> UploadedFile {
        UploadedFile(
            id: try id("id"), bytes: try count("bytes", in: json, range: 0...1e13, name: "the file's size"),
            status: json["status"]?.stringValue.map { FineTuningAnswer.line($0, limit: 64) },
            statusDetails: json["status_details"]?.stringValue.map { FineTuningAnswer.line($0) }
                ?? json["error"]?["message"]?.stringValue.map { FineTuningAnswer.line($0) })
    }

    func job(_ value: JSONValue? = nil) throws -> FineTuningJob {
        let value = value ?? json
        guard let status = value["status"]?.stringValue, status.count <= 64 else {
            throw bad("the job has no \"status\"")
        }
        let settings = value["hyperparameters"] ?? .object([:])
        var tuned: String?
        if let name = value["fine_tuned_model"]?.stringValue {
            guard FineTuningAnswer.isModelName(name) else {
                throw bad("\"fine_tuned_model\" is not a model name pwb can use")
            }
            tuned = name
        }
        var rate: Double?
        if let field = settings["learning_rate_multiplier"], field != .null, field.stringValue == nil {
            guard let number = field.doubleValue, (0...1000).contains(number) else {
                throw bad(
                    "the learning rate multiplier is \(field.serialized().prefix(40)), not a number from 0 to 1000")
            }
            rate = number
        }
        return FineTuningJob(
            id: try id("id", in: value), status: FineTuningJob.Status(status),
            model: value["model"]?.stringValue.map { FineTuningAnswer.line($0, limit: 256) }, fineTunedModel: tuned,
            trainedTokens: try count("trained_tokens", in: value, range: 0...1e13, name: "trained_tokens"),
            hyperparameters: FineTuningHyperparameters(
                epochs: try count("n_epochs", in: settings, range: 1...1000, name: "n_epochs"),
                batchSize: try count("batch_size", in: settings, range: 1...10_000_000, name: "batch_size"),
                learningRateMultiplier: rate),
            trainingFile: try optionalID("training_file", in: value),
            validationFile: try optionalID("validation_file", in: value),
            error: FineTuningAnswer.reason(value["error"]), createdAt: try date("created_at", in: value),
            finishedAt: try date("finished_at", in: value), estimatedFinish: try date("estimated_finish", in: value))
    }

    /// The jobs of a list answer (`{"data": [...]}`), at most `limit`.
    func jobs(limit: Int) throws -> [FineTuningJob] {
        guard let items = json["data"]?.arrayValue else { throw bad("no \"data\" list") }
        return try items.prefix(limit).map { try job($0) }
    }

    /// A list answer's events, at most `limit`, in the provider's order (newest first).
    func events(limit: Int) throws -> [FineTuningEvent] {
        guard let items = json["data"]?.arrayValue else { throw bad("no \"data\" list") }
        return try items.prefix(limit).map { item in
            FineTuningEvent(
                id: try id("id", in: item), createdAt: try date("created_at", in: item),
                level: FineTuningAnswer.line(item["level"]?.stringValue ?? "info", limit: 16),
                message: FineTuningAnswer.line(item["message"]?.stringValue ?? ""))
        }
    }

    /// The provider's reason for a failure: `{"message": …, "code": …}` or text; nil for none.
    static func reason(_ value: JSONValue?) -> String? {
        guard let value, value != .null else { return nil }
        if let text = value.stringValue { return text.isEmpty ? nil : line(text) }
        let message = value["message"]?.stringValue ?? ""
        let code = value["code"]?.stringValue ?? ""
        if message.isEmpty && code.isEmpty { return nil }
        if message.isEmpty { return line(code) }
        return line(code.isEmpty ? message : "\(message) (\(code))")
    }

    /// Text from the server as one line of at most `limit` characters: line breaks and other
    /// control characters become spaces, runs of spaces one, so a message stays one sentence.
    static func line(_ text: String, limit: Int = 300) -> String {
        var out = ""
        var lastWasSpace = false
        for character in text {
            let isSpace =
                character.isWhitespace
                || character.unicodeScalars.contains { $0.properties.generalCategory == .control }
            if isSpace {
                if !lastWasSpace && !out.isEmpty { out.append(" ") }
                lastWasSpace = true
            } else {
                out.append(character)
                lastWasSpace = false
            }
            if out.count > limit { return String(out.prefix(limit - 1)).trimmingWhitespace() + "…" }
        }
        return out.trimmingWhitespace()
    }

    /// Ids go into paths (`/fine_tuning/jobs/ID`), so only characters that need no escaping there.
    static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 256 && text != "." && text != ".."
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }
    }

    /// A tuned model's name: `ft:gpt-4o-mini-2024-07-18:org:suffix:id` (OpenAI) or
    /// `gpt-4o-mini-2024-07-18.ft-0123abcd` (Azure).
    static func isModelName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 256
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:/@+".contains($0)) }
    }
}
