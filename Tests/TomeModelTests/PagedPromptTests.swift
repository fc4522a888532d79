import Foundation
import Testing
import TomeCore
@testable import TomeModel

/// A prompt with stored KV pages in its passages' places (`PagedPrompting`) on the real SmolLM2.
@Suite(.serialized) struct PagedPromptTests {
  static let passages = [
    "The harbour master of Quillport keeps the tide tables in a green ledger.",
    "(b) Rainfall in the valley doubled in 1987, flooding the lower mills.",
    "Pages: 12, 13 and 14 list the ferry times; the last ferry leaves at 22:40.",
  ]

  func model() throws -> LocalLanguageModel { try LocalLanguageModel(path: try Fixtures.requireModelPath()) }

  /// `[n] text` blocks and a question, as `rag` writes its user message.
  static func user(_ texts: [String]) -> String {
    let blocks = texts.enumerated().map { "[\($0 + 1)] \($1)" }.joined(separator: "\n\n")
    return "Question: When does the last ferry leave?\n\nPassages:\n\n\(blocks)\n\nAnswer briefly.\n\nQuestion: When does the last ferry leave?"
  }

  /// The page of `text` computed as `KVPageStore` computes it: after the user-message head.
  func page(_ text: String, _ lm: LocalLanguageModel, format: KVPageFormat) throws -> KVPage {
    let head = try lm.userMessageFrame().prefix
    let tokens = lm.tokenize(KVPage.text(ofChunk: text))
    let sequence = lm.makeSequence()
    try sequence.append(tokens: head + tokens)
    return sequence.exportPage(positions: head.count..<(head.count + tokens.count), format: format)
  }

  @Test("the parts of a paged prompt are exactly the tokens of the same prompt written out")
  func sameTokens() throws {
    let lm = try model()
    let placeholders = Self.passages.indices.map { PagedPrompt.placeholder($0 + 1) }
    var pages: [String: PagedPrompt.Run] = [:]
    for (i, text) in Self.passages.enumerated() { pages[placeholders[i]] = .page(try page(text, lm, format: .int8)) }
    let messages: [ChatMessage] = [.system("Answer from the passages."), .user(Self.user(placeholders))]
    let parts = try lm.parts(of: PagedPrompt(messages: messages, runs: pages))
    #expect(parts.count == 2 * Self.passages.count + 1)
    let flattened = parts.flatMap { part -> [Int] in
      switch part {
      case .tokens(let t): t
      case .page(let p): p.tokens
      }
    }
    let written = try lm.promptTokens([.system("Answer from the passages."), .user(Self.user(Self.passages))])
    #expect(flattened == written)
    // A page of another model is refused, and so is a placeholder missing from the messages.
    var foreign = pages
    var other = try page(Self.passages[0], lm, format: .int8)
    other.modelIdentifier = "other.gguf"
    foreign[placeholders[0]] = .page(other)
    #expect(throws: ModelError.self) { try lm.parts(of: PagedPrompt(messages: messages, runs: foreign)) }
    var extra = pages
    extra[PagedPrompt.placeholder(9)] = pages[placeholders[0]]
    #expect(throws: ModelError.self) { try lm.parts(of: PagedPrompt(messages: messages, runs: extra)) }
  }

  @Test("pages and the runs between them in one pass: the sequence and logits of reading them in order")
  func onePass() throws {
    let lm = try model()
    let pages = try Self.passages.map { try page($0, lm, format: .float16) }
    let head = try lm.userMessageFrame().prefix
    let tail = lm.tokenize("\n\nQuestion: When does the last ferry leave?")
    let segments: [PromptSegment] = [
      .tokens(head), .page(pages[0]), .tokens(lm.tokenize("\n\n[2]")), .page(pages[1]),
      .tokens(lm.tokenize("\n\n[3]")), .page(pages[2]), .tokens(Array(tail.dropLast())),
    ]
    // Plain float numerics: llama.cpp's roundings move logits by ~0.2 with any change of batch
    // shape, which would hide a wrong position or mask.
    let together = lm.makeSequence()
    together.numerics = .float32
    try together.append(segments: segments)
    let a = try together.evaluate([tail.last!])
    let inOrder = lm.makeSequence()
    inOrder.numerics = .float32
    for segment in segments {
      switch segment {
      case .tokens(let run): try inOrder.append(tokens: run)
      case .page(let page): try inOrder.importPage(page)
      }
    }
    let b = try inOrder.evaluate([tail.last!])
    #expect(together.cachedTokens == inOrder.cachedTokens)
    #expect(together.positionCount == inOrder.positionCount)
    let d = zip(a, b).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
    print("[pages] one pass against run by run: max |Δlogit| = \(d)")
    #expect(d < 0.01)
    #expect(argmax(a) == argmax(b))
    // A page of another model is refused before anything is written.
    var other = pages[0]
    other.modelIdentifier = "other.gguf"
    let before = together.positionCount
    #expect(throws: ModelError.self) { try together.append(segments: [.tokens(lm.tokenize(" and")), .page(other)]) }
    #expect(together.positionCount == before)
    #expect(together.cachedTokens.count == before)
  }

  @Test("an f16 page imported where it was computed answers exactly as reading its text; int8 pages answer from the passages")
  func sameAnswer() async throws {
    let lm = try model()
    let text = Self.passages[2]
    let rest = "\n\nQuestion: When does the last ferry leave? Answer with the time."
    let parameters = GenerationParameters.greedy(maxTokens: 12)
    let read = try await lm.reply(to: [.user(KVPage.text(ofChunk: text) + rest)], parameters: parameters)
    let paged = PagedPrompt(messages: [.user(PagedPrompt.placeholder(1) + rest)], runs: [PagedPrompt.placeholder(1): .page(try page(text, lm, format: .float16))])
    var imported = ""
    for try await piece in lm.stream(paged, parameters: parameters) { imported += piece }
    #expect(imported == read)

    // Three int8 pages, each computed on its own and moved to its place in the prompt.
    let placeholders = Self.passages.indices.map { PagedPrompt.placeholder($0 + 1) }
    var pages: [String: PagedPrompt.Run] = [:]
    for (i, text) in Self.passages.enumerated() { pages[placeholders[i]] = .page(try page(text, lm, format: .int8)) }
    var answer = ""
    for try await piece in lm.stream(PagedPrompt(messages: [.user(Self.user(placeholders))], runs: pages), parameters: parameters) {
      answer += piece
    }
    #expect(answer.contains("22:40"), "\(answer)")
    // The reused context keeps only what a prompt computes itself: the next plain request
    // answers as a fresh model would.
    #expect(try await lm.reply(to: [.user(KVPage.text(ofChunk: text) + rest)], parameters: parameters) == read)
  }
}
