import Foundation
import Testing
import TomeTestSupport

/// `POST /v1/ask` on a real `tome serve --index`, called with curl as a client would.
@Suite(.serialized, .timeLimit(.minutes(15)))
struct AskRouteTests {
  func startServe(_ arguments: [String], in directory: URL) throws -> (Process, String) {
    let (process, out, _) = try TomeBinary.start(["serve", "--port", "0", "--models", SharedData.models.path] + arguments, in: directory)
    var line = Data()
    for _ in 0..<400 where !line.contains(UInt8(ascii: "\n")) {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      line.append(chunk)
    }
    let text = String(decoding: line, as: UTF8.self)
    guard let match = text.firstMatch(of: /listening on (http:\/\/127\.0\.0\.1:\d+)/) else {
      process.terminate()
      throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no URL in: \(text)"])
    }
    return (process, String(match.1))
  }

  /// POSTs `body` with curl and returns the HTTP status and body.
  func post(_ url: String, _ body: String) throws -> (Int, String) {
    let curl = Process()
    curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    curl.arguments = ["-s", "-m", "120", "-w", "\n%{http_code}", "-X", "POST", "-H", "content-type: application/json", "-d", body, url]
    let out = Pipe()
    curl.standardOutput = out
    try curl.run()
    let data = out.fileHandleForReading.readAll()
    curl.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    let status = Int(text.split(separator: "\n").last ?? "") ?? 0
    return (status, String(text.split(separator: "\n").dropLast().joined(separator: "\n")))
  }

  @Test("with --index, /v1/ask answers from the index; without it, 404 says how to give one")
  func ask() throws {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("essays"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: SharedData.data("paul_graham_essays/essays/superangels.txt"), to: dir.url.appendingPathComponent("essays/superangels.txt"))
    let ingest = try TomeBinary.run(["ingest", "essays", "--models", SharedData.models.path, "-q"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")

    let (server, url) = try startServe(["--index", "default"], in: dir.url)
    defer { server.terminate() }
    let (status, body) = try post(url + "/v1/ask", #"{"question": "What is a super-angel?", "max_tokens": 32}"#)
    #expect(status == 200, "\(body)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    // The answer record, as `tome ask --json` prints it.
    #expect((json["answer"] as? String)?.isEmpty == false)
    #expect(json["question"] as? String == "What is a super-angel?" && json["strategy"] as? String == "rag")
    #expect(json["citations"] is [Any] && json["attributions"] is [Any] && json["trace"] is [Any] && json["not_found"] is Bool)
    let passages = try #require(json["passages"] as? [[String: Any]])
    #expect(!passages.isEmpty && passages.allSatisfy { $0["first_line"] is Int && $0["chunk_ids"] is [Any] && $0["text"] == nil })

    // `strategy` picks the strategy; an unknown name is a 400 that lists the known ones.
    let (chosen, routed) = try post(url + "/v1/ask", #"{"question": "What is a super-angel?", "max_tokens": 16, "strategy": "auto"}"#)
    #expect(chosen == 200, "\(routed)")
    let routedJSON = try #require(try JSONSerialization.jsonObject(with: Data(routed.utf8)) as? [String: Any])
    #expect((routedJSON["strategy"] as? String)?.hasPrefix("auto→") == true, "\(routedJSON["strategy"] ?? "nil")")
    let (unknown, problem) = try post(url + "/v1/ask", #"{"question": "What is a super-angel?", "strategy": "fastest"}"#)
    #expect(unknown == 400)
    #expect(problem.contains("fastest") && problem.contains("rag, coc, agents, gor, infty, mapreduce, attend, auto"), "\(problem)")

    let (bare, bareURL) = try startServe([], in: dir.url)
    defer { bare.terminate() }
    let (missing, message) = try post(bareURL + "/v1/ask", #"{"question": "x"}"#)
    #expect(missing == 404)
    #expect(message.contains("--index"))
  }

  @Test("/v1/ask takes `document` (a path or a list): passages stay in it, an unknown path is a 400 naming it; answers are kept as serve records")
  func document() throws {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("essays"), withIntermediateDirectories: true)
    for name in ["superangels.txt", "aord.txt"] {
      try FileManager.default.copyItem(
        at: SharedData.data("paul_graham_essays/essays/\(name)"), to: dir.url.appendingPathComponent("essays/\(name)"))
    }
    let ingest = try TomeBinary.run(["ingest", "essays", "--models", SharedData.models.path, "-q"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")

    let (server, url) = try startServe(["--index", "default"], in: dir.url)
    defer { server.terminate() }
    for document in [#""aord.txt""#, #"["essays/aord.txt"]"#] {
      let (status, body) = try post(
        url + "/v1/ask", #"{"question": "What should a startup do when growth is slow?", "max_tokens": 16, "document": \#(document)}"#)
      #expect(status == 200, "\(body)")
      let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
      let passages = try #require(json["passages"] as? [[String: Any]])
      #expect(!passages.isEmpty && passages.allSatisfy { ($0["path"] as? String)?.hasSuffix("/essays/aord.txt") == true }, "\(body)")
    }
    let (unknown, problem) = try post(url + "/v1/ask", #"{"question": "What is a super-angel?", "document": "Bed002.txt"}"#)
    #expect(unknown == 400, "\(problem)")
    let error = (try JSONSerialization.jsonObject(with: Data(problem.utf8)) as? [String: Any])?["error"] as? [String: Any]
    #expect((error?["message"] as? String)?.hasPrefix("no document \"Bed002.txt\" in the index") == true, "\(problem)")
    let (badShape, shapeProblem) = try post(url + "/v1/ask", #"{"question": "What is a super-angel?", "document": 3}"#)
    #expect(badShape == 400 && shapeProblem.contains("`document`"), "\(shapeProblem)")
    server.terminate()
    server.waitUntilExit()

    let list = try TomeBinary.run(["records", "list", "--json"], in: dir.url)
    #expect(list.status == 0, "\(list.stderr)")
    let records = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
    #expect(records.count == 2 && records.allSatisfy { $0["origin"] as? String == "serve" }, "\(list.stdout)")
  }
}
