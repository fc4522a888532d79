import Foundation
import Synchronization
import Testing
import TomeCore
import TomeKit
import TomeReasoning
import TomeTestSupport

/// A small real collection (SQLite, the real encoder, the real reader) answered by a scripted
/// model: what the record graph keeps, and what `documents:` lets a strategy read.
final class RecordCorpus: Sendable {
  let directory: TemporaryDirectory
  let collection: TomeKit.Collection
  let encoder: SentenceEncoder
  let prompts = PromptLibrary(directory: SharedData.repositoryRoot.appendingPathComponent("Prompts"))

  static let files: [(name: String, text: String)] = [
    (
      "philosophers/kant.txt",
      """
      Immanuel Kant

      Immanuel Kant was a German philosopher of the Enlightenment. He was
      born on 22 April 1724 in Königsberg, in the Kingdom of Prussia, and he
      lived in that city for his whole life. His best known book, the
      Critique of Pure Reason, appeared in 1781.
      """
    ),
    (
      "philosophers/hume.txt",
      """
      David Hume

      David Hume was a Scottish philosopher, historian and essayist. He was
      born on 7 May 1711 in Edinburgh. His first work, A Treatise of Human
      Nature, appeared in 1739. He argued that our belief in cause and effect
      rests on custom and habit rather than on reason alone.
      """
    ),
    (
      "cities/notes.txt",
      """
      Königsberg

      Königsberg was a city on the Pregel river near the Baltic Sea. Seven
      bridges joined its islands, and Euler proved in 1736 that no walk
      crosses each of them exactly once. Kant was born there in 1724.
      """
    ),
    (
      "philosophers/notes.txt",
      """
      Notes on philosophers

      Kant and Hume never met. Kant said that reading Hume woke him from his
      dogmatic slumber.
      """
    ),
  ]

  init() throws {
    directory = try TemporaryDirectory("tome-records")
    for (name, text) in Self.files { try directory.write("corpus/\(name)", text + "\n") }
    encoder = try ModelDirectory(url: SharedData.models).loadEncoder()
    collection = try Collection(location: IndexLocation(directory: directory.url.appendingPathComponent("ix")), create: true)
    try sync()
  }

  func sync() throws {
    try collection.sync(paths: [directory.url.appendingPathComponent("corpus")], encoder: encoder)
  }

  func path(_ name: String) -> String { directory.url.appendingPathComponent("corpus/\(name)").standardizedFileURL.path }

  func id(_ name: String) throws -> DocumentID {
    try #require(try collection.status().documents.first { $0.path == path(name) }?.id)
  }

  /// An answerer over the collection with `model`, recording as `origin`.
  func answerer(_ model: any LanguageModel, origin: RecordOrigin?) throws -> Answerer {
    Answerer(
      retriever: try HybridRetriever(collection: collection, embedder: encoder.embedder), embedder: encoder.embedder,
      model: model, prompts: prompts, configuration: .init(k: 4), recordOrigin: origin)
  }

  /// rag's answer prompt answered with `reply`.
  static func model(_ reply: String) -> ScriptedChatModel {
    ScriptedChatModel([.template("Answer the question using only the passages above", name: "rag-answer", reply: reply)])
  }
}

