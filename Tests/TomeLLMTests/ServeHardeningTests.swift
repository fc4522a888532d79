import Foundation
import Testing
import TomeServe
import TomeTestSupport

/// A real `tome serve` child process on a free loopback port.
struct ServeChild {
  let process: Process
  let port: Int
  var url: String { "http://127.0.0.1:\(port)" }

  /// Starts `tome serve --port 0 …` in `directory` and waits for its "listening on" line.
  static func start(_ arguments: [String], in directory: URL) throws -> ServeChild {
    let (process, out, _) = try TomeBinary.start(
      ["serve", "--port", "0", "--models", SharedData.models.path] + arguments, in: directory)
    var line = Data()
    for _ in 0..<400 where !line.contains(UInt8(ascii: "\n")) {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      line.append(chunk)
    }
    let text = String(decoding: line, as: UTF8.self)
    guard let match = text.firstMatch(of: /listening on http:\/\/127\.0\.0\.1:(\d+)/), let port = Int(match.1) else {
      process.terminate()
      throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no URL in: \(text)"])
    }
    return ServeChild(process: process, port: port)
  }

  func stop() {
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
  }

  /// GET /health answers 200 (the server is alive and serving).
  var healthy: Bool {
    process.isRunning && RawHTTP.exchange(port: port, RawHTTP.request("GET", "/health"))?.status == 200
  }

  /// A long generation: near-uniform sampling rarely meets the end-of-text token, so this
  /// runs for `maxTokens` tokens (tens of seconds) unless it is cancelled.
  static func longChat(maxTokens: Int = 6000, stream: Bool) -> String {
    #"{"messages": [{"role": "user", "content": "Write a very long story."}], "max_tokens": \#(maxTokens), "temperature": 2, "top_p": 1, "top_k": 0, "seed": 7, "stream": \#(stream)}"#
  }

  static let shortChat = #"{"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 2}"#
}

/// Ingests the super-angels essay into `dir` (the index `/v1/ask` answers from).
func ingestEssay(into dir: URL) throws {
  try FileManager.default.createDirectory(at: dir.appendingPathComponent("essays"), withIntermediateDirectories: true)
  try FileManager.default.copyItem(
    at: SharedData.data("paul_graham_essays/essays/superangels.txt"), to: dir.appendingPathComponent("essays/superangels.txt"))
  let ingest = try TomeBinary.run(["ingest", "essays", "--models", SharedData.models.path, "-q"], in: dir)
  #expect(ingest.status == 0, "\(ingest.stderr)")
}

