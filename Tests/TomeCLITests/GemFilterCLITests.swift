import Foundation
import Testing
import TomeTestSupport

/// `--filter gem` through the real `tome` binary and model: the trace shows the selection and
/// the answer reads fewer tokens; bad values and an endpoint are refused with clear messages.
@Suite(.serialized, .timeLimit(.minutes(15))) struct GemFilterCLITests {
  @Test("ask --filter gem: the prompt is read early, cut to the kept tokens, and answered")
  func ask() throws {
    let dir = try StrategyCLITests.essays()
    let ask = try TomeBinary.run(
      ["ask", "--filter", "gem", "--filter-tokens", "128", "--trace", "-k", "4", "--max-tokens", "24", "--context", "1500",
       "What is a super-angel?"],
      in: dir.url)
    #expect(ask.status == 0, "\(ask.stderr)")
    #expect(ask.stderr.contains("· model_call gem filter") && ask.stderr.contains("kept"), "\(ask.stderr)")
    #expect(ask.stdout.contains("Answer\n"))

    let json = try TomeBinary.run(
      ["ask", "--filter", "gem", "--filter-tokens", "128", "--filter-layer", "3", "--json", "-k", "4", "--max-tokens", "24",
       "--context", "1500", "What is a super-angel?"],
      in: dir.url)
    #expect(json.status == 0, "\(json.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    let trace = try #require(object["trace"] as? [[String: Any]])
    let filter = try #require(trace.first { $0["label"] as? String == "gem filter" }, "\(trace)")
    #expect((filter["detail"] as? String)?.contains("through layer 3") == true)
    #expect((filter["detail"] as? String)?.contains("kept") == true && (filter["detail"] as? String)?.contains("128 of") == true)
    #expect(!(object["answer"] as? String ?? "").isEmpty)
  }

  @Test("bad --filter values are usage errors that say what is allowed")
  func badValues() throws {
    let dir = try TemporaryDirectory()
    let unknown = try TomeBinary.run(["ask", "--filter", "sieve", "q"], in: dir.url)
    #expect(unknown.status == 2 && unknown.stderr.contains("none") && unknown.stderr.contains("gem"), "\(unknown.stderr)")
    let small = try TomeBinary.run(["ask", "--filter", "gem", "--filter-tokens", "8", "q"], in: dir.url)
    #expect(small.status == 2 && small.stderr.contains("--filter-tokens must be between 16 and 65536"), "\(small.stderr)")
    let negative = try TomeBinary.run(["ask", "--filter", "gem", "--filter-layer", "-1", "q"], in: dir.url)
    #expect(negative.status == 2 && negative.stderr.contains("--filter-layer must be 0 or more"), "\(negative.stderr)")
    let alone = try TomeBinary.run(["ask", "--filter-tokens", "256", "q"], in: dir.url)
    #expect(alone.status == 2 && alone.stderr.contains("need --filter gem"), "\(alone.stderr)")
    let strategy = try TomeBinary.run(["ask", "--filter", "gem", "--strategy", "coc", "q"], in: dir.url)
    #expect(strategy.status == 2 && strategy.stderr.contains("--strategy rag or attend"), "\(strategy.stderr)")
  }

  @Test("a layer the model lacks, and an endpoint, fail with the reason and no answer")
  func unavailable() throws {
    let dir = try StrategyCLITests.essays()
    let layer = try TomeBinary.run(
      ["ask", "--filter", "gem", "--filter-tokens", "64", "--filter-layer", "99", "-k", "4", "--max-tokens", "8", "--context", "1500",
       "What is a super-angel?"],
      in: dir.url)
    #expect(layer.status != 0 && layer.stderr.contains("reads layer 99, but the model has layers 0…29"), "\(layer.stderr)")

    let (server, url) = try TomeBinary.serve(in: dir.url)
    defer { server.terminate() }
    let ask = try TomeBinary.run(
      ["ask", "--filter", "gem", "--endpoint", url, "-k", "4", "--max-tokens", "8", "--context", "1500", "What is a super-angel?"],
      in: dir.url)
    #expect(ask.status != 0 && ask.stderr.contains("--filter gem needs the in-process model"), "\(ask.stderr)")
    #expect(!ask.stdout.contains("Answer\n"))
  }
}