@Suite(.serialized, .timeLimit(.minutes(10))) struct RecordBookTests {
  static let question = "When was Immanuel Kant born?"
  static let reply = "Kant was born on 22 April 1724 [1]."

  @Test("RecordBook round trip on a real index: save, fetch, list, linked to documents, sources; stale after re-ingest, then pruned")
  func roundTrip() throws {
    let corpus = try RecordCorpus()
    let book = RecordBook(collection: corpus.collection)
    let kant = try corpus.id("philosophers/kant.txt")
    let hume = try corpus.id("philosophers/hume.txt")
    let kantChunks = try corpus.collection.search("Kant born 1724 Königsberg Critique", limit: 10)
      .filter { $0.chunk.span.path == corpus.path("philosophers/kant.txt") }.map(\.chunkID)
    let humeChunks = try corpus.collection.search("Hume Treatise custom habit", limit: 10)
      .filter { $0.chunk.span.path == corpus.path("philosophers/hume.txt") }.map(\.chunkID)
    try #require(!kantChunks.isEmpty && !humeChunks.isEmpty)
    let vector = Array(try corpus.encoder.embedder.embed(passages: [Record.text(question: "q", answer: "a")])[row: 0])
    let first = try book.save(
      NewRecord(
        question: "When was Kant born?", answer: "1724 [1].", strategy: "rag", model: "scripted", origin: .ask, cited: kantChunks,
        shown: kantChunks + humeChunks, vector: vector))
    let second = try book.save(
      NewRecord(
        question: "What did Hume argue?", answer: "Custom [1].", strategy: "coc", model: nil, origin: .batch, cited: humeChunks,
        shown: humeChunks, vector: vector))

    let stored = try #require(try book.record(first))
    #expect(stored.question == "When was Kant born?" && stored.answer == "1724 [1]." && stored.origin == .ask && !stored.stale)
    #expect(stored.cited == kantChunks && stored.shown == kantChunks + humeChunks)
    #expect(zip(stored.vector, vector).allSatisfy { abs($0 - $1) < 2e-3 } && stored.vector.count == vector.count)
    #expect(try book.list().map(\.id) == [second, first])
    #expect(try book.list(.init(origin: .batch)).map(\.id) == [second])
    #expect(try book.records(linkedTo: [kant]).map(\.id) == [first])
    #expect(try book.records(linkedTo: [hume]).map(\.id) == [first, second])
    #expect(try book.records(linkedTo: nil).map(\.id) == [first, second])
    let sources = try book.sources(of: stored)
    #expect(sources.map(\.chunk) == stored.shown)
    #expect(sources.filter(\.cited).allSatisfy { $0.span?.path == corpus.path("philosophers/kant.txt") })
    #expect(sources.filter { !$0.cited }.allSatisfy { $0.span?.path == corpus.path("philosophers/hume.txt") })

    // Changing hume.txt deletes its chunks: both records link to one, both go stale.
    try corpus.directory.write("corpus/philosophers/hume.txt", "David Hume\n\nHume was born in Edinburgh in 1711 and wrote history.\n")
    try corpus.sync()
    #expect(try book.record(first)?.stale == true && book.record(second)?.stale == true)
    #expect(try book.records(linkedTo: nil).isEmpty)
    #expect(try book.sources(of: try #require(try book.record(second))).allSatisfy { $0.span == nil })
    #expect(throws: RecordBookError.unfilteredPrune) { try book.prune(.init()) }
    #expect(try book.prune(.init(stale: true)) == 2)
    #expect(try book.count() == 0)
  }

  @Test("Answerer keeps a finished answer as a record (streamed and awaited): question, answer, origin, cited chunk, vector")
  func answererRecords() async throws {
    let corpus = try RecordCorpus()
    let book = RecordBook(collection: corpus.collection)
    let model = RecordCorpus.model(Self.reply)
    let answerer = try corpus.answerer(model, origin: .ask)
    #expect(answerer.context(parameters: .greedy(maxTokens: 32)).records != nil)

    var finished: Answer?
    for try await event in answerer.answer(Self.question, parameters: .greedy(maxTokens: 32)) {
      if case .finished(let answer) = event { finished = answer }
    }
    let answer = try #require(finished)
    #expect(answer.text == Self.reply && !answer.notFound)
    let records = try book.list()
    #expect(records.count == 1)
    let record = try #require(records.first)
    #expect(record.question == Self.question && record.answer == Self.reply && record.origin == .ask)
    #expect(record.strategy == "rag" && record.model == model.identifier && !record.stale)
    #expect(Set(record.shown) == Set(answer.passages.flatMap(\.chunkIDs)))
    let cited = try #require(answer.citations.first { $0.verified })
    #expect(record.cited == cited.chunkIDs)
    #expect(try book.sources(of: record).filter(\.cited).allSatisfy { $0.span?.path == cited.path })
    let expected = Array(try corpus.encoder.embedder.embed(passages: [Record.text(question: Self.question, answer: Self.reply)])[row: 0])
    #expect(zip(record.vector, expected).allSatisfy { abs($0 - $1) < 2e-3 })

    var batch = answerer
    batch.recordOrigin = .batch
    _ = try await batch.answer(Self.question, parameters: .greedy(maxTokens: 32)) as Answer
    #expect(try book.list().map(\.origin) == [.batch, .ask])
  }

  @Test("recordOrigin nil writes nothing and gives strategies no record graph")
  func noRecord() async throws {
    let corpus = try RecordCorpus()
    let answerer = try corpus.answerer(RecordCorpus.model(Self.reply), origin: nil)
    #expect(answerer.context(parameters: .greedy(maxTokens: 32)).records == nil)
    for try await _ in answerer.answer(Self.question, parameters: .greedy(maxTokens: 32)) {}
    let answer: Answer = try await answerer.answer(Self.question, parameters: .greedy(maxTokens: 32))
    #expect(answer.text == Self.reply)
    #expect(try RecordBook(collection: corpus.collection).count() == 0)
  }

  @Test("a record that cannot be written does not lose the answer: the failure is reported and noted in the trace")
  func recordFailure() async throws {
    let corpus = try RecordCorpus()
    var answerer = try corpus.answerer(RecordCorpus.model(Self.reply), origin: .ask)
    let reported = Reported()
    answerer.recordFailure = { reported.add($0) }
    // Another connection takes the table away, so the insert fails.
    let sqlite = Process()
    sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    sqlite.arguments = [corpus.collection.location.directory.appendingPathComponent("tome.sqlite").path, "DROP TABLE record_chunks; DROP TABLE records;"]
    try sqlite.run()
    sqlite.waitUntilExit()
    #expect(sqlite.terminationStatus == 0)

    let answer: Answer = try await answerer.answer(Self.question, parameters: .greedy(maxTokens: 32))
    #expect(answer.text == Self.reply)
    let messages = reported.all
    #expect(messages.count == 1 && messages.first?.hasPrefix("the answer was not kept as a record: ") == true, "\(messages)")
    #expect(answer.trace.last?.kind == .note && answer.trace.last?.label == "record")
  }

  @Test("documents: every passage the strategy reads lies in the named documents")
  func scoped() async throws {
    let corpus = try RecordCorpus()
    let model = RecordCorpus.model(Self.reply)
    let answerer = try corpus.answerer(model, origin: nil)
    let unscoped: Answer = try await answerer.answer(Self.question, parameters: .greedy(maxTokens: 32))
    #expect(unscoped.passages.contains { $0.span.path == corpus.path("philosophers/kant.txt") })

    let cities = try corpus.collection.documentIDs(forPaths: ["cities/notes.txt"])
    #expect(cities == [try corpus.id("cities/notes.txt")])
    let answer: Answer = try await answerer.answer(Self.question, parameters: .greedy(maxTokens: 32), documents: cities)
    #expect(!answer.passages.isEmpty)
    #expect(answer.passages.allSatisfy { $0.span.path == corpus.path("cities/notes.txt") }, "\(answer.passages.map(\.span.path))")
    #expect(model.calls.last?.prompt.contains("Seven") == true && model.calls.last?.prompt.contains("22 April") == false)

    var streamed: [Passage] = []
    let two = try corpus.collection.documentIDs(forPaths: ["hume.txt", corpus.path("philosophers/kant.txt")])
    for try await event in answerer.answer(Self.question, parameters: .greedy(maxTokens: 32), documents: two) {
      if case .finished(let a) = event { streamed = a.passages }
    }
    let allowed = [corpus.path("philosophers/hume.txt"), corpus.path("philosophers/kant.txt")]
    #expect(!streamed.isEmpty && streamed.allSatisfy { allowed.contains($0.span.path) })
  }

  @Test("document paths: exact, relative to a folder, or a unique ending; unknown and ambiguous ones are one-line errors")
  func documentPaths() throws {
    let corpus = try RecordCorpus()
    let collection = corpus.collection
    let kant = try corpus.id("philosophers/kant.txt")
    #expect(try collection.documentIDs(forPaths: [corpus.path("philosophers/kant.txt")]) == [kant])
    #expect(try collection.documentIDs(forPaths: ["kant.txt"]) == [kant])
    #expect(try collection.documentIDs(forPaths: ["./philosophers/kant.txt"]) == [kant])
    #expect(try collection.documentIDs(forPaths: ["kant.txt"], workingDirectory: corpus.directory.url) == [kant])
    #expect(
      try collection.documentIDs(forPaths: ["corpus/philosophers/kant.txt"], workingDirectory: corpus.directory.url) == [kant])
    // "ant.txt" is not a path ending: matching is on whole names.
    #expect(throws: DocumentPathError.unknown(path: "ant.txt")) { try collection.documentIDs(forPaths: ["ant.txt"]) }
    let ambiguous = #expect(throws: DocumentPathError.self) { try collection.documentIDs(forPaths: ["notes.txt"]) }
    let message = ambiguous?.description ?? ""
    #expect(message.contains("\"notes.txt\" is ambiguous") && message.contains(corpus.path("cities/notes.txt")))
    #expect(message.contains(corpus.path("philosophers/notes.txt")) && !message.contains("\n"))
    #expect(try collection.documentIDs(forPaths: ["cities/notes.txt"]) == [try corpus.id("cities/notes.txt")])
    let unknown = #expect(throws: DocumentPathError.self) { try collection.documentIDs(forPaths: ["kant.txt", "Bed002.txt"]) }
    #expect(unknown?.description.contains("no document \"Bed002.txt\"") == true)
  }
}

