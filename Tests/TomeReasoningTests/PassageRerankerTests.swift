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

  /// What each run holds: a page's tokens and start, or the tokens read.
  static func describe(_ runs: [PagedPrompt.Run]?) -> [String]? {
    runs?.map {
      switch $0 {
      case .page(let p): "page \(p.tokens) at \(p.startPosition)"
      case .tokens(let t): "read \(t)"
      }
    }
  }

  @Test("one chunk's page; neighbours joined over their overlap or across a gap; nothing when too much is missing")
  func cover() {
    let a = Self.page([1, 2, 3, 4, 5]), b = Self.page([9, 4, 5, 6, 7, 8, 10]), c = Self.page([30, 31, 32, 33, 34])
    #expect(Self.describe(RAGStrategy.pageCover([1, 2, 3, 4, 5], from: [b, a])) == ["page [1, 2, 3, 4, 5] at 3"])
    // a, then b after its three overlapping positions (9 is its leading space).
    #expect(
      Self.describe(RAGStrategy.pageCover([1, 2, 3, 4, 5, 6, 7, 8, 10], from: [b, a]))
        == ["page [1, 2, 3, 4, 5] at 3", "page [6, 7, 8, 10] at 6"])
    // a, two blank-line tokens and c's first word spelt without its space (29), then c's rest.
    #expect(
      Self.describe(RAGStrategy.pageCover([1, 2, 3, 4, 5, 50, 50, 29, 31, 32, 33, 34], from: [a, c]))
        == ["page [1, 2, 3, 4, 5] at 3", "read [50, 50, 29]", "page [31, 32, 33, 34] at 4"])
    #expect(RAGStrategy.pageCover([1, 2, 3, 4, 5, 6], from: [c]) == nil)
    // A passage cut short by the budget ends inside a page: that page's first positions.
    #expect(Self.describe(RAGStrategy.pageCover([1, 2, 3, 4], from: [a])) == ["page [1, 2, 3, 4] at 3"])
    #expect(
      Self.describe(RAGStrategy.pageCover([1, 2, 3, 4, 5, 50, 29, 31, 32, 33, 34], from: [a, Self.page([30, 31, 32, 33, 34, 35])]))
        == ["page [1, 2, 3, 4, 5] at 3", "read [50, 29]", "page [31, 32, 33, 34] at 4"])
    // Four chunks joined: three tokens read at each of three joins (the limit is per join).
    let pages = [Self.page([1, 2, 3, 4, 5]), Self.page([60, 61, 62, 63, 64]), Self.page([70, 71, 72, 73, 74]), Self.page([80, 81, 82, 83, 84])]
    let joined = [1, 2, 3, 4, 5, 50, 50, 59, 61, 62, 63, 64, 50, 50, 69, 71, 72, 73, 74, 50, 50, 79, 81, 82, 83, 84]
    #expect(RAGStrategy.pageCover(joined, from: pages)?.count == 7)
    #expect(RAGStrategy.pageCover([1, 2, 3, 4, 5] + [Int](repeating: 50, count: 9) + [61, 62, 63, 64], from: pages) == nil)
    // Fewer than four tokens left is too little to tell a page from chance.
    #expect(RAGStrategy.pageCover([1, 2, 3], from: [a]) == nil)
    #expect(RAGStrategy.pageCover(Array(40..<60), from: [a]) == nil)
  }
}
