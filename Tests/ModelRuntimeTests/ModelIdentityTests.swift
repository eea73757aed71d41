import Foundation
import StubRuntime
import Synchronization
import Testing
import WorkbenchCore

@testable import ModelRuntime

/// What tells two models of the same name apart: their content, read only where it is safe.
@Suite struct ModelIdentityTests {
    @Test func theFingerprintFollowsTheContentNotTheName() throws {
        let head = [UInt8](repeating: 7, count: 200 << 10)
        let a = try temporaryModelFile(head + [1])
        let b = try temporaryModelFile(head + [2])
        let c = try temporaryModelFile(head + [1])
        #expect(ModelIdentity.fingerprint(path: a) != ModelIdentity.fingerprint(path: b), "the tail differs")
        #expect(ModelIdentity.fingerprint(path: a) == ModelIdentity.fingerprint(path: c))
        #expect(ModelIdentity.fingerprint(path: a)?.count == 16)
        #expect(ModelIdentity.fingerprint(path: "/models/not-here.gguf") == nil)
    }

    /// A server may name any path as its model: a FIFO would block the open forever, a device
    /// would never end. Only a regular file is read, opened without waiting.
    @Test func aFIFONamedAsTheModelIsNotWaitedOn() throws {
        let folder = NSTemporaryDirectory() + "pwb-model-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fifo = folder + "/model.gguf"
        #expect(mkfifo(fifo, 0o644) == 0)
        let outcome = Mutex<String??>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            let fingerprint = ModelIdentity.fingerprint(path: fifo)
            outcome.withLock { $0 = .some(fingerprint) }
            done.signal()
        }.start()
        if done.wait(timeout: .now() + 5) == .timedOut {
            // Let the stuck open go (a writer appears and leaves), then fail.
            let writer = open(fifo, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
            Issue.record("the fingerprint waited on a FIFO")
            return
        }
        #expect(outcome.withLock { $0 } == .some(nil))
        #expect(ModelIdentity.fingerprint(path: "/dev/zero") == nil, "a device is not a model file")
    }

    @Test func onlyAServerOnThisMachineHasItsModelFileRead() throws {
        let path = try temporaryModelFile(Array("GGUF model".utf8))
        let local = [URL(string: "http://127.0.0.1:8181")!]
        #expect(ModelIdentity.fingerprint(path: path, servedFrom: local) == ModelIdentity.fingerprint(path: path))
        #expect(ModelIdentity.fingerprint(path: path, servedFrom: [URL(string: "http://10.1.2.3:8080")!]) == nil)
        #expect(ModelIdentity.fingerprint(path: path, servedFrom: local + [URL(string: "https://gpu1:8000")!]) == nil)
    }

    @Test func anOllamaDigestIsPartOfTheIdentity() async throws {
        let server = try StubServer(model: StubModel(name: "gemma3:270m") { _ in " ok" })
        defer { server.stop() }
        let properties = try await OllamaProvider(endpoint: server.url, model: "gemma3:270m", http: HTTPClient())
            .properties(timeout: 10)
        #expect(properties.digest == "sha256:" + SHA256.hex("gemma3:270m"))
        #expect(ModelIdentity.short(properties.digest!) == String(SHA256.hex("gemma3:270m").prefix(16)))
        // The identity the cache keys carry holds the digest, so another build under the same tag is
        // another model.
        let identity = ModelIdentity(
            kind: .ollama, name: "gemma3:270m", properties: properties, servedFrom: [server.url])
        #expect(identity.fingerprint == String(SHA256.hex("gemma3:270m").prefix(16)))
        #expect(identity.basis == "the server's digest of the weights")
        #expect(identity.description.hasSuffix("#" + SHA256.hex("gemma3:270m").prefix(16)), "\(identity)")
    }
}
