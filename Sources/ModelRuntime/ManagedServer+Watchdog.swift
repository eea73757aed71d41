import Foundation

/// What keeps the managed `llama-server` from outliving its workspace, and what tells it apart
/// from another server on its port.
extension ManagedServer {
    /// How often the watchdog looks at the server's record, in seconds.
    static let watchInterval = 2.0

    /// `arguments` (the server's command line) started under a watchdog: the server exits when
    /// `record` (`.pwb/runtime.json`) no longer names it — its workspace or `.pwb` folder was
    /// deleted, or the record was removed or replaced — since nothing else would ever stop it.
    ///
    /// The design is a small `/bin/sh` that forks the watchdog loop into a subshell and then
    /// `exec`s the server in its own place. So the pid pwb spawns *is* the server's (its start
    /// time, command line, `runtime stop` and `status` all work as without a watchdog), and the
    /// watchdog is the server's child: it knows the server is gone when it is handed to another
    /// parent, which a recycled pid cannot fake, so it never signals a stranger. A shell needs no
    /// helper binary and no privileges; a loop of `sleep` costs nothing next to a model server.
    /// When the record is gone it sends SIGTERM, and SIGKILL ten seconds later if the server is
    /// still its parent.
    static func watched(_ arguments: [String], record: String, interval: Double = watchInterval) -> [String] {
        ["/bin/sh", "-c", watchdogScript, "pwb-watchdog", record, JSONNumber.format(interval)] + arguments
    }

    /// `$1` the record, `$2` the interval, then the server's command line. `$$` is the shell
    /// that becomes the server; the subshell reads its own parent from `/proc/self/stat`.
    static let watchdogScript = #"""
        record=$1 interval=$2
        shift 2
        server=$$
        (
          parent() {
            read -r line < /proc/self/stat || return 1
            set -- ${line##*') '}
            [ "$2" = "$server" ]
          }
          names_server() {
            [ -f "$record" ] || return 1
            while IFS= read -r line || [ -n "$line" ]; do
              case $line in
                *'"pid":'*)
                  rest=${line#*'"pid":'}
                  set -- ${rest%%[,\}]*}
                  [ "$1" = "$server" ] && return 0
                  ;;
              esac
            done < "$record"
            return 1
          }
          while sleep "$interval"; do
            parent || exit 0
            names_server || break
          done
          parent || exit 0
          echo "pwb-watchdog: $record no longer names this server (pid $server); stopping it"
          kill -TERM "$server"
          count=0
          while [ $count -lt 10 ]; do
            sleep 1
            parent || exit 0
            count=$((count + 1))
          done
          kill -KILL "$server"
        ) &
        exec "$@"
        """#

    /// Whether process `pid` holds the listening socket of 127.0.0.1:`port` (from
    /// `/proc/net/tcp*` and `/proc/PID/fd`); nil where that cannot be read. A server of ours
    /// whose port answers for another process (ours still loading, or it lost the port) must not
    /// be taken for healthy on the other's word.
    static func holdsPort(pid: Int32, port: Int) -> Bool? {
        var inodes = Set<String>()
        var readable = false
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = readWhole(table) else { continue }
            readable = true
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // sl, local address (hex ip:port), remote address, state (0A: listening), …, inode (10th).
                guard fields.count > 9, fields[3] == "0A", let colon = fields[1].lastIndex(of: ":"),
                    Int(fields[1][fields[1].index(after: colon)...], radix: 16) == port
                else { continue }
                inodes.insert("socket:[\(fields[9])]")
            }
        }
        guard readable else { return nil }
        if inodes.isEmpty { return false }
        guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else {
            return nil
        }
        for descriptor in descriptors {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(descriptor)"),
                inodes.contains(target)
            {
                return true
            }
        }
        return false
    }

    /// The whole of a `/proc` file. Foundation reads such files (whose size shows as 0) only as
    /// far as their first 4 KiB: `/proc/net/tcp` beyond its 26th socket would be missed.
    static func readWhole(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
