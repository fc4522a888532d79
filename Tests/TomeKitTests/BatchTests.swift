import Foundation
import Testing
import TomeCore
import TomeKit
import TomeReasoning
import TomeStore
import TomeTestSupport

@Suite struct BatchTests {
  @Test("malformed lines are reported with their numbers and skipped; extra fields pass through")
  func malformedLines() throws {
    let text = """
      {"id": "a", "question": "What is a superangel?", "gold": ["an angel investor"], "source": {"page": 4}}
      {"id": "b", "question": oops}

      {"id": 3}
      [1, 2]
      {"id": 4, "question": "Why?", "strategy": "zzz"}
      {"id": 5, "question": "Which?", "choices": ["x", "y"], "gold": "B", "gold_citations": [{"path": "a.txt", "lines": [2, 3]}]}
      {"question": "no id"}
      """
    let input = try BatchInput.parse(Data(text.utf8), name: "questions.jsonl")
    #expect(input.questions.map(\.key) == ["a", "5"])
    #expect(input.questions.map(\.line) == [1, 7])
    #expect(input.questions[0].extra["source"] == .object(["page": .integer(4)]))
    #expect(input.questions[1].id == .integer(5) && input.questions[1].gold == ["B"])
    #expect(input.questions[1].goldCitations == [GoldCitation(path: "a.txt", lines: 2...3)])
    let problems = input.problems.map(\.description)
    #expect(problems.count == 5)
    #expect(problems[0].hasPrefix("questions.jsonl:2: not valid JSON ("))
    #expect(problems[1] == "questions.jsonl:4: missing question")
    #expect(problems[2] == "questions.jsonl:5: not a JSON object")
    #expect(problems[3].hasPrefix("questions.jsonl:6: unknown strategy \"zzz\""))
    #expect(problems[4] == "questions.jsonl:8: missing id")
  }

  @Test("hostile numbers in a question line are skipped lines naming the field (issue 11)")
  func hostileNumbers() throws {
    let text = """
      {"id": 1, "question": "q", "gold_citations": [{"path": "a.txt", "page": -9223372036854775808}]}
      {"id": 2, "question": "q", "gold_citations": [{"path": "a.txt", "lines": [-5, 2]}]}
      {"id": 3, "question": "q", "gold_citations": [{"path": "a.txt", "lines": [99999999999999999999, 1]}]}
      {"id": 1e400, "question": "q"}
      {"id": -9223372036854775808, "question": "fine: an id is only a name"}
      """
    let input = try BatchInput.parse(Data(text.utf8), name: "q.jsonl")
    let problems = input.problems.map(\.description)
    #expect(problems.count == 4, "\(problems)")
    #expect(problems.first?.contains("q.jsonl:1:") == true && problems.first?.contains("page") == true, "\(problems)")
    #expect(problems.dropFirst().first?.contains("lines") == true)
    #expect(problems.dropFirst(2).first?.contains("gold_citations") == true)
    #expect(input.questions.map(\.line) == [5])
  }

  @Test("duplicate ids and empty files are errors before anything runs")
  func duplicatesAndEmpty() {
    let dup = #"{"id": 1, "question": "a"}"# + "\n" + #"{"id": "1", "question": "b"}"# + "\n"
    #expect(throws: BatchInputError.self) { try BatchInput.parse(Data(dup.utf8), name: "q.jsonl") }
    do {
      _ = try BatchInput.parse(Data(dup.utf8), name: "q.jsonl")
    } catch {
      #expect("\(error)" == "q.jsonl: duplicate ids: \"1\" on lines 1 and 2; ids must be unique")
    }
    #expect(throws: BatchInputError.self) { try BatchInput.parse(Data(" \n\n".utf8), name: "q.jsonl") }
    #expect(throws: BatchInputError.self) { try BatchInput.read(URL(fileURLWithPath: "/nonexistent/q.jsonl")) }
  }