@Suite(.timeLimit(.minutes(10))) struct BatchDocumentTests {
  @Test("batch `document`: a path or a list; other shapes and empty paths are line problems")
  func parse() throws {
    let text = """
      {"id": 1, "question": "q", "document": "collection/Bed002.txt"}
      {"id": 2, "question": "q", "document": ["a.txt", "b/c.txt"]}
      {"id": 3, "question": "q", "document": 7}
      {"id": 4, "question": "q", "document": []}
      {"id": 5, "question": "q", "document": ["a.txt", 2]}
      {"id": 6, "question": "q", "document": null}
      """
    let input = try BatchInput.parse(Data(text.utf8), name: "q.jsonl")
    #expect(input.questions.map(\.key) == ["1", "2", "6"])
    #expect(input.questions.map(\.documents) == [["collection/Bed002.txt"], ["a.txt", "b/c.txt"], nil])
    #expect(input.questions.allSatisfy { $0.extra["document"] == nil })
    #expect(input.problems.map(\.line) == [3, 4, 5])
    #expect(input.problems.allSatisfy { $0.message.contains("document must") }, "\(input.problems)")
  }

  @Test("opening a batch job resolves each question's documents; a path that names no single document is a skipped line")
  func resolve() throws {
    let corpus = try RecordCorpus()
    let text = """
      {"id": "a", "question": "When was Kant born?", "document": "kant.txt"}
      {"id": "b", "question": "Who was Hume?", "document": ["Bed002.txt"]}
      {"id": "c", "question": "Which notes?", "document": "notes.txt"}
      {"id": "d", "question": "Everything?"}
      """
    let url = try corpus.directory.write("questions.jsonl", text)
    let job = try BatchJob.open(
      collection: corpus.collection, input: try BatchInput.read(url), inputURL: url,
      settings: AnswererSettings(prompts: corpus.prompts.directory), parameters: .greedy(maxTokens: 8), restart: false)
    #expect(job.input.questions.map(\.key) == ["a", "d"])
    #expect(job.remaining.map(\.key) == ["a", "d"])
    let problems = job.input.problems.map(\.description)
    #expect(problems.count == 2)
    #expect(problems.first?.hasPrefix("questions.jsonl:2: no document \"Bed002.txt\"") == true, "\(problems)")
    #expect(problems.last?.hasPrefix("questions.jsonl:3: document \"notes.txt\" is ambiguous") == true, "\(problems)")
  }
}

/// Messages a `@Sendable` closure reports, collected for a test.
final class Reported: Sendable {
  private let messages = Mutex<[String]>([])
  func add(_ message: String) { messages.withLock { $0.append(message) } }
  var all: [String] { messages.withLock { $0 } }
}
