import Foundation
import Testing
import WorkbenchCore

@testable import ModelRuntime

struct ConfigurationTests {
    static let text = """
        {"default": "vllm", "timeout_seconds": 30,
         "models": {
           "vllm": {"provider": "openai", "endpoints": ["https://gpu1:8000/v1", "https://gpu2:8000/v1"],
                    "model": "Qwen/Qwen2.5-7B-Instruct", "api_key_env": "VLLM_API_KEY"},
           "ollama": {"provider": "ollama", "endpoint": "http://localhost:11434", "model": "gemma3:270m", "retries": 0}
         }}
        """

    func configuration(_ environment: [String: String] = [:]) throws -> RuntimeConfiguration {
        try RuntimeConfiguration(parsing: Self.text, path: ".pwb/config.json", environment: environment)
    }

    @Test func selectsTheDefaultANamedModelOrTheManagedOne() throws {
        let vllm = try #require(try configuration().select(nil))
        #expect(vllm.provider == .openAI)
        #expect(vllm.endpoints.map(\.absoluteString) == ["https://gpu1:8000/v1", "https://gpu2:8000/v1"])
        #expect(vllm.timeoutSeconds == 30)
        let ollama = try #require(try configuration().select("ollama"))
        #expect(ollama.retries == 0)
        #expect(try configuration(["PWB_MODEL": "ollama"]).select(nil)?.name == "ollama")
        #expect(try RuntimeConfiguration(environment: [:]).select(nil) == nil)
        #expect(try RuntimeConfiguration(environment: [:]).select("local") == nil)
    }

    @Test func theEnvironmentOverridesEndpointsAndProvider() throws {
        let overridden = try #require(
            try configuration(["PWB_ENDPOINT": "http://a:1/v1,http://b:2/v1", "PWB_PROVIDER": "llama.cpp"]).select(nil))
        #expect(overridden.name == "vllm")
        #expect(overridden.provider == .llamaCpp)
        #expect(overridden.endpoints.map(\.absoluteString) == ["http://a:1/v1", "http://b:2/v1"])
        let adHoc = try #require(
            try RuntimeConfiguration(environment: ["PWB_ENDPOINT": "http://127.0.0.1:9000", "PWB_MODEL": "m1"]).select(
                nil))
        #expect(adHoc.provider == .llamaCpp)
        #expect(adHoc.model == "m1")
    }

    @Test func theAPIKeyComesFromTheEnvironmentOnly() throws {
        let vllm = try #require(try configuration().select(nil))
        let error = #expect(throws: InputError.self) { try vllm.client(http: HTTPClient(), environment: [:]) }
        #expect(error?.description.contains("VLLM_API_KEY, which is not set") == true)
        let client = try vllm.client(http: HTTPClient(), environment: ["VLLM_API_KEY": "secret"])
        #expect(client.providers.count == 2)
        #expect(client.retry.attempts == 4)
    }

    @Test(
        arguments: [
            (#"{"models": {"x": {"provider": "gpt"}}}"#, "models.x.provider", "is not a provider"),
            (#"{"models": {"x": {"endpoints": ["ftp://x"]}}}"#, nil, "is not an http:// or https:// URL"),
            (#"{"models": {"x": {}}}"#, "models.x.endpoints", "is missing"),
            (#"{"default": "y", "models": {"x": {"endpoint": "http://a"}}}"#, "default", "not among the models"),
            (#"{"timeout": 3}"#, "timeout", "is not a setting"),
            // Numbers with ranges, as options have: a thousand-year wait or a quadrillion retries
            // is a command that never ends.
            (#"{"timeout_seconds": 1e300}"#, "timeout_seconds", "between 0 and 86400"),
            (#"{"retries": 3000000000000000}"#, "retries", "0 to 100"),
            (
                #"{"models": {"x": {"endpoint": "http://a", "timeout_seconds": 1e12}}}"#, "models.x.timeout_seconds",
                "between 0 and 86400"
            ),
            (#"{"models": {"x": {"endpoint": "http://a", "retries": 101}}}"#, "models.x.retries", "0 to 100"),
        ] as [(String, String?, String)])
    func rejectsBadConfiguration(text: String, field: String?, fragment: String) {
        let error = #expect(throws: InputError.self) {
            try RuntimeConfiguration(parsing: text, path: ".pwb/config.json", environment: [:])
        }
        #expect(error?.field == field, "\(String(describing: error))")
        #expect(error?.description.contains(fragment) == true, "\(String(describing: error))")
    }

    @Test func unknownModelNamesAreUsageErrors() throws {
        let error = #expect(throws: Refusal.self) { try configuration().select("vlm") }
        #expect(error?.description.contains("known: ollama, vllm, local") == true)
    }

    @Test func retryDelaysGrowWithJitterAndRespectRetryAfter() {
        let policy = RetryPolicy(attempts: 5, baseDelay: 0.5, maxDelay: 4)
        for attempt in 0..<5 {
            let bound = min(4, 0.5 * pow(2, Double(attempt)))
            let delay = policy.delay(afterAttempt: attempt, retryAfter: nil)
            #expect(delay >= bound / 2 && delay <= bound)
        }
        #expect(policy.delay(afterAttempt: 0, retryAfter: 7) == 7)
        #expect(JSONTransport.retryAfter("3") == 3)
        #expect(JSONTransport.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == 0)
    }
}

struct ConfigurationTypeTests {
    @Test(arguments: [
        (#"{"default": 1, "models": {"x": {"endpoint": "http://a"}}}"#, "default"),
        (#"{"models": []}"#, "models"),
        (#"{"models": {"x": {"endpoint": "http://a", "api_key_env": 5}}}"#, "models.x.api_key_env"),
        (#"{"models": {"x": {"endpoint": "http://a", "timeout_seconds": "60"}}}"#, "models.x.timeout_seconds"),
        (#"{"models": {"x": {"endpoint": "http://a", "retries": -2}}}"#, "models.x.retries"),
    ])
    func wrongTypesNameTheirField(text: String, field: String) {
        let error = #expect(throws: InputError.self) {
            try RuntimeConfiguration(parsing: text, path: ".pwb/config.json", environment: [:])
        }
        #expect(error?.field == field, "\(String(describing: error))")
    }
}
