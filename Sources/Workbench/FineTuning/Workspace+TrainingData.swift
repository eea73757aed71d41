import Foundation
import WorkbenchCore
import WorkbenchStore

/// Fine-tuning's training data: the variant whose prompt it is written with (for the local
/// trainer, a hosted job and `pwb export-finetune` alike) and the files the export writes.
extension Workspace {
    /// The revision whose prompt the training data is written with: the one named, else the
    /// newest revision of the only template (first variant by name) that names this eval set.
    package func fineTuningRevision(evalset: LoadedEvalSet, reference: String?) throws -> ResolvedRevision {
        if let reference { return try library.resolve(RevisionReference(parsing: reference)) }
        var candidates: [ResolvedRevision] = []
        for template in try store.templates() {
            for revision in try library.latestRevisions(of: template)
            where revision.file.settings.evalset == evalset.name {
                candidates.append(revision)
            }
        }
        guard let first = candidates.first else {
            throw Refusal(
                "no template names eval set \(evalset.name); say which prompt to use with \(setting: "template") TEMPLATE/VARIANT"
            )
        }
        let templates = Set(candidates.map(\.template.name))
        guard templates.count == 1 else {
            throw Refusal(
                "several templates name eval set \(evalset.name) (\(templates.sorted().joined(separator: ", "))); choose one with \(setting: "template") TEMPLATE/VARIANT"
            )
        }
        return first
    }

    /// OpenAI chat fine-tuning JSONL: system (if the variant has one), the rendered prompt
    /// without examples, and the expected answer.
    package func fineTuningChat(_ cases: [StoredCase], revision: ResolvedRevision) throws -> String {
        var out = ""
        for stored in cases {
            let request = try Prompting.request(
                revision.file, reference: revision.reference, vars: stored.evalCase.textVars)
            var messages: [JSONValue] = []
            if let system = revision.file.settings.system {
                messages.append(["role": "system", "content": .string(system)])
            }
            // The user's turn alone: the system message, when there is one, is its own turn above.
            let user: String
            switch request.prompt {
            case .text(let text): user = text
            case .chat(let turns): user = turns.last(where: { $0.role == "user" })?.content ?? ""
            }
            messages.append(["role": "user", "content": .string(user)])
            messages.append(["role": "assistant", "content": .string(stored.evalCase.expected.text)])
            out += JSONValue.object(["messages": .array(messages)]).serialized() + "\n"
        }
        return out
    }

    /// Plain text for llama.cpp's `llama-finetune`: every case in the variant's example format.
    package func fineTuningText(_ cases: [StoredCase], revision: ResolvedRevision) throws -> String {
        let format = try library.exampleFormat(revision)
        return try FewShot.render(cases.map(\.evalCase), format: format, separator: "\n\n") + "\n"
    }
}