/// Issue 11: what hostile requests found in `tome serve`, each checked on a real server.
@Suite(.serialized, .timeLimit(.minutes(15)), .enabled(if: modelAvailable))
struct ServeHardeningTests {
  @Test("numbers from the network are range-checked: 400 naming the field, and the server lives on")
  func hostileNumbers() throws {
    let dir = try TemporaryDirectory()
    try ingestEssay(into: dir.url)
    let server = try ServeChild.start(["--index", "default"], in: dir.url)
    defer { server.stop() }
    let cases: [(path: String, body: String, field: String)] = [
      ("/v1/ask", #"{"question": "What is a super-angel?", "max_tokens": -9223372036854775808}"#, "max_tokens"),
      ("/v1/ask", #"{"question": "What is a super-angel?", "max_tokens": 0}"#, "max_tokens"),
      ("/v1/ask", #"{"question": "What is a super-angel?", "max_tokens": 9223372036854775807}"#, "max_tokens"),
      ("/v1/ask", #"{"question": "   "}"#, "question"),
      ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": -1}"#, "max_tokens"),
      ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 9223372036854775807}"#, "max_tokens"),
      ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": -5}"#, "max_completion_tokens"),
      ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "top_k": -3, "max_tokens": 2}"#, "top_k"),
    ]
    for c in cases {
      let reply = try #require(RawHTTP.exchange(port: server.port, RawHTTP.json(c.path, c.body)), "no reply to \(c.body)")
      #expect(reply.status == 400, "\(c.body) → \(reply.text)")
      #expect(reply.body.contains(c.field), "\(reply.body)")
    }
    // A prompt longer than the model's context is the client's mistake too (was a 500).
    let long = String(repeating: "super angel investing ", count: 4000)
    let ask = try #require(RawHTTP.exchange(port: server.port, RawHTTP.json("/v1/ask", #"{"question": "\#(long)", "max_tokens": 16}"#)))
    #expect(ask.status == 400, "\(ask.text.prefix(300))")
    #expect(ask.body.contains("too long"), "\(ask.body.prefix(300))")
    let chat = try #require(
      RawHTTP.exchange(port: server.port, RawHTTP.json("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "\#(long)"}]}"#)))
    #expect(chat.status == 400, "\(chat.text.prefix(300))")
    #expect(server.healthy)
  }

  @Test("Host must be this server, Origin must be allowed, bodies must be JSON; allowed origins get CORS headers")
  func browserRequests() throws {
    let dir = try TemporaryDirectory()
    let server = try ServeChild.start(["--allow-origin", "http://localhost:5173"], in: dir.url)
    defer { server.stop() }
    let port = server.port
    func status(_ bytes: [UInt8]) -> Int? { RawHTTP.exchange(port: port, bytes)?.status }

    // DNS rebinding: the page's requests name the attacker's host.
    #expect(status(RawHTTP.request("GET", "/health", host: "evil.example")) == 421)
    #expect(status(RawHTTP.request("GET", "/v1/models", host: "evil.example:\(port)")) == 421)
    #expect(status(RawHTTP.request("POST", "/v1/chat/completions", host: "127.evil.test", headers: ["Content-Type: application/json"], body: ServeChild.shortChat)) == 421)
    for host in ["127.0.0.1:\(port)", "localhost:\(port)", "[::1]:\(port)", "localhost"] {
      #expect(status(RawHTTP.request("GET", "/health", host: host)) == 200, "\(host)")
    }
    // Simple cross-site POSTs (no preflight): text/plain or no type at all.
    #expect(status(RawHTTP.request("POST", "/v1/chat/completions", headers: ["Content-Type: text/plain"], body: ServeChild.shortChat)) == 415)
    #expect(status(RawHTTP.request("POST", "/v1/chat/completions", body: ServeChild.shortChat)) == 415)
    // A foreign origin, even with a JSON body.
    let foreign = try #require(RawHTTP.exchange(port: port, RawHTTP.json("/v1/chat/completions", ServeChild.shortChat, headers: ["Origin: https://evil.example"])))
    #expect(foreign.status == 403)
    #expect(foreign.body.contains("--allow-origin"))
    #expect(status(RawHTTP.request("GET", "/health", headers: ["Origin: null"])) == 403)

    // The allowed origin: the preflight passes and the answer carries the CORS header.
    let preflight = try #require(RawHTTP.exchange(
      port: port,
      RawHTTP.request("OPTIONS", "/v1/chat/completions", headers: ["Origin: http://localhost:5173", "Access-Control-Request-Method: POST"])))
    #expect(preflight.status == 204)
    #expect(preflight.text.lowercased().contains("access-control-allow-origin: http://localhost:5173"))
    let allowed = try #require(RawHTTP.exchange(port: port, RawHTTP.json("/v1/chat/completions", ServeChild.shortChat, headers: ["Origin: http://localhost:5173"])))
    #expect(allowed.status == 200, "\(allowed.text)")
    #expect(allowed.text.lowercased().contains("access-control-allow-origin: http://localhost:5173"))
    #expect(server.healthy)
  }

  @Test("a host that only looks like loopback is decided on its resolved address")
  func loopbackIsResolved() throws {
    #expect(BindAddress.isLoopbackLiteral("127.0.0.1"))
    #expect(BindAddress.isLoopbackLiteral("127.255.0.9"))
    #expect(BindAddress.isLoopbackLiteral("::1"))
    #expect(BindAddress.isLoopbackLiteral("::ffff:127.0.0.1"))
    #expect(!BindAddress.isLoopbackLiteral("128.0.0.1"))
    #expect(!BindAddress.isLoopbackLiteral("0.0.0.0"))
    #expect(!BindAddress.isLoopbackLiteral("::"))
    #expect(BindAddress(resolving: "127.0.0.1").isLoopback)
    #expect(BindAddress(resolving: "localhost").isLoopback)
    #expect(!BindAddress(resolving: "0.0.0.0").isLoopback)
    #expect(!BindAddress(resolving: "127.evil.test").isLoopback)
    #expect(!TomeServer.Configuration(host: "127.evil.test").isLoopback)

    let dir = try TemporaryDirectory()
    for host in ["127.evil.test", "0.0.0.0"] {
      let refused = try TomeBinary.run(["serve", "--host", host, "--port", "0"], in: dir.url, timeout: 60)
      #expect(refused.status == 2, "\(host): \(refused.stderr)")
      #expect(refused.stderr.contains("--token") || refused.stderr.contains("does not resolve"), "\(refused.stderr)")
    }
  }

  @Test("a client that goes away cancels its request, running or queued; /v1/ask waits in the same queue")
  func abandonedRequests() throws {
    let dir = try TemporaryDirectory()
    try ingestEssay(into: dir.url)
    let server = try ServeChild.start(["--max-queue", "1", "--index", "default"], in: dir.url)
    defer { server.stop() }
    let port = server.port

    // 1. A non-streaming request whose client gives up after 1 s stops generating: the
    //    model is free again at once, not after thousands of tokens.
    do {
      let fd = try #require(RawHTTP.connect(port: port, timeout: 1))
      RawHTTP.send(fd, RawHTTP.json("/v1/chat/completions", ServeChild.longChat(stream: false)))
      _ = RawHTTP.receive(fd)  // times out after 1 s: the client gives up
      close(fd)
    }
    let start = ContinuousClock.now
    var freed = false
    while !freed, ContinuousClock.now - start < .seconds(10) {
      // Queue 1: while the abandoned generation runs, this request waits; it must finish
      // well inside 10 s (6,000 tokens take over a minute here).
      let reply = RawHTTP.exchange(port: port, RawHTTP.json("/v1/chat/completions", ServeChild.shortChat), timeout: 10)
      freed = reply?.status == 200
    }
    #expect(freed, "the model stayed busy with a request nobody waits for")

    // 2. Hold the model with a stream; a queued client that leaves frees its place.
    let holder = try #require(RawHTTP.connect(port: port, timeout: 5))
    defer { close(holder) }
    RawHTTP.send(holder, RawHTTP.json("/v1/chat/completions", ServeChild.longChat(stream: true)))
    var first = [UInt8](repeating: 0, count: 512)
    #expect(recv(holder, &first, first.count, 0) > 0)
    do {
      let fd = try #require(RawHTTP.connect(port: port, timeout: 1))
      RawHTTP.send(fd, RawHTTP.json("/v1/chat/completions", ServeChild.shortChat))
      _ = RawHTTP.receive(fd)  // queued behind the stream; gives up after 1 s
      close(fd)
    }
    Thread.sleep(forTimeInterval: 0.5)
    // Its place is free: this one queues (it would get 503 if the leaver still held it) …
    let queued = try #require(RawHTTP.connect(port: port, timeout: 30))
    RawHTTP.send(queued, RawHTTP.json("/v1/chat/completions", ServeChild.shortChat))
    Thread.sleep(forTimeInterval: 0.5)
    // … and /v1/ask shares the queue: now full, so 503 (it used to skip the queue).
    let ask = RawHTTP.exchange(port: port, RawHTTP.json("/v1/ask", #"{"question": "What is a super-angel?", "max_tokens": 8}"#))
    #expect(ask?.status == 503, "\(ask?.text ?? "no reply")")
    close(holder)
    let answered = RawHTTP.receive(queued)
    close(queued)
    #expect(answered.status == 200, "\(answered.text)")
    #expect(server.healthy)
  }

  @Test("a request trickled too slowly is cut off (slowloris)")
  func stalledRequests() throws {
    let dir = try TemporaryDirectory()
    let server = try ServeChild.start(["--request-timeout", "1"], in: dir.url)
    defer { server.stop() }
    let partials = [
      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"mess",
      "",
    ]
    for partial in partials {
      let fd = try #require(RawHTTP.connect(port: server.port, timeout: 8))
      defer { close(fd) }
      let start = ContinuousClock.now
      RawHTTP.send(fd, Array(partial.utf8))
      let reply = RawHTTP.receive(fd)
      #expect(reply.closed, "connection still open after \(ContinuousClock.now - start) for \(partial.debugDescription)")
      #expect(ContinuousClock.now - start < .seconds(6))
    }
    #expect(server.healthy)
  }
}
