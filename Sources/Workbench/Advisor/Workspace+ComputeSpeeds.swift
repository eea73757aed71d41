import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

extension Workspace {
    /// The server's speeds over the answers of `runs`, from the compute it reported for each
    /// (`ServerTimings`: the prompt tokens it read, not those it found cached, and the tokens it
    /// generated, each with its milliseconds). Without timings, one speed for every token from
    /// the answers' latencies. Nil when no answer has tokens to measure by.
    func computeSpeeds(_ runs: [Int]) throws -> ComputeSpeeds? {
        var read = (ms: 0.0, tokens: 0.0)
        var generated = (ms: 0.0, tokens: 0.0)
        var whole = (ms: 0.0, tokens: 0.0)
        for response in try responses(of: runs) {
            if response.promptTokens != nil || response.completionTokens != nil {
                whole.ms += response.latencyMilliseconds
                whole.tokens += Double((response.promptTokens ?? 0) + (response.completionTokens ?? 0))
            }
            guard let timings = response.serverTimings else { continue }
            if let ms = timings.promptMilliseconds, let tokens = timings.promptTokensRead {
                read.ms += ms
                read.tokens += Double(tokens)
            }
            if let ms = timings.generationMilliseconds, let tokens = timings.generatedTokens {
                generated.ms += ms
                generated.tokens += Double(tokens)
            }
        }
        if read.tokens > 0, generated.tokens > 0 {
            return ComputeSpeeds(
                secondsPerPromptToken: read.ms / read.tokens / 1000,
                secondsPerGeneratedToken: generated.ms / generated.tokens / 1000, reportedByServer: true)
        }
        guard whole.tokens > 0 else { return nil }
        let perToken = whole.ms / whole.tokens / 1000
        return ComputeSpeeds(
            secondsPerPromptToken: perToken, secondsPerGeneratedToken: perToken, reportedByServer: false)
    }

    /// The mean prompt tokens the server read per answer of run `runID` (the rest it found in its
    /// prompt cache); nil when its answers do not say.
    func meanPromptTokensRead(_ runID: Int) throws -> Double? {
        let read = try responses(of: [runID]).compactMap { $0.serverTimings?.promptTokensRead }
        return read.isEmpty ? nil : Double(read.reduce(0, +)) / Double(read.count)
    }

    /// The cached answers behind the results of `runs`, with their timings.
    private func responses(of runs: [Int]) throws -> [Completion] {
        var keys: [String] = []
        for run in runs {
            try store.forEachResult(runID: run) { result in
                if let key = result.responseKey { keys.append(key) }
            }
        }
        let found = try store.cachedResponses(keys: keys, logprobs: false)
        return keys.compactMap { found[$0]?.completion(endpoint: "cache") }
    }
}
