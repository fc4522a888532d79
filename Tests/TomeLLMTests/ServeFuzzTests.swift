import Foundation
import Synchronization
import Testing
import TomeCore
import TomeTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Random and mutated requests against a real `tome serve` (issue 11's "done when").
///
/// Each request is a well-formed template (every route, streaming and not, preflights)
/// mutated by a few seeded edits: bytes flipped, inserted, deleted, duplicated or cut,
/// numbers swapped for extremes, headers replaced (Host, Origin, Content-Type, Content-Length,
/// Transfer-Encoding), or pure random bytes. Four clients send them over loopback only, each
/// on its own connection; a client reads the reply until it is complete or 0.25 s pass, and
/// sometimes hangs up early (which cancels what the server started). Afterwards the server
/// must still run, answer `/health`, and answer a real chat request.
///
/// `TOME_FUZZ_REQUESTS` sets the count and `TOME_FUZZ_SEED` the seed (default 11), so a
/// failure can be replayed. The default, 2,000, keeps the suite's time reasonable (about a
/// minute on a loaded 2-core machine); the issue's 10,000 run with
/// `TOME_FUZZ_REQUESTS=10000` (about six minutes there: every admitted generation runs on the
/// one model, and queued requests wait out their read timeout).
@Suite(.serialized, .timeLimit(.minutes(15)), .enabled(if: modelAvailable))
struct ServeFuzzTests {
  static let templates: [String] = {
    func post(_ path: String, _ body: String, extra: String = "") -> String {
      "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\(extra)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }
    return [
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      "GET /v1/models HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}"#),
      post("/v1/chat/completions", #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]}], "max_tokens": 3, "stream": true, "temperature": 0.5, "top_p": 0.9, "top_k": 5, "seed": 3, "stop": ["\n"]}"#),
      post("/v1/ask", #"{"question": "What is a super-angel?", "max_tokens": 3}"#),
      post("/v1/ask", #"{"question": "Who invests?", "max_tokens": 2, "strategy": "rag", "index": "default"}"#, extra: "Origin: http://localhost:5173\r\n"),
      "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:5173\r\nAccess-Control-Request-Method: POST\r\n\r\n",
      "DELETE /v1/ask HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    ]
  }()

  static let extremes = [
    "-9223372036854775808", "9223372036854775807", "18446744073709551616", "-1", "0", "1e308", "-1e308", "NaN",
    "99999999999999999999999999", "3.5", "null", "\"7\"", "[]", "{}",
  ]
  static let headerLines = [
    "Host: evil.example", "Host: 127.0.0.1:1", "Host: [::1]", "Host:", "Origin: null", "Origin: https://evil.example",
    "Content-Type: text/plain", "Content-Type: application/json; charset=utf-8", "Content-Length: -1",
    "Content-Length: 99999999999999999999", "Content-Length: 5", "Transfer-Encoding: chunked", "Expect: 100-continue",
    "Connection: keep-alive", "Authorization: Bearer x", "X-\u{1B}[2J: \u{07}",
  ]

  static func mutate(_ template: String, _ rng: inout SeededGenerator) -> [UInt8] {
    var bytes = Array(template.utf8)
    if Int.random(in: 0..<20, using: &rng) == 0 {
      return (0..<Int.random(in: 0..<600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }
    for _ in 0..<Int.random(in: 0...4, using: &rng) {
      let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
      switch Int.random(in: 0..<9, using: &rng) {
      case 0 where !bytes.isEmpty: bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
      case 1: bytes.insert(contentsOf: (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
      case 2 where !bytes.isEmpty: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...32, using: &rng)))
      case 3 where !bytes.isEmpty:
        let piece = bytes[at..<min(bytes.count, at + Int.random(in: 1...64, using: &rng))]
        bytes.insert(contentsOf: Array(piece), at: at)
      case 4: bytes = Array(bytes.prefix(at))
      case 5:
        // Swap a run of digits for an extreme number.
        let text = String(decoding: bytes, as: UTF8.self)
        let runs = text.matches(of: /-?\d+/)
        if let run = runs.randomElement(using: &rng) {
          bytes = Array((text[..<run.range.lowerBound] + extremes.randomElement(using: &rng)! + text[run.range.upperBound...]).utf8)
        }
      case 6:
        // Add or replace a header line.
        let text = String(decoding: bytes, as: UTF8.self)
        if let end = text.range(of: "\r\n") {
          let line = headerLines.randomElement(using: &rng)!
          bytes = Array((text[..<end.upperBound] + line + "\r\n" + text[end.upperBound...]).utf8)
        }
      case 7:
        // A very long header or body.
        bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "a"), count: Int.random(in: 1_000...90_000, using: &rng)), at: at)
      default:
        bytes.insert(contentsOf: Array(["\r\n", "\r\n\r\n", "\"", "{", "]", "\\u0000", "\u{0}"].randomElement(using: &rng)!.utf8), at: at)
      }
    }
    return bytes
  }

  /// Reads until the reply is complete (Content-Length satisfied), the server closes, or
  /// `timeout` passes; returns the status code when one arrived.
  static func readReply(_ fd: Int32, timeout: Duration) -> Int? {
    let deadline = ContinuousClock.now + timeout
    var got: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16_384)
    while ContinuousClock.now < deadline {
      var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ms = Int32(max(1, (deadline - ContinuousClock.now).components.attoseconds / 1_000_000_000_000_000 + (deadline - ContinuousClock.now).components.seconds * 1000))
      guard poll(&pfd, 1, ms) > 0 else { break }
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { break }
      got += buffer[0..<n]
      let text = String(decoding: got, as: UTF8.self)
      if let head = text.range(of: "\r\n\r\n"),
        let length = text[..<head.lowerBound].lowercased().firstMatch(of: /content-length: (\d+)/).flatMap({ Int($0.1) }),
        text.utf8.count - text[..<head.upperBound].utf8.count >= length
      {
        break
      }
    }
    let reply = RawHTTP.Reply(bytes: got, closed: false)
    return reply.status
  }

  @Test("tome serve survives thousands of random and mutated requests and still answers")
  func fuzz() throws {
    let environment = ProcessInfo.processInfo.environment
    let count = environment["TOME_FUZZ_REQUESTS"].flatMap(Int.init) ?? 2_000
    let seed = environment["TOME_FUZZ_SEED"].flatMap(UInt64.init) ?? 11
    let dir = try TemporaryDirectory()
    try ingestEssay(into: dir.url)
    let server = try ServeChild.start(
      ["--index", "default", "--max-queue", "2", "--request-timeout", "2", "--max-body", "65536", "--allow-origin", "http://localhost:5173"],
      in: dir.url)
    defer { server.stop() }
    let port = server.port

    let statuses = Mutex<[Int: Int]>([:])
    let refused = Atomic<Int>(0)
    let clients = 4
    let started = ContinuousClock.now
    DispatchQueue.concurrentPerform(iterations: clients) { client in
      var rng = SeededGenerator(seed: seed, mixing: [client])
      for i in 0..<(count / clients + (client < count % clients ? 1 : 0)) {
        let template = Self.templates[(i + client) % Self.templates.count]
        let bytes = Self.mutate(template, &rng)
        guard let fd = RawHTTP.connect(port: port, timeout: 2) else {
          refused.add(1, ordering: .relaxed)
          continue
        }
        RawHTTP.send(fd, bytes)
        let hangUpEarly = Int.random(in: 0..<10, using: &rng) == 0
        let status = Self.readReply(fd, timeout: hangUpEarly ? .milliseconds(5) : .milliseconds(250))
        close(fd)
        statuses.withLock { $0[status ?? 0, default: 0] += 1 }
      }
    }
    let elapsed = ContinuousClock.now - started
    let seen = statuses.withLock { $0 }
    print("fuzz: \(count) requests in \(elapsed), seed \(seed), statuses \(seen.sorted { $0.key < $1.key })")

    #expect(refused.load(ordering: .relaxed) == 0, "connections refused: the server stopped listening")
    #expect(server.process.isRunning, "tome serve died (status \(server.process.isRunning ? 0 : server.process.terminationStatus))")
    #expect(server.healthy)
    // Not wedged: a real request is admitted and answered once the fuzzing stops.
    var answered = false
    let deadline = ContinuousClock.now + .seconds(60)
    while !answered, ContinuousClock.now < deadline {
      let reply = RawHTTP.exchange(port: port, RawHTTP.json("/v1/chat/completions", ServeChild.shortChat), timeout: 30)
      answered = reply?.status == 200
      if !answered { Thread.sleep(forTimeInterval: 0.5) }
    }
    #expect(answered)
  }
}
