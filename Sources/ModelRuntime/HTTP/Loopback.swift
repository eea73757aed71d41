import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Whether a URL names this machine. The host is parsed as an address, never matched by its
/// text: `127.attacker.example` is a name like any other, which any DNS server may point at
/// another machine, and a key sent there in plain text is a key given away.
package enum Loopback {
    /// True for `localhost` and for a loopback address written as one: IPv4 in 127.0.0.0/8 as
    /// four decimal numbers, `::1`, or an IPv4-mapped `::ffff:127.x.y.z`. Shorthands that
    /// resolvers also accept (`127.1`, `0x7f.0.0.1`) are not taken: nothing needs them, and a
    /// strict reading cannot be talked into a wrong answer.
    package static func contains(_ url: URL) -> Bool {
        guard let host = url.host else { return false }
        return isLoopback(host: host)
    }

    static func isLoopback(host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, name, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        let loopback = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
        let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
        return loopback || mapped
    }
}
