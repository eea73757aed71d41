import Foundation
import ModelRuntime
import WorkbenchCore

/// Turns a revision and a case into the request sent to the model.
package enum Prompting {
    /// The default number of tokens to generate when the prompt file does not say.
    package static let defaultMaxTokens = 256

    /// Renders `file` with `vars` and the slots, and sets sampling from its front matter.
    /// Errors name `reference` (e.g. `sentiment/question@2`) and the line.
    package static func request(
        _ file: PromptFile, reference: String, vars: [String: String], examples: String? = nil, context: String? = nil,
        seed: Int? = nil, topLogprobs: Int = 0
    ) throws -> CompletionRequest {
        var values = vars
        if let examples { values[TemplateBody.examplesSlot] = examples }
        if let context { values[TemplateBody.contextSlot] = context }
        let text: String
        do {
            text = try file.body.render(values)
        } catch let error as InputError {
            throw error.located(in: reference)
        }
        let settings = file.settings
        let prompt: CompletionRequest.Prompt
        switch settings.mode {
        case .completion: prompt = .text(text)
        case .chat:
            var messages: [ChatMessage] = []
            if let system = settings.system { messages.append(ChatMessage(role: "system", content: system)) }
            messages.append(ChatMessage(role: "user", content: text))
            prompt = .chat(messages)
        }
        return CompletionRequest(
            prompt: prompt, maxTokens: settings.maxTokens ?? defaultMaxTokens, temperature: settings.temperature ?? 0,
            topP: settings.topP, topK: settings.topK, stop: settings.stop, seed: seed, topLogprobs: topLogprobs)
    }
}
