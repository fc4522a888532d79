import Foundation
import Testing
import TomeCore
import TomeKit
import TomeReasoning
import TomeTestSupport

/// A small real collection: four Paul Graham essays ingested and embedded with the real encoder.
final class EssayCollection: Sendable {
  let directory: TemporaryDirectory
  let collection: TomeKit.Collection
  let encoder: SentenceEncoder
  let model: any LanguageModel
  let prompts = PromptLibrary(directory: SharedData.repositoryRoot.appendingPathComponent("Prompts"))

  init() throws {
    directory = try TemporaryDirectory("tome-answer")
    let essays = directory.url.appendingPathComponent("essays")
    try FileManager.default.createDirectory(at: essays, withIntermediateDirectories: true)
    for name in ["aord.txt", "superangels.txt", "startuplessons.txt", "ecw.txt"] {
      try FileManager.default.copyItem(
        at: SharedData.data("paul_graham_essays/essays/\(name)"), to: essays.appendingPathComponent(name))
    }
    let models = ModelDirectory(url: SharedData.models)
    encoder = try models.loadEncoder()
    model = try models.loadChatModel()
    collection = try Collection(location: IndexLocation(directory: directory.url.appendingPathComponent("ix")), create: true)
    try collection.sync(paths: [essays], encoder: encoder)
  }

  func answerer(
    k: Int = 4, strategy: RAGStrategy = RAGStrategy(configuration: .init(contextTokens: 1_500)), kind: StrategyKind = .rag
  ) throws -> Answerer {
    Answerer(
      retriever: try HybridRetriever(collection: collection, embedder: encoder.embedder), embedder: encoder.embedder,
      model: model, strategies: StrategyFactory(rag: strategy.configuration), defaultStrategy: kind, prompts: prompts,
      configuration: .init(k: k))
  }

  /// Lines `first...last` of `path`, joined by newlines.
  static func lines(_ path: String, _ first: Int, _ last: Int) throws -> String {
    let all = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    return all[(first - 1)...(last - 1)].joined(separator: "\n")
  }
}

