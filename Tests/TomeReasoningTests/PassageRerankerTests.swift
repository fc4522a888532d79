import Foundation
import Testing
import TomeCore
import TomeKit
@testable import TomeReasoning
import TomeTestSupport

/// Query-likelihood re-ranking on the real SmolLM2: the passage that answers a question scores
/// above others, with and without stored pages, and the order helpers.
@Suite(.serialized) struct PassageRerankerTests {
  static let passages = [
    "The Apollo program landed twelve astronauts on the Moon between 1969 and 1972.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The Treaty of Westphalia ended the Thirty Years' War in 1648.",
  ].enumerated().map { i, text in
    Passage(id: ChunkID(Int64(i + 1)), text: text, span: SourceSpan(path: "p\(i).txt", firstLine: 1, lastLine: 1, page: nil, byteRange: 0..<0), score: 0)
  }

  /// Pages of `passages` computed as the page store computes them.
  struct Pages: KVPageSource {
    var pages: [ChunkID: KVPage]
    func pages(for chunks: [ChunkID], model: String) throws -> [ChunkID: KVPage] { pages.filter { chunks.contains($0.key) } }
  }

  @Test("the passage that answers the question ranks first; stored f16 pages give the same scores as reading")
  func ranksTheAnswerFirst() throws {
    let model = try ModelDirectory(url: SharedData.models).loadChatModel()
    let reranker = try PassageReranker(library: PromptLibrary(directory: SharedData.repositoryRoot.appendingPathComponent("Prompts")))
    let questions = ["When did the Thirty Years' War end?", "How many astronauts landed on the Moon?", "What does photosynthesis produce?"]
    let answers = [2, 0, 1]
    for (question, answer) in zip(questions, answers) {
      let (scores, cost) = try #require(try reranker.scores(question: question, passages: Self.passages, model: model, pages: nil))
      #expect(PassageReranker.order(scores, fused: false).first == answer, "\(question): \(scores)")
      #expect(cost.paged == 0 && cost.tokens > 0)
    }

    let paging = try #require(model as? any KVPaging)
    let pages = Pages(pages: Dictionary(uniqueKeysWithValues: try Self.passages.map { ($0.id, try Self.page($0.text, paging)) }))
    let read = try #require(try reranker.scores(question: questions[0], passages: Self.passages, model: model, pages: nil))
    let paged = try #require(try reranker.scores(question: questions[0], passages: Self.passages, model: model, pages: pages))
    #expect(paged.cost.paged == 3 && paged.cost.tokens < read.cost.tokens)
    for (a, b) in zip(read.scores, paged.scores) { #expect(abs(a - b) < 1e-6) }
  }

  static func page<M: KVPaging>(_ text: String, _ model: M) throws -> KVPage {
    let head = try model.userMessageFrame().prefix
    let tokens = model.tokenize(KVPage.text(ofChunk: text))
    let sequence = model.makeSequence()
    try sequence.append(tokens: head + tokens)
    return sequence.exportPage(positions: head.count..<(head.count + tokens.count), format: .float16)
  }

  @Test("order: by score alone, or fused with the retrieval order by rank-sum")
  func order() {
    // Retrieval order 0, 1, 2, 3; the model prefers 3, then 1.
    let scores = [-3.0, -1.5, -4.0, -1.0]
    #expect(PassageReranker.order(scores, fused: false) == [3, 1, 0, 2])
    // Ranks (model + retrieval): 0: 2+0, 1: 1+1, 2: 3+2, 3: 0+3; ties broken by the model.
    #expect(PassageReranker.order(scores, fused: true) == [1, 0, 3, 2])
  }
}

/// `RAGStrategy.pageCover`: which stored pages splice into a passage.
@Suite struct PageCoverTests {
  static func page(_ tokens: [Int]) -> KVPage {
    KVPage(
      format: .float16, modelIdentifier: "m", layerCount: 1, kvDimension: 1, tokens: tokens, startPosition: 3,
      payload: [UInt8](repeating: 0, count: 4 * tokens.count), scales: [])
  }

  @Test("one chunk's page; neighbours joined over their overlap; nothing when the tokens differ")
  func cover() throws {
    let a = Self.page([1, 2, 3, 4, 5]), b = Self.page([9, 4, 5, 6, 7]), c = Self.page([8, 7, 20])
    #expect(RAGStrategy.pageCover([1, 2, 3, 4, 5], from: [b, a])?.map(\.tokens) == [[1, 2, 3, 4, 5]])
    // a then b (b's first three positions are the overlap: 9 is its leading space) then c.
    let joined = try #require(RAGStrategy.pageCover([1, 2, 3, 4, 5, 6, 7, 20], from: [c, b, a]))
    #expect(joined.map(\.tokens) == [[1, 2, 3, 4, 5], [6, 7], [20]])
    #expect(joined.map(\.startPosition) == [3, 6, 5])
    #expect(RAGStrategy.pageCover([1, 2, 3, 4, 6], from: [a, b]) == nil)
    #expect(RAGStrategy.pageCover([1, 2, 3, 4, 5, 6, 7, 21], from: [a, b, c]) == nil)
    #expect(RAGStrategy.pageCover([2, 3, 4, 5], from: [a]) == nil)
  }
}
