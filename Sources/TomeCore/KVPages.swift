import Foundation

/// Stored KV pages at answer time: the seams between the page store (TomeKit), the strategies
/// (TomeReasoning) and the in-process model (TomeModel).
///
/// Why: a passage's keys and values do not depend on the question when the passage is read on
/// its own, so they can be computed once at ingest and spliced into every prompt that shows
/// the passage (RetroLM-style, METHODS-INDEX-KV.md §3 "ours"). The prompt then costs only its
/// own tokens (template, question, passage labels), not the passages'.

/// Where a strategy finds stored pages.
public protocol KVPageSource: Sendable {
  /// The stored pages of `chunks` computed by `model` (its `identifier`), by chunk. A chunk
  /// without a page, or whose page fails verification, is absent: the caller reads its text.
  func pages(for chunks: [ChunkID], model: String) throws -> [ChunkID: KVPage]
}

extension KVPage {
  /// The text a chunk's page holds: a space, then the chunk's text without surrounding white
  /// space. The space is the one after a passage's label (`[3] text`): byte-level BPE joins a
  /// word to the space before it, so the page starts where whole-prompt tokenization would.
  public static func text(ofChunk text: String) -> String {
    " " + text.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

/// Chat messages in which placeholders stand for stored pages (and for the few tokens between
/// pages that no page holds).
///
/// Each key of `runs` occurs once in `messages`, where the run's text would be. A passage's
/// text starts with the space that separates it from what comes before (`KVPage.text(ofChunk:)`),
/// so one space right before a placeholder is dropped (`[3] ` + placeholder reads as `[3]` + the
/// run).
public struct PagedPrompt: Sendable {
  /// What a placeholder stands for.
  public enum Run: Sendable, Hashable {
    /// A stored page: its keys and values are appended.
    case page(KVPage)
    /// Tokens no page holds (the blank lines between two joined chunks, or a word a page
    /// tokenized otherwise): run through the model.
    case tokens([Int])

    public var tokens: [Int] {
      switch self {
      case .page(let page): page.tokens
      case .tokens(let tokens): tokens
      }
    }
  }

  public var messages: [ChatMessage]
  public var runs: [String: Run]

  public init(messages: [ChatMessage], runs: [String: Run]) {
    self.messages = messages
    self.runs = runs
  }

  /// The placeholder standing for the `n`th page of a prompt (private-use characters, which
  /// no document text and no template contains).
  public static func placeholder(_ n: Int) -> String { "\u{F8F0}page \(n)\u{F8F1}" }
}

/// A model that answers a `PagedPrompt`: the text between placeholders is tokenized and run as
/// usual, each page's keys and values are appended where its placeholder stands (keys re-rotated
/// to their new positions), and generation continues from the end.
public protocol PagedPrompting: KVPaging {
  /// The reply to `prompt`, as text pieces in order (as `stream(_:parameters:)`).
  func stream(_ prompt: PagedPrompt, parameters: GenerationParameters) -> AsyncThrowingStream<String, any Error>
}

extension KVPaging {
  /// The chat template's tokens before and after a user message's text: what the prompts of
  /// two different user messages share at the start and at the end.
  public func userMessageFrame() throws -> (prefix: [Int], suffix: [Int]) {
    let a = try promptTokens([.user("alpha gamma")])
    let b = try promptTokens([.user("omega beta delta")])
    var p = 0
    while p < min(a.count, b.count), a[p] == b[p] { p += 1 }
    var s = 0
    while s < min(a.count, b.count) - p, a[a.count - 1 - s] == b[b.count - 1 - s] { s += 1 }
    return (Array(a.prefix(p)), Array(a.suffix(s)))
  }
}

extension KVPage {
  /// The page without its first `k` positions: the keys and values of the positions after
  /// them, computed with those `k` tokens before them (so a chunk's tail that follows an
  /// overlap it shares with the chunk before can be spliced after that chunk's page).
  public func droppingFirst(_ k: Int) -> KVPage {
    precondition(k >= 0 && k <= tokens.count, "cannot drop \(k) of \(tokens.count) positions")
    return k == 0 ? self : positions(k..<tokens.count)
  }

  /// The page's first `k` positions: exact, since a position's keys and values never depend on
  /// the tokens after it (so a passage cut short by the prompt's budget keeps its page).
  public func prefix(_ k: Int) -> KVPage {
    precondition(k >= 0 && k <= tokens.count, "cannot keep \(k) of \(tokens.count) positions")
    return k == tokens.count ? self : positions(0..<k)
  }

  /// The keys and values of `range` of the page's positions.
  func positions(_ range: Range<Int>) -> KVPage {
    let n = tokens.count
    let rowBytes = kvDimension * (format == .float16 ? 2 : 1)
    var payload: [UInt8] = []
    var scales: [Float] = []
    payload.reserveCapacity(layerCount * 2 * range.count * rowBytes)
    // Layer-major, K rows then V rows: 2 × layers blocks of n rows each.
    for block in 0..<(layerCount * 2) {
      let start = (block * n + range.lowerBound) * rowBytes
      payload += self.payload[start..<(start + range.count * rowBytes)]
      if format == .int8 { scales += self.scales[(block * n + range.lowerBound)..<(block * n + range.upperBound)] }
    }
    return KVPage(
      format: format, modelIdentifier: modelIdentifier, layerCount: layerCount, kvDimension: kvDimension,
      tokens: Array(tokens[range]), startPosition: startPosition + range.lowerBound, payload: payload, scales: scales)
  }
}
