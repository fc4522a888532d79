import Foundation
import Testing
import TomeCore
import TomeKit
@testable import TomeReasoning
import TomeTestSupport

@Suite struct GemFilterTests {
  @Test("pooling: kernel 5, stride 1, zero padding 2, always divided by 5")
  func pooling() {
    // Interior: (1+2+3+4+5)/5 = 3; edges see two padding zeros: (1+2+3)/5 = 1.2.
    #expect(GemFilter.pooled([1, 2, 3, 4, 5]) == [1.2, 2, 3, 2.8, 2.4])
    // One spike spreads over its two neighbours each side, a fifth each.
    #expect(GemFilter.pooled([0, 0, 0, 10, 0, 0, 0]) == [0, 2, 2, 2, 2, 2, 0])
    #expect(GemFilter.pooled([5]) == [1])
    #expect(GemFilter.pooled([]) == [])
  }

  @Test("selection: the best positions between head and tail, in order; head and tail always kept")
  func selection() {
    let scores: [Float] = [0, 0, 9, 1, 7, 3, 7, 0, 0]
    // Head 2, tail 2: candidates 2…6 scored 9, 1, 7, 3, 7; the best three are 2, 4 and 6 (ties
    // to the earlier position), returned ascending between the head and the tail.
    #expect(GemFilter.select(scores: scores, count: 3, protected: .init(head: 2, tail: 2)) == [0, 1, 2, 4, 6, 7, 8])
    #expect(GemFilter.select(scores: scores, count: 1, protected: .init(head: 0, tail: 0)) == [2])
    // The tie between 4 and 6 (both 7) goes to 4.
    #expect(GemFilter.select(scores: scores, count: 1, protected: .init(head: 3, tail: 0)) == [0, 1, 2, 4])
    // Asking for more than there is keeps everything.
    #expect(GemFilter.select(scores: scores, count: 50, protected: .init(head: 1, tail: 1)) == Array(0..<9))
  }

  @Test("raw scores: Σ over query heads of q·k, each head reading its group's kv head, no scaling")
  func scores() {
    // 4 query heads on 2 kv heads (groups of 2), dimension 2, 3 positions.
    let reading = LayerReading(
      layer: 0, headCount: 4, kvHeadCount: 2, headDimension: 2, tokenCount: 3, queryPositions: 1..<3,
      queries: [
        /* position 1, heads 0…3 */ 0, 0, 0, 0, 1, 0, 0, 0,
        /* position 2 */ 1, 0, /* head 1 */ 0, 1, /* head 2 */ 2, 0, /* head 3 */ 0, -1,
      ],
      keys: [
        1, 1, /* kv 0, pos 1 */ 2, 0, /* pos 2 */ 0, 3,
        1, 0, /* kv 1, pos 1 */ 0, 1, /* pos 2 */ 1, 1,
      ])
    // Position 2: heads 0+1 sum to (1, 1) on kv 0: 2, 2, 3; heads 2+3 sum to (2, -1) on kv 1:
    // 2, -1, 1. Position 1: only head 2, (1, 0) on kv 1: 1, 0, 1.
    #expect(GemFilter.scores(reading) == [[1, 0, 1], [4, 1, 4]])
  }

  @Test("protected parts: what the prompt shares with the prompt without passages")
  func protectedParts() {
    let bare = [1, 2, 3, 8, 9]
    #expect(GemFilter.protected([1, 2, 3, 50, 51, 52, 8, 9], bare: bare) == .init(head: 3, tail: 2))
    // A merge at the boundary (the passage changed the token before it) shortens the head.
    #expect(GemFilter.protected([1, 2, 7, 50, 8, 9], bare: bare) == .init(head: 2, tail: 2))
    // Head and tail never overlap.
    #expect(GemFilter.protected([1, 2, 3, 8, 9], bare: bare) == .init(head: 5, tail: 0))
  }

  @Test("the factory gives the filter to rag and attend only")
  func factory() throws {
    let gem = GemFilter.Configuration(layer: 5, keptTokens: 300)
    let factory = StrategyFactory(rag: .init(filter: gem))
    #expect(try #require(factory.make(.rag) as? RAGStrategy).configuration.filter == gem)
    #expect(try #require(factory.make(.attend) as? AttendStrategy).rag.filter == gem)
    #expect(try #require(factory.make(.coc) as? CoCStrategy).rag.filter == nil)
    #expect(try #require(factory.make(.mapreduce) as? MapReduceStrategy).rag.filter == nil)
    #expect(try #require(factory.make(.auto) as? AutoStrategy).rag.configuration.filter == nil)
  }

