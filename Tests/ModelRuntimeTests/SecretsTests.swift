import Foundation
import Testing
import WorkbenchCore

@testable import ModelRuntime

/// What pwb sends where: a key only from a key's variable, never in plain text off this machine,
/// and no credentials in URLs that messages would print.
struct SecretsTests {
    func model(_ endpoint: String, key: String = "VLLM_API_KEY") throws -> ModelConfiguration {
        let text =
            #"{"models": {"m": {"provider": "openai", "endpoint": "\#(endpoint)", "model": "x", "api_key_env": "\#(key)"}}}"#
        return try #require(
            try RuntimeConfiguration(parsing: text, path: ".pwb/config.json", environment: [:]).select(nil))
    }

    @Test(arguments: ["GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "HOME", "vllm_api_key"])
    func aConfigurationCannotPickAnySecret(_ variable: String) {
        let error = #expect(throws: InputError.self) { try model("https://api.example.com/v1", key: variable) }
        #expect(error?.field == "models.m.api_key_env")
        #expect(error?.description.contains("ends in _API_KEY or starts with PWB_") == true)
    }

    @Test func aKeyIsNotSentInPlainTextToAnotherMachine() throws {
        let remote = try model("http://gpu1:8000/v1")
        let error = #expect(throws: InputError.self) {
            try remote.client(http: HTTPClient(), environment: ["VLLM_API_KEY": "sk-secret"])
        }
        #expect(
            error?.description.contains("would send the key from VLLM_API_KEY in plain text over http:// to gpu1")
                == true)
        #expect(error?.description.contains("sk-secret") == false)
        for allowed in [
            "https://gpu1:8000/v1", "http://127.0.0.1:8000/v1", "http://localhost:8000/v1", "http://[::1]:8000/v1",
        ] {
            #expect(throws: Never.self) {
                try model(allowed).client(http: HTTPClient(), environment: ["VLLM_API_KEY": "sk-secret"])
            }
        }
    }

    /// A host is this machine only when it is a loopback address or `localhost`, not when its
    /// name merely begins like one: the name can resolve to any machine.
    @Test(arguments: [
        "http://127.attacker.example:9643/v1", "http://127.0.0.1.attacker.example/v1",
        "http://localhost.attacker.example/v1", "http://127.1:8000/v1", "http://[::2]:8000/v1",
        "http://[::ffff:10.0.0.1]:8000/v1",
    ])
    func aHostThatOnlyLooksLikeThisMachineGetsNoKeyInPlainText(_ endpoint: String) throws {
        let error = #expect(throws: InputError.self) {
            try model(endpoint).client(http: HTTPClient(), environment: ["VLLM_API_KEY": "sk-secret"])
        }
        #expect(error?.description.contains("in plain text over http://") == true, "\(endpoint)")
    }

    @Test func loopbackAddressesAreThisMachine() throws {
        for host in [
            "http://127.0.0.1:1", "http://127.255.3.4:1", "http://LOCALHOST:1", "http://[::1]:1",
            "http://[0:0:0:0:0:0:0:1]:1", "http://[::ffff:127.0.0.1]:1",
        ] {
            #expect(Loopback.contains(try #require(URL(string: host))), "\(host)")
        }
        for host in ["http://128.0.0.1:1", "http://127.0.0.1.example:1", "http://[::]:1", "http://0x7f.0.0.1:1"] {
            #expect(!Loopback.contains(try #require(URL(string: host))), "\(host)")
        }
    }

    @Test func anEndpointWithCredentialsIsRefusedWithoutPrintingThem() {
        let error = #expect(throws: InputError.self) { try model("https://alice:hunter2@api.example.com/v1") }
        #expect(error?.description.contains("carries a user name or password") == true)
        #expect(error?.description.contains("hunter2") == false)
        let fromEnvironment = #expect(throws: InputError.self) {
            try RuntimeConfiguration(environment: ["PWB_ENDPOINT": "http://bob:pw123@10.0.0.2:8080"]).select(nil)
        }
        #expect(fromEnvironment?.description.contains("pw123") == false)
    }
}