  @Test("jobs: the same key reopens the job with its results; restart clears them; a result is stored once")
  func jobs() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    let job = try store.openJob(key: "k1", inputPath: "/q.jsonl", settings: "s", total: 3)
    #expect(job.status == .running && job.total == 3)
    #expect(try store.saveJobResult(JobResultRecord(jobID: job.id, questionID: "b", line: 2, result: "{\"id\":\"b\"}")))
    #expect(try store.saveJobResult(JobResultRecord(jobID: job.id, questionID: "a", line: 1, result: "{\"id\":\"a\"}")))
    #expect(try !store.saveJobResult(JobResultRecord(jobID: job.id, questionID: "a", line: 1, result: "{\"id\":\"again\"}")))
    let again = try store.openJob(key: "k1", inputPath: "/moved/q.jsonl", settings: "s", total: 3)
    #expect(again.id == job.id && again.inputPath == "/moved/q.jsonl")
    #expect(try store.jobResults(jobID: job.id).map(\.result) == ["{\"id\":\"a\"}", "{\"id\":\"b\"}"])
    #expect(try store.answeredQuestionIDs(jobID: job.id) == ["a", "b"])
    let other = try store.openJob(key: "k2", inputPath: "/q.jsonl", settings: "t", total: 3)
    #expect(other.id != job.id)
    #expect(try store.jobResultCount(jobID: other.id) == 0)
    try store.finishJob(id: job.id)
    #expect(try store.job(key: "k1")?.status == .finished)
    try store.restartJob(id: job.id)
    #expect(try store.jobResultCount(jobID: job.id) == 0)
    #expect(try store.job(id: job.id)?.status == .running)
  }

  @Test("the job key changes with the input's content and with the settings")
  func jobKey() throws {
    let a = try BatchInput.parse(Data(#"{"id": 1, "question": "a"}"#.utf8), name: "q")
    let b = try BatchInput.parse(Data(#"{"id": 1, "question": "b"}"#.utf8), name: "q")
    #expect(BatchRunner.jobKey(inputDigest: a.digest, settings: "k=3") == BatchRunner.jobKey(inputDigest: a.digest, settings: "k=3"))
    #expect(BatchRunner.jobKey(inputDigest: a.digest, settings: "k=3") != BatchRunner.jobKey(inputDigest: b.digest, settings: "k=3"))
    #expect(BatchRunner.jobKey(inputDigest: a.digest, settings: "k=3") != BatchRunner.jobKey(inputDigest: a.digest, settings: "k=4"))
  }

  @Test("KV pages off, or another strategy option, is another job: a comparison run never resumes the first")
  func answeringOptionsChangeTheJob() throws {
    let dir = try TemporaryDirectory()
    let settings = AnswererSettings(prompts: dir.url)
    let base = BatchRunner.settingsText(settings, parameters: .greedy(maxTokens: 8))
    var read = settings
    read.kvPages = false
    #expect(BatchRunner.settingsText(read, parameters: .greedy(maxTokens: 8)) != base)
    var reranked = settings
    reranked.strategies.rag.rerankDepth = 24
    #expect(BatchRunner.settingsText(reranked, parameters: .greedy(maxTokens: 8)) != base)
    var layer = settings
    layer.strategies.attend.layer = 18
    #expect(BatchRunner.settingsText(layer, parameters: .greedy(maxTokens: 8)) != base)
  }

  @Test("editing a prompt template changes the job's settings, so the job starts afresh")
  func promptEditsChangeTheJob() throws {
    let dir = try TemporaryDirectory()
    let template = dir.url.appendingPathComponent("rag-answer.txt")
    try "Answer from the passages.".write(to: template, atomically: true, encoding: .utf8)
    let settings = AnswererSettings(prompts: dir.url)
    let before = BatchRunner.settingsText(settings, parameters: .greedy(maxTokens: 8))
    #expect(BatchRunner.settingsText(settings, parameters: .greedy(maxTokens: 8)) == before)
    try "Answer from the passages, briefly.".write(to: template, atomically: true, encoding: .utf8)
    #expect(BatchRunner.settingsText(settings, parameters: .greedy(maxTokens: 8)) != before)
    // Files that are not templates do not count.
    try "notes".write(to: dir.url.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
    let after = BatchRunner.settingsText(settings, parameters: .greedy(maxTokens: 8))
    try "other notes".write(to: dir.url.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
    #expect(BatchRunner.settingsText(settings, parameters: .greedy(maxTokens: 8)) == after)
  }

  static let runA = """
    {"id": "q1", "question": "one?", "answer": "x", "scores": {"em": 1, "f1": 1}, "timings": {"retrieval": 0.1, "evidence": 0.1, "total": 2}, "citations": [{"n": 1, "path": null, "first_line": null, "last_line": null, "page": null, "verified": true, "problem": null, "chunk_ids": []}]}
    {"id": "q2", "question": "two?", "answer": "y", "scores": {"em": 0, "f1": 0.5}, "timings": {"retrieval": 0.1, "evidence": 0.1, "total": 4}, "citations": []}
    {"id": "q3", "question": "three?", "answer": "B", "scores": {"accuracy": 1}, "timings": {"retrieval": 0.1, "evidence": 0.1, "total": 3}, "citations": []}
    {"id": "q4", "question": "four?", "answer": "z", "scores": {"em": 0, "f1": 0}, "timings": {"retrieval": 0.1, "evidence": 0.1, "total": 1}, "citations": [], "note": "only in A"}
    """
  static let runB = """
    {"id": "q1", "question": "one?", "answer": "w", "scores": {"em": 0, "f1": 0.25}, "timings": {"retrieval": 0.1, "evidence": 0.1, "total": 1}, "citations": [{"n": 1, "path": null, "first_line": null, "last_line": null, "page": null, "verified": false, "problem": "no passage 1", "chunk_ids": []}]}
    {"id": "q2", "question": "two?", "answer": "y!", "scores": {"em": 1, "f1": 1}, "timings": {"retrieval": 0.1, "evidence": 0.1, "total": 1}, "citations": []}
    {"id": "q3", "question": "three?", "answer": "B", "scores": {"accuracy": 1}, "timings": {"retrieval": 0.1, "evidence": 0.1, "total": 1}, "citations": []}
    """

  @Test("compare: means of both, differences, flipped questions by EM or accuracy")
  func compare() throws {
    let dir = try TemporaryDirectory()
    let a = try BatchResult.readLines(dir.write("a.jsonl", Self.runA))
    let b = try BatchResult.readLines(dir.write("b.jsonl", Self.runB))
    #expect(a[3].extra["note"] == .string("only in A"))
    let c = BatchComparison(a: a, b: b)
    #expect(c.common == 3)
    let em = try #require(c.rows.first { $0.metric == "em" })
    // A: EM (1 + 0 + 0) / 3; B: (0 + 1) / 2.
    #expect(abs((em.a ?? 0) - 1.0 / 3) < 1e-9 && em.b == 0.5 && abs((em.difference ?? 0) - (0.5 - 1.0 / 3)) < 1e-9)
    let latency = try #require(c.rows.first { $0.metric == "latency_s" })
    #expect(latency.a == 2.5 && latency.b == 1)
    #expect(c.fixed.map(\.id) == [.string("q2")])
    #expect(c.broken.map(\.id) == [.string("q1")])
    #expect(c.a.verifiedCitations == 1 && c.b.verifiedCitations == 0)
  }
}
