import Foundation
import Testing

/// The built `pwb` binary, run in a folder of its own, as a user would run it.
struct PwbProcess {
    struct Result: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String

        var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
    }

    /// The repository (for the shipped examples) and the build folder (for the binary).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static let binary: String = {
        // The test bundle sits in the build folder beside the `pwb` it was built with.
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("pwb").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return repository + "/.build/debug/pwb"
    }()

    /// Runs `pwb` with `arguments` in `directory`, optionally feeding `input` on standard input.
    /// Waits without holding a thread of Swift's cooperative pool, which the other tests need.
    static func run(
        _ arguments: [String], in directory: String, input: String? = nil, environment: [String: String] = [:],
        timeout: TimeInterval = 600, executable: String? = nil
    ) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env.removeValue(forKey: "PWB_DB")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        return try await withCheckedThrowingContinuation { continuation in
            // Reading both pipes to the end and waiting for the exit happen on a thread of their own.
            Thread {
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                let writer = Thread {
                    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
                    try? stdin.fileHandleForWriting.close()
                }
                writer.start()
                let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
                nonisolated(unsafe) var err = Data()
                let done = DispatchSemaphore(value: 0)
                let errorThread = Thread {
                    err = stderr.fileHandleForReading.readDataToEndOfFile()
                    done.signal()
                }
                errorThread.start()
                let out = stdout.fileHandleForReading.readDataToEndOfFile()
                done.wait()
                process.waitUntilExit()
                timer.cancel()
                continuation.resume(
                    returning: Result(
                        status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                        stderr: String(decoding: err, as: UTF8.self)))
            }.start()
        }
    }
}

/// A temporary working folder, removed when released.
final class WorkFolder {
    let path: String

    init(copyingExamples: Bool = false) throws {
        path = NSTemporaryDirectory() + "pwb-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if copyingExamples {
            for folder in ["templates", "evalsets", "corpora"] {
                try FileManager.default.copyItem(
                    atPath: PwbProcess.repository + "/" + folder, toPath: path + "/" + folder)
            }
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ text: String) throws {
        try write(relative, bytes: Array(text.utf8))
    }

    func write(_ relative: String, bytes: [UInt8]) throws {
        let url = URL(fileURLWithPath: path + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: path + "/" + relative, encoding: .utf8)
    }

    func remove(_ relative: String) throws {
        try FileManager.default.removeItem(atPath: path + "/" + relative)
    }

    /// Stops a managed runtime this folder's tests started; synchronous, for `defer`.
    func stopRuntime() {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PwbProcess.binary)
        process.arguments = ["runtime", "stop"]
        process.currentDirectoryURL = URL(fileURLWithPath: path)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        process.waitUntilExit()
    }

    @discardableResult
    func pwb(_ arguments: String..., input: String? = nil, environment: [String: String] = [:]) async throws
        -> PwbProcess.Result
    {
        try await PwbProcess.run(arguments, in: path, input: input, environment: environment)
    }

    @discardableResult
    func pwb(_ arguments: [String], environment: [String: String] = [:]) async throws -> PwbProcess.Result {
        try await PwbProcess.run(arguments, in: path, input: nil, environment: environment)
    }
}
