import Foundation
import StubRuntime

// A stub model server in its own process, for benchmarks and trying pwb without a model:
// `pwb-stub-runtime [PORT] [DELAY_MS]` answers every prompt at once (or after DELAY_MS) with
// "positive" or "negative", in llama.cpp's, the OpenAI-compatible and Ollama's wire formats.
let arguments = CommandLine.arguments
let port = arguments.count > 1 ? Int(arguments[1]) ?? 0 : 0
let delay = arguments.count > 2 ? (Double(arguments[2]) ?? 0) / 1000 : 0
let model = StubModel { prompt in
    let review = prompt.components(separatedBy: "Review:").last ?? prompt
    return review.count % 2 == 0 ? " positive" : " negative"
}
let server = try StubServer(model: model, port: port) { request in
    guard delay > 0 else { return nil }
    return .delayed(delay, model.reply(request))
}
FileHandle.standardOutput.write(Data("listening on \(server.url.absoluteString)\n".utf8))
while true { sleep(3600) }
