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
    /// watchdog is the server's child. The server was started in a session of its own, so it
    /// leads a process group, which holds everything it starts (a wrapper script that runs
    /// `llama-server` without `exec` is the pid; the server is its child) and the watchdog. The
    /// watchdog watches while its parent lives or, once it does not, while any other process of
    /// the group does; a group's id is never reused while a process is in it, so it never
    /// signals a stranger. A shell needs no helper binary and no privileges; a loop of `sleep`
    /// costs nothing next to a model server. When the record is gone it sends SIGTERM to every
    /// other process of the group, and SIGKILL to the group ten seconds later if any remains.
    static func watched(_ arguments: [String], record: String, interval: Double = watchInterval) -> [String] {
        ["/bin/sh", "-c", watchdogScript, "pwb-watchdog", record, JSONNumber.format(interval)] + arguments
    }

    /// `$1` the record, `$2` the interval, then the server's command line. `$$` is the shell
    /// that becomes the server, and the id of its process group; the subshell reads its own pid
    /// and parent from `/proc/self/stat`, and the group's processes from `/proc/*/stat`.
    static let watchdogScript = #"""
        record=$1 interval=$2
        shift 2
        server=$$
        (
          read -r line < /proc/self/stat
          self=${line%% *}
          parent() {
            read -r line < /proc/self/stat || return 1
            set -- ${line##*') '}
            [ "$2" = "$server" ]
          }
          # Every live process of the server's group but this one, after "others": the pids.
          others() {
            found=
            for stat in /proc/[0-9]*/stat; do
              read -r line 2>/dev/null < "$stat" || continue
              pid=${line%% *}
              set -- ${line##*') '}
              [ "$3" = "$server" ] && [ "$1" != Z ] && [ "$pid" != "$self" ] && found="$found $pid"
            done
            [ -n "$found" ]
          }
          alive() { parent || others; }
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
            alive || exit 0
            names_server || break
          done
          others || exit 0
          echo "pwb-watchdog: $record no longer names this server (pid $server); stopping it"
          kill -s TERM $found
          count=0
          while [ $count -lt 10 ]; do
            sleep 1
            others || exit 0
            count=$((count + 1))
          done
          kill -s KILL -- "-$server"
        ) &
        exec "$@"
        """#

    /// Whether a process of group `group` holds the listening socket of 127.0.0.1:`port`; nil
    /// where that cannot be read.
    static func holdsPort(group: Int32, port: Int) -> Bool? {
        var unreadable = false
        for member in members(ofGroup: group) {
            switch holdsPort(pid: member, port: port) {
            case true?: return true
            case nil: unreadable = true
            case false?: continue
            }
        }
        return unreadable ? nil : false
    }

    /// The live (not zombie) processes of process group `group`, from `/proc/*/stat`.
    static func members(ofGroup group: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = readWhole("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
            // After the command name in parentheses: state, parent, group.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && fields[0] != "Z" && Int32(fields[2]) == group
        }
    }

    /// Whether any process of group `group` lives; a zombie child of this process is reaped.
    static func groupIsAlive(_ group: Int32) -> Bool {
        if isAlive(pid: group) { return true }
        return !members(ofGroup: group).isEmpty
    }

    /// The resident memory of every process of group `group`: a wrapper and the server it runs.
    package static func residentBytes(group: Int32) -> Int? {
        let sizes = members(ofGroup: group).compactMap { residentBytes(pid: $0) }
        return sizes.isEmpty ? nil : sizes.reduce(0, +)
    }

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
