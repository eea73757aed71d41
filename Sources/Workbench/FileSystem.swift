import Foundation
import WorkbenchCore

#if canImport(Glibc)
    import Glibc
#endif

/// The workbench's reads and writes of user files, with the checks every file gets.
enum FileSystem {
    /// Reads a user file as UTF-8 text, refusing a missing, empty, oversized or non-UTF-8 file.
    static func readText(_ path: String, limit: Int, kind: String, shownAs shown: String? = nil) throws -> String {
        let name = shown ?? path
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(file: name, "does not exist")
        }
        guard !isDirectory.boolValue else { throw InputError(file: name, "is a folder; \(kind) must be a file") }
        // A FIFO would block the read forever (and a device never end): only regular files.
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw InputError(
                file: name, "is not a regular file (a FIFO, socket or device); \(kind) must be a regular file")
        }
        let size = (try? manager.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if size > limit {
            throw InputError(
                file: name,
                "is \(SourceFile.formatBytes(size)); \(kind) may be at most \(SourceFile.formatBytes(limit))")
        }
        guard let data = manager.contents(atPath: path) else { throw InputError(file: name, "cannot be read") }
        return try SourceFile.decode([UInt8](data), path: name, limit: limit, kind: kind)
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// Every regular file under `directory`, sorted, skipping hidden files and folders. Each
    /// symbolic link met on the way, to a file or a folder, is first handed to `link` (which
    /// may refuse it); links to folders are not walked.
    static func files(under directory: String, link: (String) throws -> Void = { _ in }) rethrows -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let last = (relative as NSString).lastPathComponent
            if last.hasPrefix(".") {
                if isDirectory(directory + "/" + relative) { enumerator.skipDescendants() }
                continue
            }
            let full = directory + "/" + relative
            if isLink(full) { try link(full) }
            if !isDirectory(full) { found.append(full) }
        }
        return found.sorted()
    }

    static func isLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }

    /// `path` with every link resolved (the file it finally is); nil when that does not exist.
    static func resolved(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    /// Whether `path` is `folder` or lies inside it; both resolved paths.
    static func isInside(_ path: String, _ folder: String) -> Bool {
        path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
    }

    /// Writes `text` to `path` atomically, creating folders as needed.
    static func write(_ text: String, to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func absolute(_ path: String, relativeTo root: String) -> String {
        let joined = path.hasPrefix("/") ? path : root + "/" + path
        return (joined as NSString).standardizingPath
    }

    /// `path` relative to `root` when it lies inside it, for messages and stored origins.
    static func relative(_ path: String, to root: String) -> String {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
