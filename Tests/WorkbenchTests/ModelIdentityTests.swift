import Foundation
import ModelRuntime
import StubRuntime
import Synchronization
import Testing
import WorkbenchCore

@testable import Workbench

/// Two models with the same name are not the same model to the cache.
@Suite struct ModelIdentityTests {
    @Test func aDifferentFileOfTheSameNameIsNotAnsweredFromTheCache() async throws {
        let work = try StubWorkspace()
        var first = StubModel { StubWorkspace.keywordAnswer($0) }
        first.modelPath = try temporaryModelFile(Array("GGUF model one".utf8))
        var second = StubModel { _ in " positive" }
        second.modelPath = try temporaryModelFile(Array("GGUF model two".utf8))
        let stubA = try StubServer(model: first)
        let stubB = try StubServer(model: second)
        defer {
            stubA.stop()
            stubB.stop()
        }
        work.environment["PWB_ENDPOINT"] = stubA.url.absoluteString
        let a = try await work.evaluate(work.options { $0.variants = ["plain"] })
        work.environment["PWB_ENDPOINT"] = stubB.url.absoluteString
        let b = try await work.evaluate(work.options { $0.variants = ["plain"] })
        #expect(stubB.requests(to: "/completion").count == 8, "the other model.gguf was asked, not the cache")
        #expect(a.runs[0].run.model.hasPrefix("llama.cpp:model.gguf#"))
        #expect(a.runs[0].run.model != b.runs[0].run.model)
        #expect(b.runs[0].headline?.interval.estimate == 0.5, "its own answers: always positive")
        work.environment["PWB_ENDPOINT"] = stubA.url.absoluteString
        _ = try await work.evaluate(work.options { $0.variants = ["plain"] })
        #expect(stubA.requests(to: "/completion").count == 8, "the same file again is answered from the cache")
    }

    /// Servers on other machines: the weights' file cannot be read, so what each says of them
    /// tells two models of one name apart — llama.cpp's size and parameter count, an
    /// OpenAI-compatible model card's owner and root — and the run's heading says what did.
    @Test(arguments: ["llama.cpp", "openai"])
    func twoRemoteModelsOfOneNameAreTwoModelsByWhatTheirServersSay(provider: String) async throws {
        func server(_ size: Int, root: String) throws -> StubServer {
            let model = StubModel(name: "shared-name.gguf") { StubWorkspace.keywordAnswer($0) }
            return try StubServer(
                model: model,
                fault: { request in
                    guard request.path == "/v1/models" else { return nil }
                    return .json([
                        "data": [
                            [
                                "id": "shared-name.gguf", "owned_by": "someone", "root": .string(root),
                                "created": .number(Double(Int.random(in: 1...1_000_000))),
                                "meta": ["size": .number(Double(size)), "n_params": 268_098_176],
                            ]
                        ]
                    ])
                })
        }
        let stubA = try server(246_587_904, root: "/models/a")
        let stubB = try server(300_000_000, root: "/models/b")
        let stubA2 = try server(246_587_904, root: "/models/a")
        defer { [stubA, stubB, stubA2].forEach { $0.stop() } }
        let work = try StubWorkspace()
        work.environment["PWB_PROVIDER"] = provider
        if provider == "openai" { work.environment["PWB_MODEL"] = "shared-name.gguf" }
        func identity(_ stub: StubServer) async throws -> ConnectedModel {
            work.environment["PWB_ENDPOINT"] = stub.url.absoluteString + (provider == "openai" ? "/v1" : "")
            return try await work.workspace.runtime.connect(.automatic, environment: work.environment)
        }
        let a = try await identity(stubA)
        let b = try await identity(stubB)
        let again = try await identity(stubA2)
        #expect(a.identity != b.identity, "other weights under the same name")
        #expect(a.identity == again.identity, "the same weights on another server, a card made at another time")
        #expect(
            a.identityBasis
                == (provider == "openai"
                    ? "the server's model card (id, owner, root, size)" : "the model's path, size and parameter count"))
        work.environment["PWB_ENDPOINT"] = stubA.url.absoluteString + (provider == "openai" ? "/v1" : "")
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        #expect(report.runs[0].run.params.identityBasis == a.identityBasis)
    }

}
