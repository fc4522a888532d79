import Foundation
#if canImport(FoundationXML)
  import FoundationXML
#endif
import Testing
import TomeKit
import TomeStore
import TomeTestSupport

/// `tome batch` as a user runs it: a real collection, the real encoder and model, a child
/// process that is killed and re-run.
@Suite(.serialized, .timeLimit(.minutes(15))) struct BatchCLITests {
  /// Fast answering: few chunks, short answers, a short prompt.
  static let fast = ["-k", "3", "--max-tokens", "24", "--context", "1500"]

  /// A folder with a few Paul Graham essays ingested into Indexes/default.
  static func collection(_ essays: [String]) throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("essays"), withIntermediateDirectories: true)
    for name in essays {
      try FileManager.default.copyItem(
        at: SharedData.data("paul_graham_essays/essays/\(name)"), to: dir.url.appendingPathComponent("essays/\(name)"))
    }
    let ingest = try TomeBinary.run(["ingest", "essays", "--quiet"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    return dir
  }

  static let questions = [
    "What is a super-angel?", "Why do startups die?", "What does default alive mean?", "Who are superangels competing with?",
    "What should a founder do when growth is slow?", "How much money do angels invest?", "What is ramen profitable?",
    "Why are VCs worried about superangels?",
  ]

  @Test("a batch killed after its first results resumes without answering any question twice")
  func killAndResume() throws {
    let dir = try Self.collection(["superangels.txt", "aord.txt", "startuplessons.txt"])
    let lines = Self.questions.enumerated().map { i, q in
      i % 2 == 0 ? #"{"id": "q\#(i + 1)", "question": "\#(q)", "topic": "pg"}"# : #"{"id": \#(i + 1), "question": "\#(q)"}"#
    }
    try dir.write("questions.jsonl", lines.joined(separator: "\n") + "\n")
    let arguments = ["batch", "questions.jsonl"] + Self.fast
    let store = try IndexStore(directory: dir.url.appendingPathComponent("Indexes/default"), create: false)

    let (process, _, _) = try TomeBinary.start(arguments, in: dir.url)
    var committed: [JobResultRecord] = []
    while process.isRunning {
      if let job = try store.jobs().first {
        committed = try store.jobResults(jobID: job.id)
        if committed.count >= 2 { break }
      }
      Thread.sleep(forTimeInterval: 0.05)
    }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    #expect(process.terminationReason == .uncaughtSignal, "the batch finished before it could be killed")
    let job = try #require(try store.jobs().first)
    let beforeResume = try store.jobResults(jobID: job.id)
    #expect(beforeResume.count >= 2 && beforeResume.count < 8)

    let resumed = try TomeBinary.run(arguments, in: dir.url)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stderr.contains("resuming job \(job.id): \(beforeResume.count)/8 done"), "\(resumed.stderr)")
    #expect(resumed.stdout.contains("questions") && resumed.stdout.contains("mean latency"))

    // Every id once in the table, in input order; the rows from before the kill untouched.
    let after = try store.jobResults(jobID: job.id)
    #expect(after.map(\.questionID) == ["q1", "2", "q3", "4", "q5", "6", "q7", "8"])
    for row in beforeResume { #expect(after.first { $0.questionID == row.questionID }?.result == row.result) }
    #expect(try store.job(id: job.id)?.status == .finished)

    // The output holds each id once, in input order, with the passthrough field.
    let output = try String(contentsOf: dir.url.appendingPathComponent("questions.results.jsonl"), encoding: .utf8)
    let objects = try output.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    #expect(objects.map { "\($0["id"] ?? "")" } == ["q1", "2", "q3", "4", "q5", "6", "q7", "8"])
    #expect(objects[0]["topic"] as? String == "pg" && objects[1]["topic"] == nil)
    for o in objects {
      #expect(o["answer"] is String && o["passages"] is [Any] && o["dropped_chunk_ids"] is [Any] && o["tokens"] is [String: Any] && o["timings"] is [String: Any])
    }

    // Everything done: a third run answers nothing and still writes the whole output.
    try FileManager.default.removeItem(at: dir.url.appendingPathComponent("questions.results.jsonl"))
    let third = try TomeBinary.run(arguments, in: dir.url)
    #expect(third.status == 0 && third.stderr.contains("resuming job \(job.id): 8/8 done"), "\(third.stderr)")
    #expect(try store.jobResults(jobID: job.id).map(\.result) == after.map(\.result))
    let rewritten = try String(contentsOf: dir.url.appendingPathComponent("questions.results.jsonl"), encoding: .utf8)
    #expect(rewritten == output)
  }

  @Test("malformed lines skipped with their numbers; duplicate ids and empty input exit 1 before anything runs; --restart")
  func badInputAndRestart() throws {
    let dir = try Self.collection(["superangels.txt"])
    let store = try IndexStore(directory: dir.url.appendingPathComponent("Indexes/default"), create: false)

    try dir.write("dup.jsonl", #"{"id": 1, "question": "a?"}"# + "\n" + #"{"id": 1, "question": "b?"}"# + "\n")
    let dup = try TomeBinary.run(["batch", "dup.jsonl"] + Self.fast, in: dir.url)
    #expect(dup.status == 1 && dup.stderr.contains("duplicate ids") && dup.stderr.split(separator: "\n").count == 1, "\(dup.stderr)")
    try dir.write("empty.jsonl", "\n")
    let empty = try TomeBinary.run(["batch", "empty.jsonl"], in: dir.url)
    #expect(empty.status == 1 && empty.stderr.contains("empty"), "\(empty.stderr)")
    let missing = try TomeBinary.run(["batch", "missing.jsonl"], in: dir.url)
    #expect(missing.status == 1 && missing.stderr.contains("missing.jsonl"), "\(missing.stderr)")
    #expect(try store.jobs().isEmpty)

    let text = """
      {"id": "s1", "question": "What is a super-angel?", "gold": ["an angel who invests more"]}
      {"id": "s2", "question": "What is a super-angel?"
      {"id": "s3"}
      {"id": "s4", "question": "Who competes with superangels?", "gold": ["VCs", "venture capitalists"]}
      """
    try dir.write("questions.jsonl", text + "\n")
    let run = try TomeBinary.run(["batch", "questions.jsonl", "--output", "out.jsonl", "--report", "report.json"] + Self.fast, in: dir.url)
    // The valid questions are answered and written, but skipped lines make the run fail (issue 11).
    #expect(run.status == 1, "\(run.stderr)")
    #expect(run.stderr.contains("2 input line(s) were skipped"), "\(run.stderr)")
    #expect(run.stderr.contains("questions.jsonl:2: not valid JSON ("), "\(run.stderr)")
    #expect(run.stderr.contains("questions.jsonl:3: missing question"), "\(run.stderr)")
    let out = try String(contentsOf: dir.url.appendingPathComponent("out.jsonl"), encoding: .utf8).split(separator: "\n")
    #expect(out.count == 2)
    let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.url.appendingPathComponent("report.json"))) as? [String: Any])
    #expect(report["n"] as? Int == 2 && report["f1"] is [String: Any] && report["questions_per_minute"] is Double)
    #expect(report["skipped_lines"] as? Int == 2)
    let job = try #require(try store.jobs().first)
    let first = try store.jobResults(jobID: job.id)

    let restart = try TomeBinary.run(["batch", "questions.jsonl", "--output", "out.jsonl", "--restart"] + Self.fast, in: dir.url)
    #expect(restart.status == 1 && restart.stderr.contains("job \(job.id): 2 questions (restarted)"), "\(restart.stderr)")
    let second = try store.jobResults(jobID: job.id)
    #expect(second.map(\.questionID) == ["s1", "s4"])
    #expect(try store.jobs().count == 1)
    #expect(second.map(\.result) != first.map(\.result))  // answered again: the timings differ

    // Other settings are another job.
    let other = try TomeBinary.run(["batch", "questions.jsonl", "--output", "out.jsonl", "-k", "2", "--max-tokens", "16", "--context", "1500"], in: dir.url)
    #expect(other.status == 1 && other.stderr.contains("job \(job.id + 1): 2 questions"), "\(other.stderr)")
  }

  @Test("--parallel through an HTTP endpoint (a real tome serve): every question once, output in input order")
  func parallelEndpoint() throws {
    let dir = try Self.collection(["superangels.txt"])
    let (server, out, _) = try TomeBinary.start(["serve", "--port", "0", "--models", SharedData.models.path], in: dir.url)
    defer { server.terminate() }
    var banner = Data()
    for _ in 0..<400 where !banner.contains(UInt8(ascii: "\n")) {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      banner.append(chunk)
    }
    let url = try #require(String(decoding: banner, as: UTF8.self).firstMatch(of: /listening on (http:\/\/127\.0\.0\.1:\d+)/)?.1)
    let lines = Self.questions.prefix(4).enumerated().map { i, q in #"{"id": "p\#(i + 1)", "question": "\#(q)"}"# }
    try dir.write("questions.jsonl", lines.joined(separator: "\n") + "\n")
    let run = try TomeBinary.run(
      ["batch", "questions.jsonl", "--endpoint", String(url), "--parallel", "4", "-k", "3", "--max-tokens", "8", "--context", "1500"],
      in: dir.url)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(!run.stderr.contains("one question at a time"))
    let output = try String(contentsOf: dir.url.appendingPathComponent("questions.results.jsonl"), encoding: .utf8)
    let ids = try output.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["id"] as? String
    }
    #expect(ids == ["p1", "p2", "p3", "p4"])
    let store = try IndexStore(directory: dir.url.appendingPathComponent("Indexes/default"), create: false)
    let job = try #require(try store.jobs().first)
    #expect(job.status == .finished)
    #expect(try store.jobResultCount(jobID: job.id) == 4)

    // The in-process model ignores --parallel, and says so.
    let local = try TomeBinary.run(["batch", "questions.jsonl", "--parallel", "2", "-k", "2", "--max-tokens", "4", "--context", "1500"], in: dir.url)
    #expect(local.status == 0 && local.stderr.contains("one question at a time"), "\(local.stderr)")
  }

  @Test("compare two result files: table and --json with the flipped questions")
  func compare() throws {
    let dir = try TemporaryDirectory()
    try dir.write("a.jsonl", """
      {"id": "q1", "question": "one?", "answer": "x", "scores": {"em": 1, "f1": 1}}
      {"id": "q2", "question": "two?", "answer": "y", "scores": {"em": 0, "f1": 0.5}}
      """)
    try dir.write("b.jsonl", """
      {"id": "q1", "question": "one?", "answer": "w", "scores": {"em": 0, "f1": 0.25}}
      {"id": "q2", "question": "two?", "answer": "y", "scores": {"em": 0, "f1": 0.5}}
      """)
    let text = try TomeBinary.run(["batch", "compare", "a.jsonl", "b.jsonl"], in: dir.url)
    #expect(text.status == 0, "\(text.stderr)")
    #expect(text.stdout.contains("em            0.500    0.000    -0.500"), "\(text.stdout)")
    #expect(text.stdout.contains("right in A only (1):\n  q1  one?"), "\(text.stdout)")
    let json = try TomeBinary.run(["batch", "compare", "--json", "a.jsonl", "b.jsonl"], in: dir.url)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect((object["broken"] as? [[String: Any]])?.first?["id"] as? String == "q1")
    #expect((object["fixed"] as? [Any])?.isEmpty == true)
    let bad = try TomeBinary.run(["batch", "compare", "a.jsonl", "nope.jsonl"], in: dir.url)
    #expect(bad.status == 1 && bad.stderr.contains("nope.jsonl"))
  }

  @Test("bench qa: ingests the folder, answers and scores the questions, writes JSON and a bar chart that parses")
  func benchQA() throws {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("essays"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: SharedData.data("paul_graham_essays/essays/superangels.txt"), to: dir.url.appendingPathComponent("essays/superangels.txt"))
    try dir.write("questions.jsonl", """
      {"id": "a", "question": "What is a super-angel?", "gold": ["an angel investor"]}
      {"id": "b", "question": "Who are the VCs worried about?", "gold": ["super-angels"]}
      """)
    let run = try TomeBinary.run(
      ["bench", "qa", "essays", "questions.jsonl", "-k", "2", "--max-tokens", "8", "--context", "1500", "--json", "qa.json", "--plot", "qa.svg"],
      in: dir.url)
    #expect(run.status == 0, "\(run.stderr)")
    let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.url.appendingPathComponent("qa.json"))) as? [String: Any])
    #expect("\(summary)".contains("f1"), "\(summary)")
    let svg = try Data(contentsOf: dir.url.appendingPathComponent("qa.svg"))
    #expect(XMLParser(data: svg).parse())
    // em and f1 exist for every question with gold, so at least those two bars are drawn.
    #expect(String(decoding: svg, as: UTF8.self).components(separatedBy: "class=\"bar\"").count - 1 >= 2)
  }
}
