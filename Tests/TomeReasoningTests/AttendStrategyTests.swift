import Foundation
import Testing
import TomeCore
import TomeKit
@testable import TomeReasoning
import TomeTestSupport

/// `attend`'s scoring as pure functions on hand-made attention, its error over a model without
/// attention, and the strategy end to end on the real SmolLM2 over an essay with a needle.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct AttendStrategyTests {
  /// One head; context positions 0…3; position 0 is a sink every row attends to; the
  /// question rows (4 and 5) attend to position 2 far more than the context rows do.
  static let reference: [Int: [Float]] = [
    1: [0.9, 0.1],
    2: [0.8, 0.1, 0.1],
    3: [0.7, 0.1, 0.1, 0.1],
  ]
  static let question: [[Float]] = [
    [0.6, 0.05, 0.3, 0.05, 0.0],
    [0.6, 0.04, 0.3, 0.03, 0.0, 0.03],
  ]

  @Test("raw attention picks the sink; sink correction picks the token the question attends to beyond its usual share")
  func sinkCorrection() {
    let raw = AttendStrategy.questionAttention(questionRows: Self.question, context: 0..<4)
    #expect(raw.indices.max { raw[$0] < raw[$1] } == 0)
    let corrected = AttendStrategy.sinkCorrected(questionRows: Self.question, referenceRows: Self.reference, context: 0..<4, prior: 0)
    #expect(corrected.indices.max { corrected[$0] < corrected[$1] } == 2)
    // Position 0: question 3.3 × uniform against a reference of mean(1.8, 2.4, 2.8) = 2.33.
    #expect(abs(corrected[0] - 3.3 / (7.0 / 3)) < 1e-4)
    // Position 2: 1.65 against the one row after it (0.4).
    #expect(abs(corrected[2] - 1.65 / 0.4) < 1e-4)
    // Position 3 has no row after it: with no prior its reference is uniform (1).
    #expect(abs(corrected[3] - 0.215) < 1e-4)
    // A prior pulls the references towards uniform.
    let shrunk = AttendStrategy.sinkCorrected(questionRows: Self.question, referenceRows: Self.reference, context: 0..<4, prior: 4)
    #expect(abs(shrunk[2] - 1.65 / (4.4 / 5)) < 1e-4)
  }

  @Test("tokens to sentences: a sentence scores its best token; the best sentences within the budget, in order")
  func selection() {
    // Tokens 0–2 are sentence 0, 3–4 sentence 1, 5–8 sentence 2, 9 sentence 3.
    let owners = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3]
    let tokens: [Double] = [0.1, 0.2, 0.1, 5, 0.3, 0.2, 0.2, 3, 0.1, 4]
    let sentences = AttendStrategy.sentenceScores(tokenScores: tokens, owners: owners, count: 5)
    #expect(sentences[0...3] == [0.2, 5, 3, 4])
    #expect(sentences[4] == -.infinity)
    // Budget 5: sentence 1 (2 tokens), then 3 (1); 2 (4 tokens) does not fit, nor 0 (3).
    let costs = [3, 2, 4, 1, 0]
    #expect(AttendStrategy.keep(scores: sentences, costs: costs, budget: 5) == [1, 3])
    // Budget 6: 0 fits after 2 is skipped.
    #expect(AttendStrategy.keep(scores: sentences, costs: costs, budget: 6) == [0, 1, 3])
    #expect(AttendStrategy.keep(scores: sentences, costs: costs, budget: 7) == [1, 2, 3])
    // Rank-sum: attention ranks 1, 3, 2 … encoder prefers sentence 0.
    let fused = AttendStrategy.rankSum([0.2, 5, 3, 4], [0.9, 0.1, 0.5, 0.4])
    #expect(AttendStrategy.ranks([0.2, 5, 3, 3]) == [3, 0, 1.5, 1.5])
    // Ranks: s0 3+0, s1 0+3, s2 2+1, s3 1+2: all tie at 3, broken by attention.
    #expect(fused.indices.sorted { fused[$0] > fused[$1] } == [1, 3, 2, 0])
  }

  @Test("pieces: a blank line between chunks, a space within one")
  func pieces() {
    let span = SourceSpan(path: "a.txt", firstLine: 1, lastLine: 1, page: nil, byteRange: 0..<0)
    let sentences = [
      AttendStrategy.Sentence(text: "One.", span: span, chunkID: ChunkID(1)),
      AttendStrategy.Sentence(text: "Two.", span: span, chunkID: ChunkID(1)),
      AttendStrategy.Sentence(text: "Three.", span: span, chunkID: ChunkID(2)),
    ]
    var seen: [String] = []
    _ = AttendStrategy.pieces(sentences) { seen.append($0); return [0] }
    #expect(seen == ["One.", " Two.", "\n\nThree."])
  }

  @Test("over a model that does not offer attention (an endpoint), attend says it needs the in-process model")
  func endpoint() async throws {
    let corpus = try StrategyCorpus.load()
    let model = ScriptedChatModel(identifier: "http-endpoint", [])
    await #expect(throws: ReasoningError.attentionUnavailable(model: "http-endpoint")) {
      let _: Answer = try await AttendStrategy().answer(question: "Where was Kant born?", context: corpus.context(model))
    }
    #expect(ReasoningError.attentionUnavailable(model: "m").description.contains("attend needs the in-process model"))
    #expect(model.calls.isEmpty)
  }

  static let needle = "The secret passkey for the vault is 48213."

  @Test("real SmolLM2 over an essay with a needle: the needle is carried, citations are real lines")
  func needle() async throws {
    let dir = try TemporaryDirectory("tome-attend")
    let essay = try String(contentsOf: SharedData.data("paul_graham_essays/essays/aord.txt"), encoding: .utf8)
    var lines = essay.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    lines.insert(Self.needle, at: lines.count / 2)
    try dir.write("docs/aord.txt", lines.joined(separator: "\n"))
    let encoder = try ModelDirectory(url: SharedData.models).loadEncoder()
    let collection = try TomeKit.Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("ix")), create: true)
    try collection.sync(paths: [dir.url.appendingPathComponent("docs")], encoder: encoder)
    let retriever = try HybridRetriever(collection: collection, embedder: encoder.embedder)
    let context = AnsweringContext(
      model: try ModelDirectory(url: SharedData.models).loadChatModel(), embedder: encoder.embedder,
      prompts: PromptLibrary(directory: SharedData.repositoryRoot.appendingPathComponent("Prompts")),
      reader: CollectionReader(retriever: retriever, configuration: .init(k: 4)), parameters: .greedy(maxTokens: 32))
    let strategy = AttendStrategy(configuration: .init(segmentTokens: 512, carriedTokens: 120))
    var progress: [String] = []
    var answer: Answer?
    for try await event in strategy.answer(question: "What is the secret passkey for the vault?", context: context) {
      switch event {
      case .progress(let line): progress.append(line)
      case .finished(let a): answer = a
      default: break
      }
    }
    let a = try #require(answer)
    let segments = a.trace.filter { $0.kind == .modelCall && $0.label.hasPrefix("segment") }
    #expect(segments.count >= 3, "the essay is read in several segments")
    #expect(segments.allSatisfy { ($0.promptTokens ?? 0) > 0 && $0.seconds != nil })
    #expect(progress.count == segments.count && progress.last?.contains("sentences kept") == true)
    // The needle survives every pass and is a passage of its own, at its own line.
    let carried = try #require(a.passages.first { $0.text.contains("48213") }, "carried: \(a.passages.map(\.text))")
    let file = dir.url.appendingPathComponent("docs/aord.txt").path
    #expect(carried.span.path == file)
    #expect(try StrategyCorpus.lines(file, carried.span.firstLine, carried.span.lastLine).joined(separator: "\n").contains("48213"))
    #expect(a.evidence.first?.text.contains("48213") == true, "best evidence: \(a.evidence.first?.text ?? "-")")
    // The answer points at sources (a marker, or attribution of a sentence without one), and
    // every cited or attributed span is real lines of the file whose text is the passage's.
    #expect(!a.citations.isEmpty || !a.attributions.isEmpty, "answer: \(a.text)")
    for attribution in a.attributions {
      try StrategyEndToEndTests.expectLines(attribution.path, attribution.firstLine, attribution.lastLine)
    }
    for citation in a.citations {
      guard let path = citation.path, let first = citation.firstLine, let last = citation.lastLine else { continue }
      try StrategyEndToEndTests.expectLines(path, first, last)
      let passage = a.passages[citation.number - 1]
      #expect(try StrategyCorpus.lines(path, first, last).joined(separator: "\n").contains(passage.text.prefix(20)))
    }
    print("attend needle answer: \(a.text) | citations \(a.citations.map(\.number)), attributions \(a.attributions.map { "\($0.firstLine)-\($0.lastLine)" }) | \(segments.count) passes, \(a.tokens.prompt) tokens")
  }
}
