import Foundation

/// A model file of `bytes`, named `model.gguf` in a folder of its own under the temporary
/// directory: two of them share a name and differ only in content.
package func temporaryModelFile(_ bytes: [UInt8]) throws -> String {
    let folder = NSTemporaryDirectory() + "pwb-model-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let path = folder + "/model.gguf"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}
