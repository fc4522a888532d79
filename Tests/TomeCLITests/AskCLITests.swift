import Foundation
import Testing
import TomeTestSupport

@Suite(.serialized, .timeLimit(.minutes(15))) struct AskCLITests {
  @Test("tome ask --json on a tiny ingested collection: valid JSON with evidence and resolvable citations")
  func askJSON() throws {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("essays"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: SharedData.data("paul_graham_essays/essays/superangels.txt"), to: dir.url.appendingPathComponent("essays/superangels.txt"))
    let ingest = try TomeBinary.run(["ingest", "essays", "--quiet"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")

    let ask = try TomeBinary.run(
      ["ask", "--json", "-k", "3", "--max-tokens", "32", "--context", "1500", "What is a super-angel?"],
      in: dir.url)
    #expect(ask.status == 0, "\(ask.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(ask.stdout.utf8)) as? [String: Any])
    let evidence = try #require(json["evidence"] as? [[String: Any]])
    #expect(!evidence.isEmpty && evidence.count <= 3)
    let top = try #require(evidence.first)
    #expect((top["text"] as? String)?.contains("qualities of an angel") == true)
    #expect((top["path"] as? String)?.hasSuffix("superangels.txt") == true && top["first_line"] as? Int == 46)
    #expect(!(json["answer"] as? String ?? "").isEmpty)
    let passages = try #require(json["passages"] as? [[String: Any]])
    #expect(!passages.isEmpty && passages.allSatisfy { !($0["chunk_ids"] as? [Int] ?? []).isEmpty })
    let tokens = try #require(json["tokens"] as? [String: Any])
    #expect((tokens["prompt"] as? Int ?? 0) > 0)
    let timings = try #require(json["timings"] as? [String: Any])
    #expect(timings["total"] is Double)
    for citation in json["citations"] as? [[String: Any]] ?? [] {
      #expect(citation["verified"] is Bool)
    }

    // Text output: evidence first, then the answer.
    let text = try TomeBinary.run(["ask", "-k", "3", "--max-tokens", "24", "--context", "1500", "What is a super-angel?"], in: dir.url)
    #expect(text.status == 0, "\(text.stderr)")
    #expect(text.stdout.hasPrefix("Evidence\n"))
    #expect(text.stdout.contains("superangels.txt:46-47"))
    #expect(text.stdout.contains("Answer\n"))
  }

  @Test("bad input: empty question exits 2; missing index, empty index, missing model or template exit 1 naming it")
  func badInput() throws {
    let dir = try TemporaryDirectory()
    let empty = try TomeBinary.run(["ask", "  "], in: dir.url)
    #expect(empty.status == 2 && empty.stderr.contains("empty"))
    let noIndex = try TomeBinary.run(["ask", "anything"], in: dir.url)
    #expect(noIndex.status == 1 && noIndex.stderr.contains("tome ingest"))

    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("nothing"), withIntermediateDirectories: true)
    let ingest = try TomeBinary.run(["ingest", "nothing", "--quiet"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    let emptyIndex = try TomeBinary.run(["ask", "anything"], in: dir.url)
    #expect(emptyIndex.status == 1 && emptyIndex.stderr.contains("empty"), "\(emptyIndex.stderr)")

    try dir.write("docs/a.txt", "The mitochondria is the powerhouse of the cell.\n")
    _ = try TomeBinary.run(["ingest", "docs", "--quiet"], in: dir.url)
    let noModel = try TomeBinary.run(["ask", "--model", "missing.gguf", "what is the powerhouse"], in: dir.url)
    #expect(noModel.status == 1 && noModel.stderr.contains("missing.gguf"))
    let noPrompts = try TomeBinary.run(["ask", "--prompts", "nowhere", "what is the powerhouse"], in: dir.url)
    #expect(noPrompts.status == 1 && noPrompts.stderr.contains("rag-system.txt"))
    let long = try TomeBinary.run(["ask", "--context", "256", String(repeating: "what is the powerhouse ", count: 80)], in: dir.url)
    #expect(long.status == 1 && long.stderr.contains("too long"), "\(long.stderr)")
  }

  @Test("tome ask --endpoint answers through a real tome serve; a dead endpoint or bad URL is a clear error")
  func endpoint() throws {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("essays"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: SharedData.data("paul_graham_essays/essays/superangels.txt"), to: dir.url.appendingPathComponent("essays/superangels.txt"))
    #expect(try TomeBinary.run(["ingest", "essays", "--quiet"], in: dir.url).status == 0)

    let (server, url) = try TomeBinary.serve(in: dir.url)
    defer { server.terminate() }
    let ask = try TomeBinary.run(
      ["ask", "--json", "--endpoint", url, "-k", "3", "--max-tokens", "24", "--context", "1500", "What is a super-angel?"], in: dir.url)
    #expect(ask.status == 0, "\(ask.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(ask.stdout.utf8)) as? [String: Any])
    #expect(!(json["answer"] as? String ?? "").isEmpty)
    #expect(!(json["evidence"] as? [[String: Any]] ?? []).isEmpty)
    // The answering model is the endpoint (no --endpoint-model given), not an in-process file.
    #expect((json["model"] as? String)?.contains("127.0.0.1") == true, "\(json["model"] ?? "nil")")

    server.terminate()
    server.waitUntilExit()
    let dead = try TomeBinary.run(["ask", "--endpoint", url, "--max-tokens", "8", "What is a super-angel?"], in: dir.url)
    #expect(dead.status == 1 && dead.stderr.contains("127.0.0.1"), "\(dead.stderr)")
    let badURL = try TomeBinary.run(["ask", "--endpoint", "localhost:8080", "What is a super-angel?"], in: dir.url)
    #expect(badURL.status == 2 && badURL.stderr.contains("--endpoint"))
    let both = try TomeBinary.run(["ask", "--endpoint", url, "--model", "x.gguf", "What is a super-angel?"], in: dir.url)
    #expect(both.status == 2)
  }

  /// The keys of every object in `value` by path, an array's elements merged under `path[]`
  /// (`citations[]`), so answers with different counts of citations compare by shape.
  static func shape(_ value: Any, at path: String = "", into shape: inout [String: Set<String>]) {
    if let object = value as? [String: Any] {
      shape[path, default: []].formUnion(object.keys)
      for (key, child) in object { Self.shape(child, at: path.isEmpty ? key : path + "." + key, into: &shape) }
    } else if let array = value as? [Any] {
      for element in array { Self.shape(element, at: path + "[]", into: &shape) }
    }
  }

  @Test("ask --json, a batch output line and POST /v1/ask carry the same answer record keys")
  func sameRecord() throws {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("essays"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: SharedData.data("paul_graham_essays/essays/superangels.txt"), to: dir.url.appendingPathComponent("essays/superangels.txt"))
    #expect(try TomeBinary.run(["ingest", "essays", "--quiet"], in: dir.url).status == 0)
    let question = "What is a super-angel?"
    let options = ["--strategy", "rag", "-k", "3", "--max-tokens", "24", "--context", "1500"]

    let ask = try TomeBinary.run(["ask", "--json"] + options + [question], in: dir.url)
    #expect(ask.status == 0, "\(ask.stderr)")
    let asked = try JSONSerialization.jsonObject(with: Data(ask.stdout.utf8))

    try dir.write("questions.jsonl", #"{"id": 1, "question": "\#(question)"}"# + "\n")
    let batch = try TomeBinary.run(["batch", "questions.jsonl"] + options, in: dir.url)
    #expect(batch.status == 0, "\(batch.stderr)")
    let line = try String(contentsOf: dir.url.appendingPathComponent("questions.results.jsonl"), encoding: .utf8)
    var batched = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    #expect(batched["id"] as? Int == 1 && batched["scores"] is [String: Any])
    batched["id"] = nil
    batched["scores"] = nil

    let (server, out, _) = try TomeBinary.start(["serve", "--port", "0", "--index", "default"], in: dir.url)
    defer { server.terminate() }
    var banner = Data()
    while !String(decoding: banner, as: UTF8.self).contains("\n") {
      let piece = out.fileHandleForReading.availableData
      if piece.isEmpty { break }
      banner.append(piece)
    }
    let text = String(decoding: banner, as: UTF8.self)
    let url = try #require(text.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init), "\(text)")
    let curl = Process()
    curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    curl.arguments = [
      "-s", "-m", "300", "-X", "POST", "-H", "content-type: application/json",
      "-d", #"{"question": "\#(question)", "max_tokens": 24, "strategy": "rag"}"#, url + "/v1/ask",
    ]
    let reply = Pipe()
    curl.standardOutput = reply
    try curl.run()
    let served = try JSONSerialization.jsonObject(with: reply.fileHandleForReading.readAll())
    curl.waitUntilExit()

    var shapes: [[String: Set<String>]] = []
    for value in [asked, batched as Any, served] {
      var shape: [String: Set<String>] = [:]
      Self.shape(value, into: &shape)
      shapes.append(shape)
    }
    // The top level, tokens and timings always; a nested list's elements wherever two outputs have some.
    for path in ["", "tokens", "timings"] {
      #expect(shapes[0][path] != nil && shapes.allSatisfy { $0[path] == shapes[0][path] }, "\(path): \(shapes.map { $0[path] ?? [] })")
    }
    #expect(shapes[0][""]?.isSuperset(of: ["answer", "citations", "attributions", "evidence", "passages", "trace", "not_found"]) == true)
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
      for (path, keys) in shapes[a] where shapes[b][path] != nil {
        #expect(shapes[b][path] == keys, "\(path) differs between outputs \(a) and \(b)")
      }
    }
    #expect((served as? [String: Any])?["strategy"] as? String == "rag")
  }
}
