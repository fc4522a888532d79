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
    #expect((top["path"] as? String)?.hasSuffix("superangels.txt") == true && top["firstLine"] as? Int == 46)
    #expect(!(json["answer"] as? String ?? "").isEmpty)
    #expect(!(json["retrievedChunkIDs"] as? [Int] ?? []).isEmpty)
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
}