  @Test("over a model that cannot read early (an endpoint), --filter gem is a typed error and the model is not called")
  func endpoint() async throws {
    let corpus = try StrategyCorpus.load()
    let model = ScriptedChatModel(identifier: "http-endpoint", [])
    let rag = RAGStrategy(configuration: .init(filter: .init(keptTokens: 64)))
    await #expect(throws: ReasoningError.filterUnavailable(model: "http-endpoint")) {
      let _: Answer = try await rag.answer(question: "Where was Kant born?", context: corpus.context(model))
    }
    #expect(model.calls.isEmpty)
    #expect(ReasoningError.filterUnavailable(model: "m").description.contains("--filter gem needs the in-process model"))
    #expect(ReasoningError.filterUnavailable(model: "m").isRequestProblem)
  }

  @Test("real SmolLM2: a pass key hidden in 1,000 tokens of essay survives a selection that drops half of them, at the default layer")
  func needleSurvives() async throws {
    let model = try ModelDirectory(url: SharedData.models).loadChatModel()
    let early = try #require(model as? any EarlyExitProbing)
    let paging = try #require(model as? any KVPaging)
    let templates = try RAGStrategy.Templates(StrategyCorpus.load().prompts)
    let rag = RAGStrategy()
    let hay = try GemFilterSweep.haystack(tokens: 1_000, tokenize: paging.tokenize)
    let needle = "The pass key is 60318. Remember it. 60318 is the pass key."
    let question = "What is the pass key?"
    let passage = Passage(
      id: ChunkID(1), text: GemFilterSweep.insert(needle, into: hay, depth: 40),
      span: SourceSpan(path: "haystack.txt", firstLine: 1, lastLine: 1, page: nil, byteRange: 0..<0), score: 1)
    let prompt = try paging.promptTokens(
      rag.messages(question: question, blocks: [try rag.block(passage, number: 1, templates: templates)], templates: templates))
    let protected = GemFilter.protected(
      prompt, bare: try paging.promptTokens(rag.messages(question: question, blocks: [], templates: templates)))
    #expect(protected.head > 10 && protected.tail > 20, "template head \(protected.head), question tail \(protected.tail)")
    let needlePositions = try #require(GemFilterSweep.positions(of: needle, in: prompt, tokenize: paging.tokenize))

    let layer = GemFilter.Configuration().layer
    let reading = try #require(try await early.readEarly(tokens: prompt, layers: [layer], queryCount: 1).first)
    // Half the passage tokens: a selection blind to the needle would keep all its 25 tokens
    // with odds of about 2⁻²⁵.
    let count = (prompt.count - protected.head - protected.tail) / 2
    let kept = GemFilter.select(scores: GemFilter.pooled(GemFilter.scores(reading).last ?? []), count: count, protected: protected)
    #expect(kept.count == protected.head + count + protected.tail && kept == kept.sorted())
    let missing = needlePositions.filter { !kept.contains($0) }
    #expect(missing.isEmpty, "needle tokens dropped at layer \(layer): \(missing) of \(needlePositions)")
  }

  @Test("real SmolLM2 through rag: the trace records the selection and the answer reads only the kept tokens")
  func ragEndToEnd() async throws {
    let corpus = try StrategyCorpus.load()
    let model = try ModelDirectory(url: SharedData.models).loadChatModel()
    let context = corpus.context(model, k: 4, maxTokens: 24)
    let filtered = RAGStrategy(configuration: .init(filter: .init(keptTokens: 64)))
    var answer: Answer?
    for try await event in filtered.answer(question: "Where was Kant born?", context: context) {
      if case .finished(let a) = event { answer = a }
    }
    let a = try #require(answer)
    let step = try #require(a.trace.first { $0.label == "gem filter" }, "trace: \(a.trace.map(\.label))")
    let call = try #require(a.trace.first { $0.label == "answer" })
    let read = try #require(step.promptTokens)
    #expect(step.kind == .modelCall && step.seconds != nil && step.detail?.contains("64 of") == true, "\(step.detail ?? "")")
    #expect(read > 200 && (call.promptTokens ?? .max) < read - 100, "read \(read), answered from \(call.promptTokens ?? -1)")
    #expect(!a.text.isEmpty)

    // Passages no longer than the kept tokens: nothing to drop, an ordinary call and a note.
    let roomy = RAGStrategy(configuration: .init(filter: .init(keptTokens: 4_000)))
    var plain: Answer?
    for try await event in roomy.answer(question: "Where was Kant born?", context: context) {
      if case .finished(let a) = event { plain = a }
    }
    let unfiltered = try #require(plain)
    let note = try #require(unfiltered.trace.first { $0.label == "gem filter" })
    #expect(note.kind == .note && note.detail?.contains("not applied") == true)
    #expect(unfiltered.trace.first { $0.label == "answer" }?.promptTokens == read)
  }
}
