import Foundation
import Testing

@testable import ModelRuntime

/// A GGUF header written byte by byte, as the format describes it.
struct GGUFWriter {
    var bytes: [UInt8] = Array("GGUF".utf8)
    var pairs: [[UInt8]] = []

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    static func string(_ text: String) -> [UInt8] { le(UInt64(text.utf8.count)) + Array(text.utf8) }

    mutating func add(_ key: String, type: UInt32, _ value: [UInt8]) {
        pairs.append(GGUFWriter.string(key) + GGUFWriter.le(type) + value)
    }

    func write(to path: String) throws {
        var data = bytes + GGUFWriter.le(UInt32(3)) + GGUFWriter.le(UInt64(0)) + GGUFWriter.le(UInt64(pairs.count))
        for pair in pairs { data += pair }
        data += [UInt8](repeating: 0, count: 64)  // where tensor data would follow
        try Data(data).write(to: URL(fileURLWithPath: path))
    }

    /// A Gemma-3-like header: architecture, a vocabulary (string array), scores (float array),
    /// then the window and context keys after the arrays, so reading must get past them.
    static func gemma(slidingWindow: UInt32?, context: UInt32 = 32768, vocabulary: Int = 3000) -> GGUFWriter {
        var writer = GGUFWriter()
        writer.add("general.architecture", type: 8, string("gemma3"))
        writer.add("general.name", type: 8, string("Gemma 3 ちいさい"))
        writer.add(
            "tokenizer.ggml.tokens", type: 9,
            le(UInt32(8)) + le(UInt64(vocabulary)) + (0..<vocabulary).flatMap { string("tok\($0)") })
        writer.add(
            "tokenizer.ggml.scores", type: 9,
            le(UInt32(6)) + le(UInt64(vocabulary)) + (0..<vocabulary).flatMap { le(Float(-$0).bitPattern) })
        writer.add("gemma3.context_length", type: 4, le(context))
        writer.add("gemma3.rope.freq_base", type: 6, le(Float(1_000_000).bitPattern))
        writer.add("gemma3.attention.use_swa", type: 7, [1])
        if let slidingWindow { writer.add("gemma3.attention.sliding_window", type: 4, le(slidingWindow)) }
        writer.add("general.file_type", type: 11, le(Int64(15)))
        return writer
    }
}

@Suite struct ManagedServerLaunchTests {
    let folder = NSTemporaryDirectory() + "pwb-gguf-" + UUID().uuidString

    init() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    @Test func readsTheSlidingWindowPastTheVocabulary() throws {
        let path = folder + "/model.gguf"
        // A vocabulary larger than one read buffer (1 MiB), as real models have.
        try GGUFWriter.gemma(slidingWindow: 512, vocabulary: 120_000).write(to: path)
        let metadata = try GGUFMetadata(path: path)
        #expect(metadata.architecture == "gemma3")
        #expect(metadata.slidingWindow == 512)
        #expect(metadata.trainedContextLength == 32768)
        #expect(metadata.values["general.name"] == .text("Gemma 3 ちいさい"))
        #expect(metadata.values["tokenizer.ggml.tokens"] == .array(count: 120_000))
        #expect(metadata.values["gemma3.rope.freq_base"] == .float(1_000_000))
        #expect(metadata.values["gemma3.attention.use_swa"] == .bool(true))
        #expect(metadata.values["general.file_type"] == .integer(15))
    }

    @Test func aSlidingWindowModelKeepsItsFullCache() throws {
        let path = folder + "/swa.gguf"
        try GGUFWriter.gemma(slidingWindow: 512).write(to: path)
        let arguments = ManagedServer.launchArguments(
            binary: "/bin/llama-server", port: 8181, model: path, slots: 2, contextPerSlot: 4096,
            metadata: ManagedServer.metadata(model: path))
        #expect(arguments.contains("--swa-full"))
        #expect(arguments.containsSequence(["--parallel", "2"]))
        #expect(arguments.containsSequence(["--ctx-size", "8192"]))
    }

    @Test func aModelWithoutAWindowOrAReadableHeaderStartsPlain() throws {
        let path = folder + "/full.gguf"
        try GGUFWriter.gemma(slidingWindow: nil).write(to: path)
        let plain = ManagedServer.launchArguments(
            binary: "/bin/llama-server", port: 8181, model: path, slots: 4, contextPerSlot: 2048,
            metadata: ManagedServer.metadata(model: path))
        #expect(!plain.contains("--swa-full"))
        #expect(plain.containsSequence(["--ctx-size", "8192"]))
        let unreadable = folder + "/broken.gguf"
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: unreadable))
        #expect(ManagedServer.metadata(model: unreadable) == nil)
        #expect(throws: GGUFError.self) { try GGUFMetadata(path: unreadable) }
    }

    @Test func theContextPerSlotIsCappedAtTheTrainedLength() throws {
        let path = folder + "/short.gguf"
        try GGUFWriter.gemma(slidingWindow: 512, context: 2048).write(to: path)
        let arguments = ManagedServer.launchArguments(
            binary: "/bin/llama-server", port: 8181, model: path, slots: 3, contextPerSlot: 4096,
            metadata: ManagedServer.metadata(model: path))
        #expect(arguments.containsSequence(["--ctx-size", "6144"]))
    }

    @Test func aTruncatedHeaderIsAnError() throws {
        let path = folder + "/cut.gguf"
        try GGUFWriter.gemma(slidingWindow: 512).write(to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(200).write(to: URL(fileURLWithPath: path))
        #expect(throws: GGUFError.self) { try GGUFMetadata(path: path) }
    }

    @Test func residentMemoryOfThisProcessIsKnown() {
        let bytes = ManagedServer.residentBytes(pid: getpid())
        #expect((bytes ?? 0) > 1 << 20)
        #expect(ManagedServer.commandLine(pid: getpid()).isEmpty == false)
    }
}

extension Array where Element: Equatable {
    func containsSequence(_ sequence: [Element]) -> Bool {
        guard sequence.count <= count else { return false }
        return (0...(count - sequence.count)).contains { Array(self[$0..<($0 + sequence.count)]) == sequence }
    }
}
