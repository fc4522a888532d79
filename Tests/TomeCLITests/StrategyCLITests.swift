import Foundation
import Testing
import TomeTestSupport

/// `--strategy` through the real `tome` binary: coc with `--trace` on the in-process model
/// (scored decisions), agents over a real `tome serve` endpoint (parsed decisions), the chat's
/// `/strategy`, and bad names.
@Suite(.serialized, .timeLimit(.minutes(15))) struct StrategyCLITests {
  static func essays() throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("essays"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: SharedData.data("paul_graham_essays/essays/superangels.txt"), to: dir.url.appendingPathComponent("essays/superangels.txt"))
    let ingest = try TomeBinary.run(["ingest", "essays", "--quiet"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    return dir
  }

  @Test("ask --strategy coc --trace: clarifies, scores relevance by log-probability, cites real lines")
  func cocTrace() throws {
    let dir = try Self.essays()
    let ask = try TomeBinary.run(
      ["ask", "--strategy", "coc", "--trace", "-k", "4", "--max-tokens", "24", "--context", "1500", "What is a super-angel?"], in: dir.url)
    #expect(ask.status == 0, "\(ask.stderr)")
    #expect(ask.stderr.contains("· model_call clarify 1"), "\(ask.stderr)")
    #expect(ask.stderr.contains("· search pointback"))
    #expect(ask.stderr.contains("· decision relevance of superangels.txt") && ask.stderr.contains("logprob"))
    #expect(ask.stdout.contains("Answer\n"))

    let json = try TomeBinary.run(
      ["ask", "--strategy", "coc", "--json", "-k", "4", "--max-tokens", "24", "--context", "1500", "What is a super-angel?"], in: dir.url)
    #expect(json.status == 0, "\(json.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect(object["strategy"] as? String == "coc")
    let trace = try #require(object["trace"] as? [[String: Any]])
    #expect(trace.contains { $0["kind"] as? String == "decision" && $0["method"] as? String == "logprob" })
  }

  @Test("ask --strategy agents over a real tome serve: decisions are parsed from replies and the trace says so")
  func agentsOverEndpoint() throws {
    let dir = try Self.essays()
    let (server, url) = try TomeBinary.serve(in: dir.url)
    defer { server.terminate() }
    let ask = try TomeBinary.run(
      ["ask", "--strategy", "agents", "--agents", "2", "--parallel-agents", "2", "--endpoint", url, "--trace", "--max-tokens", "24",
       "--context", "1500", "What is a super-angel?"],
      in: dir.url)
    #expect(ask.status == 0, "\(ask.stderr)")
    #expect(ask.stderr.contains("agent 1 has information") && ask.stderr.contains("parsed"), "\(ask.stderr)")
    #expect(!ask.stderr.contains("logprob"))
  }

  @Test("chat /strategy switches the strategy of the next answers; unknown names are refused with the list")
  func chatStrategy() throws {
    let dir = try Self.essays()
    let chat = try TomeBinary.run(
      ["chat", "-k", "3", "--max-tokens", "16", "--context", "1500"], in: dir.url,
      input: "/strategy\n/strategy coc\nWhat is a super-angel?\n/strategy nonsense\n/exit\n")
    #expect(chat.status == 0, "\(chat.stderr)")
    #expect(chat.stdout.contains("strategy: rag (available: rag, coc, agents, gor, infty, mapreduce, attend, auto)"), "\(chat.stdout)")
    #expect(chat.stdout.contains("strategy: coc ("))
    #expect(chat.stderr.contains("unknown strategy nonsense; available: rag, coc, agents, gor, infty, mapreduce, attend, auto"))
    // The turn answered by coc is stored with its strategy.
    let resumed = try TomeBinary.run(["chat", "--resume"], in: dir.url, input: "/history\n/exit\n")
    #expect(resumed.status == 0 && resumed.stdout.contains("super-angel"), "\(resumed.stdout)")
  }

  @Test("an unknown --strategy is a usage error naming the strategies; --parallel-agents needs --endpoint, in ask and in batch")
  func badNames() throws {
    let dir = try TemporaryDirectory()
    let bad = try TomeBinary.run(["ask", "--strategy", "magic", "what"], in: dir.url)
    #expect(bad.status == 2 && bad.stderr.contains("rag") && bad.stderr.contains("agents"), "\(bad.stderr)")
    let parallel = try TomeBinary.run(["ask", "--strategy", "agents", "--parallel-agents", "3", "what"], in: dir.url)
    #expect(parallel.status == 2 && parallel.stderr.contains("--parallel-agents needs --endpoint"), "\(parallel.stderr)")
    // Batch has its own --parallel (questions at once); the agents' option is still reachable.
    let batch = try TomeBinary.run(["batch", "q.jsonl", "--strategy", "agents", "--parallel-agents", "3"], in: dir.url)
    #expect(batch.status == 2 && batch.stderr.contains("--parallel-agents needs --endpoint"), "\(batch.stderr)")
    let help = try TomeBinary.run(["batch", "run", "--help"], in: dir.url)
    #expect(help.stdout.components(separatedBy: "  --parallel ").count == 2, "\(help.stdout)")
  }
}
