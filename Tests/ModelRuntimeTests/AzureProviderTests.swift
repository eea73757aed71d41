import Foundation
import StubRuntime
import Testing
import WorkbenchCore

@testable import ModelRuntime

/// Azure OpenAI's data plane: deployment paths, the `api-version` query and the `api-key` header.
struct AzureProviderTests {
    static let model = StubModel { prompt in prompt.contains("great") ? "positive" : "negative" }

    func configuration(_ fields: String) throws -> ModelConfiguration {
        let text = #"{"models": {"az": {"provider": "azure", \#(fields)}}}"#
        return try #require(
            try RuntimeConfiguration(parsing: text, path: ".pwb/config.json", environment: [:]).select("az"))
    }

    @Test func chatAndCompletionsGoToTheDeploymentWithTheKeyInAnAPIKeyHeader() async throws {
        let server = try StubServer(model: Self.model)
        defer { server.stop() }
        let azure = try configuration(
            #""endpoint": "\#(server.url.absoluteString)", "model": "gpt4o-mini-prod", "api_key_env": "AZURE_OPENAI_API_KEY""#
        )
        let client = try azure.client(http: HTTPClient(), environment: ["AZURE_OPENAI_API_KEY": "az-secret"])
        #expect(client.kind == .azure)
        let chat = try await client.complete(
            CompletionRequest(
                prompt: .chat([
                    ChatMessage(role: "system", content: "Label it."),
                    ChatMessage(role: "user", content: "a great day"),
                ]),
                maxTokens: 2, topLogprobs: 2))
        #expect(chat.text == "positive")
        #expect(chat.model == "gpt4o-mini-prod")
        #expect(chat.logprobs?.first?.token == " positive")
        let text = try await client.complete(CompletionRequest(prompt: .text("a dull day"), maxTokens: 2, stop: ["\n"]))
        #expect(text.text == "negative")
        let paths = server.requests.map(\.path)
        #expect(
            paths == [
                "/openai/deployments/gpt4o-mini-prod/chat/completions?api-version=2024-10-21",
                "/openai/deployments/gpt4o-mini-prod/completions?api-version=2024-10-21",
            ])
        for request in server.requests {
            #expect(request.headers["api-key"] == "az-secret")
            #expect(request.headers["authorization"] == nil)
            // The deployment names the model; the body does not.
            #expect(request.json?["model"] == nil)
        }
        #expect(server.requests[0].json?["messages"]?.arrayValue?.count == 2)
        #expect(server.requests[1].json?["stop"] == ["\n"])
    }

    @Test func theAPIVersionComesFromTheConfiguration() async throws {
        let server = try StubServer(model: Self.model)
        defer { server.stop() }
        let azure = try configuration(
            #""endpoint": "\#(server.url.absoluteString)", "model": "dep", "api_version": "2025-04-01-preview""#)
        #expect(azure.azureAPIVersion == "2025-04-01-preview")
        let client = try azure.client(http: HTTPClient(), environment: [:])
        let properties = try await client.properties()
        #expect(properties.model == "dep")
        _ = try await client.complete(CompletionRequest(prompt: .chat([ChatMessage(role: "user", content: "x")])))
        #expect(
            server.requests.map(\.path) == [
                "/openai/models?api-version=2025-04-01-preview",
                "/openai/deployments/dep/chat/completions?api-version=2025-04-01-preview",
            ])
    }

    @Test func aWrongKeyIsAConfigurationRefusalNamingTheKeySetting() async throws {
        let server = try StubServer(model: Self.model) { request in
            request.headers["api-key"] == "right" ? nil : .status(401, "Access denied due to invalid subscription key")
        }
        defer { server.stop() }
        let azure = try configuration(
            #""endpoint": "\#(server.url.absoluteString)", "model": "dep", "api_key_env": "AZURE_OPENAI_API_KEY""#)
        let client = try azure.client(http: HTTPClient(), environment: ["AZURE_OPENAI_API_KEY": "wrong"])
        let error = await #expect(throws: ModelError.self) {
            try await client.complete(CompletionRequest(prompt: .chat([ChatMessage(role: "user", content: "x")])))
        }
        #expect(error?.isConfigurationRefusal == true)
        #expect(error?.description.contains("check the key (api_key_env)") == true)
        #expect(error?.description.contains("wrong") == false)
    }

    @Test(
        arguments: [
            (#""endpoint": "https://r.openai.azure.com""#, "models.az.model", "needs its deployment's name"),
            (
                #""endpoint": "https://r.openai.azure.com", "model": "../admin""#, "models.az.model",
                "is not a deployment name"
            ),
            (
                #""endpoint": "https://r.openai.azure.com", "model": "d", "api_version": "2024-10-21&x=1""#,
                "models.az.api_version", "is not an API version"
            ),
            (
                #""endpoint": "https://r.openai.azure.com", "model": "d", "api_version": 2024"#,
                "models.az.api_version", "must be text"
            ),
        ] as [(String, String, String)])
    func badAzureSettingsNameTheirField(_ fields: String, _ field: String, _ fragment: String) {
        let error = #expect(throws: InputError.self) { try configuration(fields) }
        #expect(error?.field == field, "\(String(describing: error))")
        #expect(error?.description.contains(fragment) == true, "\(String(describing: error))")
    }

    @Test func onlyAnAzureModelTakesAnAPIVersion() {
        let text =
            #"{"models": {"o": {"provider": "openai", "endpoint": "https://api.openai.com/v1", "model": "m", "api_version": "2024-10-21"}}}"#
        let error = #expect(throws: InputError.self) {
            try RuntimeConfiguration(parsing: text, path: ".pwb/config.json", environment: [:])
        }
        #expect(error?.field == "models.o.api_version")
        #expect(error?.description.contains("is an Azure setting") == true)
    }

    @Test func theKeyRulesHoldForAzureToo() throws {
        let remote = try configuration(
            #""endpoint": "http://10.1.2.3:8080", "model": "d", "api_key_env": "AZURE_OPENAI_API_KEY""#)
        let error = #expect(throws: InputError.self) {
            try remote.client(http: HTTPClient(), environment: ["AZURE_OPENAI_API_KEY": "az-secret"])
        }
        #expect(error?.description.contains("in plain text over http:// to 10.1.2.3") == true)
        #expect(error?.description.contains("az-secret") == false)
        let secure = try configuration(
            #""endpoint": "https://r.openai.azure.com", "model": "d", "api_key_env": "AZURE_OPENAI_API_KEY""#)
        let injected = #expect(throws: InputError.self) {
            try secure.client(http: HTTPClient(), environment: ["AZURE_OPENAI_API_KEY": "key\r\nX-Evil: 1"])
        }
        #expect(injected?.description.contains("a line break or another control character") == true)
        #expect(injected?.description.contains("X-Evil") == false)
        let error2 = #expect(throws: InputError.self) {
            try configuration(#""endpoint": "https://r", "model": "d", "api_key_env": "AZURE_TOKEN""#)
        }
        #expect(error2?.field == "models.az.api_key_env")
    }
}
