import Foundation
import StubRuntime

// A stub model server in its own process, for benchmarks and trying pwb without a model.
//
// `pwb-stub-runtime [PORT] [DELAY_MS]` answers every prompt at once (or after DELAY_MS) with
// "positive" or "negative", in llama.cpp's, the OpenAI-compatible, Azure's and Ollama's wire formats.
//
// `pwb-stub-runtime --fine-tuning openai|azure [PORT]` serves a hosted fine-tuning API (OpenAI's
// under /v1, or Azure's data plane with api-version 2024-10-21; any key) beside a model that
// tells whether the last number in a prompt is even or odd: right for 60% of numbers under its
// base name, for 95% under a tuned model's name (`ft:…` or `….ft-…`).
let arguments = CommandLine.arguments
let server: StubServer
if arguments.count > 1 && arguments[1] == "--fine-tuning" {
    let flavor: StubFineTuningAPI.Flavor =
        arguments.count > 2 && arguments[2] == "azure" ? .azure(apiVersion: "2024-10-21") : .openAI
    let port = arguments.count > 3 ? Int(arguments[3]) ?? 0 : 0
    let api = StubFineTuningAPI(flavor: flavor, key: nil)
    server = try StubServer(model: .parity(), port: port) { api.handle($0) }
} else {
    let port = arguments.count > 1 ? Int(arguments[1]) ?? 0 : 0
    let delay = arguments.count > 2 ? (Double(arguments[2]) ?? 0) / 1000 : 0
    let model = StubModel { prompt in
        let review = prompt.components(separatedBy: "Review:").last ?? prompt
        return review.count % 2 == 0 ? " positive" : " negative"
    }
    server = try StubServer(model: model, port: port) { request in
        guard delay > 0 else { return nil }
        return .delayed(delay, model.reply(request))
    }
}
FileHandle.standardOutput.write(Data("listening on \(server.url.absoluteString)\n".utf8))
while true { sleep(3600) }
