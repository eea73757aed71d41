import Foundation
import WorkbenchCore

#if canImport(Glibc)
    import Glibc
#endif

/// What a model is, for the response cache and stored runs: the provider kind, the model served
/// (its file name, or its name elsewhere), a fingerprint of its content when one can be had, and
/// the LoRA adapter applied to it, rendered as `llama.cpp:FILE#FINGERPRINT+lora:HASH@1`. Two GGUF
/// files both called `model.gguf`, or an Ollama tag pulled again, differ by their fingerprint.
package struct ModelIdentity: Sendable, Hashable, CustomStringConvertible {
    /// A LoRA adapter applied to the model: the first 16 hex digits of its content hash, and its scale.
    package struct Adapter: Sendable, Hashable {
        package var hash: String
        package var scale: Double

        package init(hash: String, scale: Double = 1) {
            self.hash = String(hash.prefix(16))
            self.scale = scale
        }
    }

    package var kind: ProviderKind
    /// The served model's file name (a server's path loses its folders) or its name.
    package var served: String
    /// 16 hex digits of the served model's content; nil when nothing tells it apart but its name.
    package var fingerprint: String?
    /// What the fingerprint was read from, in words: not part of the identity's text.
    package var basis: String
    /// The basis of a model file on this machine, read: what a heading need not say.
    package static let fileContentBasis = "the model file's content"
    package var adapter: Adapter?

    package init(
        kind: ProviderKind, served: String, fingerprint: String? = nil, basis: String = "the name alone",
        adapter: Adapter? = nil
    ) {
        self.kind = kind
        self.served = served
        self.fingerprint = fingerprint
        self.basis = basis
        self.adapter = adapter
    }

    /// The identity of what `properties` describe, served by `kind` from `endpoints`; `name` when
    /// the server names no model.
    init(kind: ProviderKind, name: String, properties: ServerProperties, servedFrom endpoints: [URL]) {
        let (content, basis) = ModelIdentity.content(properties, servedFrom: endpoints)
        self.init(
            kind: kind, served: properties.model.map { ($0 as NSString).lastPathComponent } ?? name,
            fingerprint: content, basis: basis)
    }

    /// The same model without an adapter.
    package var base: ModelIdentity {
        var base = self
        base.adapter = nil
        return base
    }

    /// The same model with `adapter` applied.
    package func applying(_ adapter: Adapter) -> ModelIdentity {
        var applied = self
        applied.adapter = adapter
        return applied
    }

    /// As response cache keys and stored runs have it: `KIND:SERVED#FINGERPRINT+lora:HASH@SCALE`.
    package var description: String {
        var text = "\(kind.rawValue):\(served)"
        if let fingerprint { text += "#" + fingerprint }
        if let adapter {
            text += "+lora:\(adapter.hash)@" + String(format: "%g", adapter.scale)
        }
        return text
    }
}

extension ModelIdentity {
    /// How much of each end of a model file is read: a GGUF file starts with its metadata and
    /// ends in weights, so a different model differs in its size or one of its ends. Small, so
    /// that every command that connects pays next to nothing for it.
    static let sampled = 64 << 10

    /// For a model file on this machine: SHA-256 over its size, its first and its last 64 KiB, as
    /// 16 hex digits; nil when there is no such regular file here (a server on another machine).
    ///
    /// The path is whatever a server says, so it is opened without waiting (a FIFO would block
    /// the open until a writer came) and read only when it is a regular file (a FIFO or a device
    /// could block or never end).
    package static func fingerprint(path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else { return nil }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            return nil
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        guard let size = try? handle.seekToEnd(), size > 0 else { return nil }
        var hasher = SHA256()
        hasher.update(Array(String(size).utf8))
        try? handle.seek(toOffset: 0)
        hasher.update([UInt8]((try? handle.read(upToCount: sampled)) ?? Data()))
        if size > UInt64(sampled) {
            try? handle.seek(toOffset: size - UInt64(sampled))
            hasher.update([UInt8]((try? handle.read(upToCount: sampled)) ?? Data()))
        }
        return hex(hasher.finalize())
    }

    /// The fingerprint of the model file a server names, only when every endpoint is on this
    /// machine (the managed runtime, or a loopback server): a remote server's path names a file
    /// there, and a file of the same path here is some other file, or one a server could point
    /// pwb at to make it read.
    static func fingerprint(path: String, servedFrom endpoints: [URL]) -> String? {
        guard !endpoints.isEmpty, endpoints.allSatisfy(Loopback.contains) else { return nil }
        return fingerprint(path: path)
    }

    /// What tells the served model apart, 16 hex digits, and what that was read from: a digest the
    /// server gives (Ollama), the model file on this machine, or what the server says of the
    /// weights (their size and parameter count, a model card); nil, "the name alone", when the
    /// server says nothing that two different models could not share.
    static func content(_ properties: ServerProperties, servedFrom endpoints: [URL]) -> (String?, String) {
        if let digest = properties.digest { return (short(digest), "the server's digest of the weights") }
        if let path = properties.model, let file = fingerprint(path: path, servedFrom: endpoints) {
            return (file, Self.fileContentBasis)
        }
        if let (text, basis) = properties.description { return (String(SHA256.hex(text).prefix(16)), basis) }
        return (nil, "the name alone")
    }

    /// A server's own digest (`sha256:…`), shortened the same way.
    static func short(_ digest: String) -> String {
        let hexDigits = digest.split(separator: ":").last.map(String.init) ?? digest
        return String(hexDigits.prefix(16))
    }

    private static func hex(_ digest: [UInt8]) -> String {
        digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
