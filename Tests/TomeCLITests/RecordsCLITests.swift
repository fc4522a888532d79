import Foundation
import Testing
import TomeTestSupport

/// The record graph and `--document` as a user meets them: `tome ask` with the real encoder and
/// model keeps each answer, `tome records` lists, shows and prunes them, and `--document`
/// keeps an answer within one file.
@Suite(.serialized, .timeLimit(.minutes(15))) struct RecordsCLITests {
  /// Fast answering: few chunks, short answers, a short prompt.
  static let fast = ["-k", "3", "--max-tokens", "16", "--context", "1500"]

  /// Two essays ingested into Indexes/default.
  static func collection() throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("essays"), withIntermediateDirectories: true)
    for name in ["superangels.txt", "aord.txt"] {
      try FileManager.default.copyItem(
        at: SharedData.data("paul_graham_essays/essays/\(name)"), to: dir.url.appendingPathComponent("essays/\(name)"))
    }
    let ingest = try TomeBinary.run(["ingest", "essays", "--quiet"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    return dir
  }

  static func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

  static func list(_ arguments: [String] = [], in dir: URL) throws -> [[String: Any]] {
    let run = try TomeBinary.run(["records", "list", "--json"] + arguments, in: dir)
    #expect(run.status == 0, "\(run.stderr)")
    return try #require(try json(run.stdout) as? [[String: Any]])
  }

  @Test("ask keeps a record that records list and show print; --no-record keeps none")
  func askRecords() throws {
    let dir = try Self.collection()
    #expect(try Self.list(in: dir.url).isEmpty)
    let question = "What is a super-angel?"
    let ask = try TomeBinary.run(["ask", "--json"] + Self.fast + [question], in: dir.url)
    #expect(ask.status == 0, "\(ask.stderr)")
    let answer = try #require(try Self.json(ask.stdout) as? [String: Any])

    let records = try Self.list(in: dir.url)
    #expect(records.count == 1)
    let record = try #require(records.first)
    #expect(record["question"] as? String == question && record["origin"] as? String == "ask" && record["strategy"] as? String == "rag")
    #expect(record["answer"] as? String == (answer["answer"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines))
    #expect(record["stale"] as? Bool == false && record["model"] is String)
    let shown = try #require(record["shown"] as? [Int])
    let passageChunks = (answer["passages"] as? [[String: Any]] ?? []).flatMap { $0["chunk_ids"] as? [Int] ?? [] }
    #expect(!shown.isEmpty && Set(shown) == Set(passageChunks))
    let id = try #require(record["id"] as? Int)

    let noRecord = try TomeBinary.run(["ask", "--no-record"] + Self.fast + ["What does default alive mean?"], in: dir.url)
    #expect(noRecord.status == 0, "\(noRecord.stderr)")
    #expect(try Self.list(in: dir.url).count == 1)

    let show = try TomeBinary.run(["records", "show", "\(id)"], in: dir.url)
    #expect(show.status == 0, "\(show.stderr)")
    #expect(show.stdout.contains("Question  \(question)") && show.stdout.contains("Strategy  rag") && show.stdout.contains("Origin    ask"))
    #expect(show.stdout.contains("essays/superangels.txt:"), "\(show.stdout)")
    let showJSON = try TomeBinary.run(["records", "show", "\(id)", "--json"], in: dir.url)
    let detail = try #require(try Self.json(showJSON.stdout) as? [String: Any])
    let sources = try #require(detail["sources"] as? [[String: Any]])
    #expect(sources.map { $0["chunk_id"] as? Int } == shown.map { $0 })
    #expect(sources.allSatisfy { ($0["citation"] as? String)?.contains("/essays/") == true && $0["first_line"] is Int })

    let missing = try TomeBinary.run(["records", "show", "999"], in: dir.url)
    #expect(missing.status == 1 && missing.stderr.contains("no record 999"), "\(missing.stderr)")
    let filtered = try Self.list(["--origin", "batch"], in: dir.url)
    #expect(filtered.isEmpty)
  }

  @Test("re-ingesting a changed file marks its records stale; prune --stale removes them; prune without a filter refuses")
  func staleAndPrune() throws {
    let dir = try Self.collection()
    let ask = try TomeBinary.run(["ask", "--document", "superangels.txt"] + Self.fast + ["What is a super-angel?"], in: dir.url)
    #expect(ask.status == 0, "\(ask.stderr)")
    let other = try TomeBinary.run(["ask", "--document", "aord.txt"] + Self.fast + ["What does default alive mean?"], in: dir.url)
    #expect(other.status == 0, "\(other.stderr)")
    #expect(try Self.list(in: dir.url).count == 2)
    #expect(try Self.list(["--stale"], in: dir.url).isEmpty)

    let refused = try TomeBinary.run(["records", "prune"], in: dir.url)
    #expect(refused.status == 2 && refused.stderr.contains("--all"), "\(refused.stderr)")
    #expect(try Self.list(in: dir.url).count == 2)

    let file = dir.url.appendingPathComponent("essays/superangels.txt")
    let text = try String(contentsOf: file, encoding: .utf8)
    try ("Superangels, revised.\n\n" + text).write(to: file, atomically: true, encoding: .utf8)
    let reingest = try TomeBinary.run(["ingest", "--quiet"], in: dir.url)
    #expect(reingest.status == 0, "\(reingest.stderr)")
    let stale = try Self.list(["--stale"], in: dir.url)
    #expect(stale.map { $0["question"] as? String } == ["What is a super-angel?"])

    let prune = try TomeBinary.run(["records", "prune", "--stale"], in: dir.url)
    #expect(prune.status == 0, "\(prune.stderr)")
    #expect(prune.stdout.contains("pruned 1 record; 1 left"), "\(prune.stdout)")
    #expect(try Self.list(in: dir.url).map { $0["question"] as? String } == ["What does default alive mean?"])
    let older = try TomeBinary.run(["records", "prune", "--older-than", "1h"], in: dir.url)
    #expect(older.status == 0 && older.stdout.contains("pruned 0 records"), "\(older.stdout)")
    let badAge = try TomeBinary.run(["records", "prune", "--older-than", "soon"], in: dir.url)
    #expect(badAge.status == 2, "\(badAge.stderr)")
    let all = try TomeBinary.run(["records", "prune", "--all"], in: dir.url)
    #expect(all.status == 0 && all.stdout.contains("pruned 1 record; 0 left"), "\(all.stdout)")
  }

  @Test("--document keeps every passage and citation in that file; an unknown or ambiguous path is a one-line error")
  func document() throws {
    let dir = try Self.collection()
    // Both essays answer this; with --document only one may.
    let question = "What do investors want from founders?"
    let open = try TomeBinary.run(["ask", "--json", "--no-record"] + Self.fast + [question], in: dir.url)
    let openPassages = (try Self.json(open.stdout) as? [String: Any])?["passages"] as? [[String: Any]] ?? []
    #expect(openPassages.contains { ($0["path"] as? String)?.hasSuffix("/essays/superangels.txt") == true }, "\(open.stdout)")
    let ask = try TomeBinary.run(["ask", "--json", "--document", "essays/aord.txt"] + Self.fast + [question], in: dir.url)
    #expect(ask.status == 0, "\(ask.stderr)")
    let json = try #require(try Self.json(ask.stdout) as? [String: Any])
    let passages = try #require(json["passages"] as? [[String: Any]])
    #expect(!passages.isEmpty)
    #expect(passages.allSatisfy { ($0["path"] as? String)?.hasSuffix("/essays/aord.txt") == true }, "\(passages.map { $0["path"] ?? "" })")
    for citation in json["citations"] as? [[String: Any]] ?? [] {
      if let path = citation["path"] as? String { #expect(path.hasSuffix("/essays/aord.txt")) }
    }
    for evidence in json["evidence"] as? [[String: Any]] ?? [] {
      #expect((evidence["path"] as? String)?.hasSuffix("/essays/aord.txt") == true)
    }

    let unknown = try TomeBinary.run(["ask", "--document", "Bed002.txt"] + Self.fast + ["What is a super-angel?"], in: dir.url)
    #expect(unknown.status == 1, "\(unknown.stderr)")
    #expect(unknown.stderr.hasPrefix("error: no document \"Bed002.txt\"") && unknown.stderr.split(separator: "\n").count == 1, "\(unknown.stderr)")

    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("more"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: dir.url.appendingPathComponent("essays/aord.txt"), to: dir.url.appendingPathComponent("more/aord.txt"))
    #expect(try TomeBinary.run(["ingest", "more", "--quiet"], in: dir.url).status == 0)
    let ambiguous = try TomeBinary.run(["ask", "--document", "aord.txt"] + Self.fast + ["What is default alive?"], in: dir.url)
    #expect(ambiguous.status == 1 && ambiguous.stderr.split(separator: "\n").count == 1, "\(ambiguous.stderr)")
    #expect(ambiguous.stderr.contains("ambiguous") && ambiguous.stderr.contains("more/aord.txt") && ambiguous.stderr.contains("essays/aord.txt"))
  }

  @Test("batch keeps records of origin batch (none with --no-record); a line's `document` scopes it, a bad one is a skipped line")
  func batch() throws {
    let dir = try Self.collection()
    try """
      {"id": 1, "question": "What do investors want from founders?", "document": "aord.txt"}
      {"id": 2, "question": "What does default alive mean?", "document": ["Bed002.txt"]}
      {"id": 3, "question": "Why do startups die?"}

      """.write(to: dir.url.appendingPathComponent("q.jsonl"), atomically: true, encoding: .utf8)
    let run = try TomeBinary.run(["batch", "q.jsonl"] + Self.fast, in: dir.url)
    #expect(run.status == 1, "one line was skipped: \(run.stderr)")
    #expect(run.stderr.contains("skipped: q.jsonl:2: no document \"Bed002.txt\""), "\(run.stderr)")
    let lines = try String(contentsOf: dir.url.appendingPathComponent("q.results.jsonl"), encoding: .utf8).split(separator: "\n")
    let results = try lines.map { try #require(try Self.json(String($0)) as? [String: Any]) }
    #expect(results.map { $0["id"] as? Int } == [1, 3])
    let scoped = try #require(results.first?["passages"] as? [[String: Any]])
    #expect(!scoped.isEmpty && scoped.allSatisfy { ($0["path"] as? String)?.hasSuffix("/essays/aord.txt") == true })
    let records = try Self.list(in: dir.url)
    #expect(records.count == 2 && records.allSatisfy { $0["origin"] as? String == "batch" })

    try "{\"id\": 9, \"question\": \"Who are superangels competing with?\"}\n".write(
      to: dir.url.appendingPathComponent("r.jsonl"), atomically: true, encoding: .utf8)
    let quiet = try TomeBinary.run(["batch", "r.jsonl", "--no-record"] + Self.fast, in: dir.url)
    #expect(quiet.status == 0, "\(quiet.stderr)")
    #expect(try Self.list(in: dir.url).count == 2)
  }

  /// The `records` note of a gor answer's trace ("N records on this text; …").
  static func recordsNote(_ stdout: String) throws -> String {
    let answer = try #require(try json(stdout) as? [String: Any])
    let trace = try #require(answer["trace"] as? [[String: Any]])
    return try #require(trace.first { $0["label"] as? String == "records" }?["detail"] as? String)
  }

  @Test("gor keeps its simulated answers as records; a second process reuses them; re-ingesting the document makes them stale and they are simulated again")
  func gorRecordsAcrossRuns() throws {
    let dir = try Self.collection()
    let gor = ["ask", "--json", "--strategy", "gor", "--questions", "3", "--document", "superangels.txt"] + Self.fast
    let first = try TomeBinary.run(gor + ["Summarise this essay."], in: dir.url)
    #expect(first.status == 0, "\(first.stderr)")
    #expect(try Self.recordsNote(first.stdout).hasSuffix("0 of 3 strata covered, 3 to simulate"))
    let simulated = try Self.list(["--origin", "simulated"], in: dir.url)
    #expect(simulated.count == 3 && simulated.allSatisfy { $0["strategy"] as? String == "gor" })

    let second = try TomeBinary.run(gor + ["What are the main points of this essay?"], in: dir.url)
    #expect(second.status == 0, "\(second.stderr)")
    #expect(try Self.recordsNote(second.stdout).hasSuffix("3 of 3 strata covered, 0 to simulate"))
    let calls = try #require((try Self.json(second.stdout) as? [String: Any])?["tokens"] as? [String: Any])
    #expect(calls["calls"] as? Int == 1)

    let path = dir.url.appendingPathComponent("essays/superangels.txt")
    try (String(contentsOf: path, encoding: .utf8) + "\nA line added after the records were written.\n").write(to: path, atomically: true, encoding: .utf8)
    let ingest = try TomeBinary.run(["ingest", "--quiet"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    #expect(try Self.list(["--origin", "simulated", "--stale"], in: dir.url).count == 3)
    let third = try TomeBinary.run(gor + ["Summarise this essay."], in: dir.url)
    #expect(third.status == 0, "\(third.stderr)")
    #expect(try Self.recordsNote(third.stdout).hasSuffix("0 of 3 strata covered, 3 to simulate"))
  }
}
