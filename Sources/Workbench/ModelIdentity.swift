import Foundation
import WorkbenchCore

/// What tells two models apart in the response cache when their names are the same: two GGUF
/// files both called `model.gguf`, or an Ollama tag pulled again.
enum ModelIdentity {
    /// How much of each end of a model file is read: a GGUF file starts with its metadata and
    /// ends in weights, so a different model differs in its size or one of its ends. Small, so
    /// that every command that connects pays next to nothing for it.
    static let sampled = 64 << 10

    /// For a model file on this machine: SHA-256 over its size, its first and its last 64 KiB, as
    /// 16 hex digits; nil when there is no such file here (a server on another machine).
    static func fingerprint(path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
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

    /// A server's own digest (`sha256:…`), shortened the same way.
    static func short(_ digest: String) -> String {
        let hexDigits = digest.split(separator: ":").last.map(String.init) ?? digest
        return String(hexDigits.prefix(16))
    }

    private static func hex(_ digest: [UInt8]) -> String {
        digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
