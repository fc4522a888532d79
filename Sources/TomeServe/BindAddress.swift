#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The addresses a `--host` value names, resolved once before binding.
///
/// Whether a server may run without a token is decided on these addresses, not on the text:
/// `127.evil.test` looks like loopback but may resolve anywhere (issue 11). The server binds
/// the first resolved address itself, so a name cannot resolve to loopback for the check and
/// elsewhere for the bind.
public struct BindAddress: Sendable, Hashable {
  /// The host as given (`--host`).
  public var host: String
  /// Its numeric addresses (`127.0.0.1`, `::1`), in resolver order; empty when it does not resolve.
  public var addresses: [String]

  /// Resolves `host` with the system resolver (`getaddrinfo`, numeric results only).
  public init(resolving host: String) {
    self.host = host
    self.addresses = Self.resolve(host)
  }

  public init(host: String, addresses: [String]) {
    self.host = host
    self.addresses = addresses
  }

  /// True when `host` resolves and every address it resolves to is loopback (127.0.0.0/8, ::1).
  public var isLoopback: Bool {
    !addresses.isEmpty && addresses.allSatisfy(Self.isLoopbackLiteral)
  }

  /// True when the address is a wildcard (`0.0.0.0`, `::`): every interface, any Host name.
  public var isWildcard: Bool {
    addresses.contains { $0 == "0.0.0.0" || $0 == "::" }
  }

  /// `address` (numeric) is in 127.0.0.0/8 or is ::1 (also as an IPv4-mapped IPv6 address).
  public static func isLoopbackLiteral(_ address: String) -> Bool {
    var v4 = in_addr()
    if inet_pton(AF_INET, address, &v4) == 1 {
      return UInt32(bigEndian: v4.s_addr) >> 24 == 127
    }
    var v6 = in6_addr()
    guard inet_pton(AF_INET6, address, &v6) == 1 else { return false }
    let bytes = withUnsafeBytes(of: v6) { Array($0) }
    if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
    // ::ffff:127.x.y.z
    if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff { return bytes[12] == 127 }
    return false
  }

  static func resolve(_ host: String) -> [String] {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    #if canImport(Glibc)
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    #else
    hints.ai_socktype = SOCK_STREAM
    #endif
    hints.ai_flags = AI_PASSIVE
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
    defer { freeaddrinfo(first) }
    var out: [String] = []
    var node: UnsafeMutablePointer<addrinfo>? = first
    while let n = node {
      var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
      if let address = n.pointee.ai_addr,
        getnameinfo(address, n.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0
      {
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // Drop an IPv6 zone (`fe80::1%eth0`); it is not part of the address compared.
        let plain = text.split(separator: "%", maxSplits: 1).first.map(String.init) ?? text
        if !out.contains(plain) { out.append(plain) }
      }
      node = n.pointee.ai_next
    }
    return out
  }
}
