import Foundation

/// The key–value header of a GGUF model file: the scalar and text values (arrays, such as the
/// vocabulary, are skipped), read without loading the tensors.
///
/// Layout (little-endian): `GGUF`, version u32, tensor count u64, key–value count u64, then per
/// pair a string key (u64 length + UTF-8), a u32 type and the value.
package struct GGUFMetadata: Sendable, Hashable {
    package enum Value: Sendable, Hashable {
        case integer(Int64)
        case float(Double)
        case bool(Bool)
        case text(String)
        /// An array, kept as its element count only.
        case array(count: UInt64)
    }

    package var values: [String: Value]

    package init(values: [String: Value]) {
        self.values = values
    }

    /// `general.architecture`, e.g. `gemma3`.
    package var architecture: String? {
        if case .text(let name)? = values["general.architecture"] { return name }
        return nil
    }

    /// An integer value of the architecture's own keys, e.g. `attention.sliding_window`.
    package func architectureInteger(_ suffix: String) -> Int? {
        guard let architecture, case .integer(let value)? = values[architecture + "." + suffix] else { return nil }
        return Int(value)
    }

    /// The attention window in tokens when the model uses sliding-window attention (Gemma 2 and 3,
    /// Cohere 2, …); nil when every layer attends to the whole context.
    package var slidingWindow: Int? { architectureInteger("attention.sliding_window").flatMap { $0 > 0 ? $0 : nil } }

    /// The context length the model was trained for.
    package var trainedContextLength: Int? { architectureInteger("context_length") }

    /// Reads the header of the file at `path`.
    package init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw GGUFError(path: path, reason: "cannot be opened")
        }
        defer { try? handle.close() }
        var reader = Reader(handle: handle, path: path)
        guard try reader.bytes(4).elementsEqual("GGUF".utf8) else {
            throw GGUFError(path: path, reason: "is not a GGUF file (it does not start with GGUF)")
        }
        let version = try reader.integer(UInt32.self)
        guard version >= 2 else {
            throw GGUFError(path: path, reason: "is GGUF version \(version); 2 or later is read")
        }
        _ = try reader.integer(UInt64.self)
        let count = try reader.integer(UInt64.self)
        var values: [String: Value] = [:]
        for _ in 0..<count {
            let key = try reader.string()
            let type = try reader.integer(UInt32.self)
            values[key] = try reader.value(type: type)
        }
        self.values = values
    }

    /// Sequential reads over a file handle through a buffer; long arrays are skipped by seeking.
    private struct Reader {
        let handle: FileHandle
        let path: String
        var buffer: [UInt8] = []
        var position = 0

        init(handle: FileHandle, path: String) {
            self.handle = handle
            self.path = path
        }

        mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
            if buffer.count - position < count {
                buffer.removeFirst(position)
                position = 0
                let wanted = max(count - buffer.count, 1 << 20)
                if let data = try handle.read(upToCount: wanted) { buffer.append(contentsOf: data) }
                guard buffer.count >= count else { throw GGUFError(path: path, reason: "ends inside its header") }
            }
            defer { position += count }
            return buffer[position..<(position + count)]
        }

        mutating func skip(_ count: UInt64) throws {
            let buffered = UInt64(buffer.count - position)
            if count <= buffered {
                position += Int(count)
                return
            }
            let offset = try handle.offset() + (count - buffered)
            try handle.seek(toOffset: offset)
            buffer.removeAll(keepingCapacity: true)
            position = 0
        }

        mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
            try bytes(MemoryLayout<T>.size).reversed().reduce(T(0)) { $0 << 8 | T($1) }
        }

        mutating func string() throws -> String {
            let length = try integer(UInt64.self)
            guard length < 1 << 24 else { throw GGUFError(path: path, reason: "has a key or text of \(length) bytes") }
            return String(decoding: try bytes(Int(length)), as: UTF8.self)
        }

        /// The size of one element of a fixed-width type, nil for strings and arrays.
        static func width(_ type: UInt32) -> UInt64? {
            switch type {
            case 0, 1, 7: 1
            case 2, 3: 2
            case 4, 5, 6: 4
            case 10, 11, 12: 8
            default: nil
            }
        }

        mutating func value(type: UInt32) throws -> Value {
            switch type {
            case 0: return .integer(Int64(try integer(UInt8.self)))
            case 1: return .integer(Int64(try integer(Int8.self)))
            case 2: return .integer(Int64(try integer(UInt16.self)))
            case 3: return .integer(Int64(try integer(Int16.self)))
            case 4: return .integer(Int64(try integer(UInt32.self)))
            case 5: return .integer(Int64(try integer(Int32.self)))
            case 6: return .float(Double(Float(bitPattern: try integer(UInt32.self))))
            case 7: return .bool(try integer(UInt8.self) != 0)
            case 8: return .text(try string())
            case 9:
                let elementType = try integer(UInt32.self)
                let count = try integer(UInt64.self)
                if let width = Reader.width(elementType) {
                    try skip(width * count)
                } else {
                    for _ in 0..<count { _ = try value(type: elementType) }
                }
                return .array(count: count)
            case 10: return .integer(Int64(bitPattern: try integer(UInt64.self)))
            case 11: return .integer(try integer(Int64.self))
            case 12: return .float(Double(bitPattern: try integer(UInt64.self)))
            default: throw GGUFError(path: path, reason: "has a value of unknown type \(type)")
            }
        }
    }
}

/// A model file whose GGUF header cannot be read.
package struct GGUFError: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var reason: String

    package var description: String { "the model file \(path) \(reason); check that it is a complete GGUF file" }
}