@Suite(.serialized, .timeLimit(.minutes(15))) struct AnswererTests {
  @Test("end to end: evidence points at the right file and lines; the real model's answer has resolvable citations")
  func endToEnd() async throws {
    let fixture = try EssayCollection()
    let answerer = try fixture.answerer()
    var streamed = ""
    var sawEvidenceFirst = false
    var answer: Answer?
    for try await event in answerer.answer("What is a super-angel?", parameters: .greedy(maxTokens: 48)) {
      switch event {
      case .evidence: sawEvidenceFirst = streamed.isEmpty
      case .text(let piece): streamed += piece
      case .finished(let a): answer = a
      case .passages, .step, .progress: break
      }
    }
    let a = try #require(answer)
    #expect(sawEvidenceFirst)
    let top = try #require(a.evidence.first)
    #expect(top.text.contains("A super-angel has some of the qualities of an angel"), "\(top.text)")
    #expect(top.path.hasSuffix("superangels.txt") && top.firstLine == 46 && top.lastLine == 47, "\(top.citation)")
    // Every evidence sentence is verbatim inside the lines it names.
    for e in a.evidence {
      #expect(try EssayCollection.lines(e.path, e.firstLine, e.lastLine).contains(e.text), "\(e.citation)")
    }
    // Every passage's text is verbatim at its span (neighbour merges included).
    for p in a.passages {
      let source = try EssayCollection.lines(p.span.path, p.span.firstLine, p.span.lastLine)
      #expect(source.contains(p.text.trimmingCharacters(in: .whitespacesAndNewlines)), "\(p.span.citation)")
    }
    #expect(!a.text.isEmpty && a.model != nil && a.tokens.prompt > 0 && a.tokens.answer > 0)
    #expect(a.text == streamed.trimmingCharacters(in: .whitespacesAndNewlines))
    #expect(a.tokens.prompt <= 1_500 - 48)
    for c in a.citations where c.path != nil {
      #expect(c.number >= 1 && c.number <= a.passages.count)
      #expect(a.passages[c.number - 1].span.path == c.path)
    }
    #expect(a.timings.timeToFirstToken != nil && a.timings.total >= a.timings.retrieval)
    // Hits are deduplicated: no chunk appears in two passages.
    let ids = a.passages.flatMap(\.chunkIDs)
    #expect(Set(ids).count == ids.count)
  }

  @Test("nothing related retrieved: not found, without calling the model")
  func notFound() async throws {
    let fixture = try EssayCollection()
    let a = try await fixture.answerer().answer("What is the boiling point of liquid nitrogen in kelvin?")
    #expect(a.notFound && a.model == nil && a.tokens.prompt == 0)
    #expect(a.text.lowercased().contains("not found in the collection"))
  }

  @Test("a tight context drops the lowest-ranked passages and says so; edge order puts rank 2 last")
  func budget() async throws {
    let fixture = try EssayCollection()
    let wide = try await fixture.answerer(k: 6, strategy: RAGStrategy(configuration: .init(contextTokens: 8_000)))
      .answer("What is a superangel?", parameters: .greedy(maxTokens: 8))
    #expect(wide.dropped.isEmpty && wide.passages.count >= 3)
    let tight = try await fixture.answerer(k: 6, strategy: RAGStrategy(configuration: .init(contextTokens: 700)))
      .answer("What is a superangel?", parameters: .greedy(maxTokens: 8))
    #expect(!tight.dropped.isEmpty)
    #expect(tight.tokens.prompt <= 700 - 8)
    #expect(tight.passages.count + tight.dropped.count <= wide.passages.count + wide.dropped.count + 6)
    // Edge order: the best passage first and the second best last.
    let ranked = try await fixture.answerer(k: 6, strategy: RAGStrategy(configuration: .init(ordering: .rank, contextTokens: 8_000)))
      .answer("What is a superangel?", parameters: .greedy(maxTokens: 8))
    #expect(EdgeOrdering.edge.apply(ranked.passages) == wide.passages)
  }

  @Test("a question longer than the context is a clear error; a missing template names the file")
  func errors() async throws {
    let fixture = try EssayCollection()
    let long = String(repeating: "why do startups die so often ", count: 400)
    await #expect(throws: ReasoningError.self) {
      _ = try await fixture.answerer(strategy: RAGStrategy(configuration: .init(contextTokens: 2_000))).answer(long)
    }
    let dir = try TemporaryDirectory()
    #expect(throws: ReasoningError.missingTemplate(path: dir.url.appendingPathComponent("rag-answer.txt").path)) {
      _ = try PromptLibrary(directory: dir.url).template("rag-answer.txt")
    }
  }

  @Test("evidence sentences of a whole essay: each span holds its text; the bonus is optional")
  func evidenceSpans() throws {
    let path = SharedData.data("paul_graham_essays/essays/superangels.txt").path
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
    let passage = Passage(
      id: ChunkID(1), text: text, span: SourceSpan(path: path, firstLine: 1, lastLine: lineCount, byteRange: 0..<text.utf8.count),
      score: 1)
    for sentence in SentenceSplitter.sentences(in: text, firstLine: 1) {
      #expect(try EssayCollection.lines(path, sentence.firstLine, sentence.lastLine).contains(sentence.text))
    }
    let embedder = try ModelDirectory(url: SharedData.models).loadEncoder().embedder
    for weight in [0.0, 0.15] {
      let evidence = try EvidenceSelector(embedder: embedder, configuration: .init(overlapWeight: weight))
        .select(question: "Who are superangels?", passages: [passage])
      #expect(evidence.count == 3)
      #expect(evidence[0].text.lowercased().contains("super-angel"), "\(evidence[0].text)")
    }
  }
}
