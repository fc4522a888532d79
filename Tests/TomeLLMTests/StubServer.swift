import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP server on 127.0.0.1 that answers the n-th connection with `responses[n]`
/// (the last one repeats), raw bytes and all, then closes it. For failure cases no real
/// server produces on demand: garbage, 500s, streams cut short, silence.
final class StubServer: Sendable {
  let port: Int
  private let fd: Int32
  private let served = Atomic<Int>(0)
  private let stopped = Atomic<Bool>(false)

  /// What to do with one connection.
  enum Reply: Sendable {
    /// Write these bytes, then close.
    case bytes(String)
    /// Read the request and say nothing for this long, then close.
    case silence(Duration)
  }

  /// Connections accepted so far.
  var connections: Int { served.load(ordering: .relaxed) }

  init(_ replies: [Reply]) throws {
    precondition(!replies.isEmpty)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, 16) == 0 else {
      close(fd)
      throw POSIXError(.EADDRINUSE)
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    self.fd = fd
    self.port = Int(UInt16(bigEndian: address.sin_port))
    let thread = Thread { [self] in self.serve(replies) }
    thread.start()
  }

  var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

  /// Stops accepting (the accept loop ends at its next wake-up) and closes the socket.
  func stop() {
    stopped.store(true, ordering: .relaxed)
    shutdown(fd, Int32(SHUT_RDWR))
    close(fd)
  }

  private func serve(_ replies: [Reply]) {
    // Bounded: at most 64 connections per stub.
    for n in 0..<64 {
      let client = accept(fd, nil, nil)
      if client < 0 || stopped.load(ordering: .relaxed) { return }
      served.add(1, ordering: .relaxed)
      Self.readRequest(client)
      switch replies[min(n, replies.count - 1)] {
      case .bytes(let text):
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
          let written = bytes[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
          if written <= 0 { break }
          offset += written
        }
      case .silence(let duration):
        Thread.sleep(forTimeInterval: Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
      }
      shutdown(client, Int32(SHUT_RDWR))
      close(client)
    }
  }

  /// Reads headers and a Content-Length body.
  private static func readRequest(_ client: Int32) {
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    var needed: Int?
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
      if n <= 0 { return }
      data.append(contentsOf: buffer[..<n])
      if needed == nil, let end = data.firstRange(of: Array("\r\n\r\n".utf8)) {
        let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).lowercased()
        let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
          .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        needed = end.upperBound + length
      }
      if let needed, data.count >= needed { return }
    }
  }
}

/// HTTP responses for the stub.
enum Canned {
  static func sse(_ body: String, close: Bool = true) -> String {
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" + body
  }

  static func chunk(_ text: String) -> String {
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\(text)\"},\"finish_reason\":null}]}\n\n"
  }

  static func status(_ code: Int, _ reason: String, body: String) -> String {
    "HTTP/1.1 \(code) \(reason)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
  }
}
