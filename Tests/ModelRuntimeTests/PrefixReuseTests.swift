import Foundation
import Testing
import WorkbenchCore

@testable import ModelRuntime

/// The managed server reuses a shared prompt prefix from a slot's cache (real server and model).
@Suite(.realLlamaServer, .serialized)
struct PrefixReuseTests {
    let http = HTTPClient()
    var provider: LlamaCppProvider { LlamaCppProvider(endpoint: RealLlamaServer.endpoint!, http: http) }

    static let examples = """
        以下はお問い合わせと、その担当窓口の記録です。

        本文: 注文した商品がまだ届きません。いつ発送されますか。
        担当: 配送

        本文: サイズが合わなかったので交換したいです。
        担当: 返品

        本文: クレジットカードの引き落とし日を教えてください。
        担当: 支払い

        """

    @Test func theDefaultModelUsesSlidingWindowAttention() throws {
        let server = ManagedServer(
            stateDirectory: NSTemporaryDirectory(), environment: ProcessInfo.processInfo.environment, http: http)
        let metadata = try GGUFMetadata(path: try server.defaultModelPath())
        #expect(metadata.architecture == "gemma3")
        #expect((metadata.slidingWindow ?? 0) > 0)
    }

    @Test func aSecondPromptWithTheSameExamplesReusesThem() async throws {
        let shared = try #require(try await provider.tokenCount(Self.examples, timeout: 10))
        var first = CompletionRequest(
            prompt: .text(Self.examples + "本文: パスワードを忘れてログインできません。\n担当:"), maxTokens: 4, stop: ["\n"])
        first.slot = 1
        _ = try await provider.complete(first, timeout: 60)
        var second = first
        second.prompt = .text(Self.examples + "本文: 届いた箱が潰れていました。返品できますか。\n担当:")
        let answer = try await provider.complete(second, timeout: 60)
        let reused = try #require(answer.serverTimings?.promptTokensCached)
        // All of the shared block but the last token or two (the tokenizer may merge across it).
        #expect(reused >= shared - 3, "reused \(reused) of \(shared) shared tokens")
        #expect((answer.promptTokens ?? 0) > reused)
    }
}
