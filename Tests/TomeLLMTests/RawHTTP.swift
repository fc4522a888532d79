import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A raw TCP client for 127.0.0.1: sends exact bytes (malformed requests, hostile headers,
/// a request trickled byte by byte) and reads whatever comes back, with a time limit.
enum RawHTTP {
  /// The outcome of one exchange.
  struct Reply {
    /// All bytes read before the server closed or the time limit passed.
    var bytes: [UInt8]
    /// True when the server closed the connection (read returned 0 or reset).
    var closed: Bool

    var text: String { String(decoding: bytes, as: UTF8.self) }
    /// The status code of the first response line, if any.
    var status: Int? {
      guard let line = text.split(separator: "\r\n", maxSplits: 1).first, line.hasPrefix("HTTP/1.") else { return nil }
      let parts = line.split(separator: " ")
      return parts.count >= 2 ? Int(parts[1]) : nil
    }
    var body: String {
      guard let r = text.range(of: "\r\n\r\n") else { return "" }
      return String(text[r.upperBound...])
    }
  }

  /// Connects to 127.0.0.1:`port`; nil when the connection is refused.
  static func connect(port: Int, timeout: Double) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let ok = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard ok == 0 else {
      close(fd)
      return nil
    }
    return fd
  }

  /// Writes all of `bytes` (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
  @discardableResult
  static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var sent = 0
    while sent < bytes.count {
      let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if n <= 0 { return false }
      sent += n
    }
    return true
  }

  /// Reads until the server closes, `limit` bytes arrive, or a read times out.
  static func receive(_ fd: Int32, limit: Int = 1 << 20) -> Reply {
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16_384)
    while out.count < limit {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n == 0 { return Reply(bytes: out, closed: true) }
      if n < 0 { return Reply(bytes: out, closed: errno == ECONNRESET) }
      out += buffer[0..<n]
    }
    return Reply(bytes: out, closed: false)
  }

  /// One request on a fresh connection: sends `bytes`, reads the reply, closes.
  static func exchange(port: Int, _ bytes: [UInt8], timeout: Double = 10) -> Reply? {
    guard let fd = connect(port: port, timeout: timeout) else { return nil }
    defer { close(fd) }
    send(fd, bytes)
    return receive(fd)
  }

  /// A request with `Connection: close` and a Content-Length, as bytes.
  static func request(
    _ method: String, _ path: String, host: String? = "127.0.0.1", headers: [String] = [], body: String? = nil
  ) -> [UInt8] {
    var lines = ["\(method) \(path) HTTP/1.1"]
    if let host { lines.append("Host: \(host)") }
    lines += headers
    lines.append("Connection: close")
    if let body { lines.append("Content-Length: \(body.utf8.count)") }
    return Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + (body ?? "")).utf8)
  }

  static func json(_ path: String, _ body: String, headers: [String] = []) -> [UInt8] {
    request("POST", path, headers: ["Content-Type: application/json"] + headers, body: body)
  }
}
