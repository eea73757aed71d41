import Foundation
import WorkbenchCore

#if canImport(Glibc)
    import Glibc
#endif

/// Another process is scoring this evaluation now: resuming it too would send its cases twice.
package struct RunInUse: Error, Sendable, CustomStringConvertible {
    package var runID: Int
    package var holder: String

    /// Exit code 5, the store's: the run is locked by its writer as the store is by one, and in
    /// both cases waiting for the other process is the fix.
    package var description: String {
        "run \(runID) is being scored by another pwb process\(holder.isEmpty ? "" : " (pid \(holder))"), which "
            + "holds it locked, as a writer holds the store; wait for it to finish, or stop it with Ctrl-C and resume again"
    }
}

extension RunInUse: ExitCoded {
    package var exitCode: Int32 { ExitCode.storeFailure }
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
        let path = RunLease.path(storePath: storePath, batch: batch)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw InputError(
                file: path, "cannot be opened to mark run \(runID) as in use: \(String(cString: strerror(errno)))")
        }
        // A listing's look (`isHeld`) holds the lock for an instant: a few tries let it pass.
        var tries = 0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 && tries < 10 {
            tries += 1
            usleep(20_000)
        }
        guard tries < 10 else {
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

    /// The lock file of `batch` beside the store at `storePath`.
    static func path(storePath: String, batch: String) -> String {
        // Batch ids are short hex; anything else (a store edited by hand) is hashed to a safe name.
        let safe = batch.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } ? batch : SHA256.hex(batch)
        return storePath + ".locks/batch-" + safe + ".lock"
    }

    /// Whether a process holds `batch` now. A run stored as running whose batch nobody holds
    /// was stopped by something that left it no chance to say so: a kill -9, a crash, a reboot.
    static func isHeld(storePath: String, batch: String) -> Bool {
        let fd = open(path(storePath: storePath, batch: batch), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_SH | LOCK_NB) == 0 else { return errno == EWOULDBLOCK || errno == EINTR }
        flock(fd, LOCK_UN)
        return false
    }
}
