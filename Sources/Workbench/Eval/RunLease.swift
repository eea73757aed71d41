import Foundation
import WorkbenchCore

#if canImport(Glibc)
    import Glibc
#endif

/// Another process is scoring this evaluation now: resuming it too would send its cases twice.
public struct RunInUse: Error, Sendable, CustomStringConvertible {
    public var runID: Int
    public var holder: String

    public var description: String {
        "run \(runID) is being scored by another pwb process\(holder.isEmpty ? "" : " (pid \(holder))"); "
            + "wait for it to finish, or stop it with Ctrl-C and resume again"
    }
}

/// An exclusive hold on an evaluation batch for as long as one process scores it. It is an
/// advisory `flock` on a file beside the store (`<store>.locks/batch-<id>.lock`), so the kernel
/// lets go when the holder exits or is killed: a crash leaves nothing stale to clean up.
final class RunLease {
    private let descriptor: Int32

    /// Takes the batch of `runID`, or throws `RunInUse` naming the process that holds it.
    init(storePath: String, batch: String, runID: Int) throws {
        let folder = storePath + ".locks"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Batch ids are short hex; anything else (a store edited by hand) is hashed to a safe name.
        let safe = batch.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } ? batch : SHA256.hex(batch)
        let path = folder + "/batch-" + safe + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw InputError(
                file: path, "cannot be opened to mark run \(runID) as in use: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var bytes = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &bytes, bytes.count, 0)
            close(fd)
            let holder = String(decoding: bytes.prefix(max(0, count)), as: UTF8.self).filter(\.isNumber)
            throw RunInUse(runID: runID, holder: holder)
        }
        let pid = Array(String(getpid()).utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
