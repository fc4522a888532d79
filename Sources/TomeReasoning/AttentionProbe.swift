import Foundation
public import TomeCore

/// The in-process model's attention over a context followed by a question, reached through
/// TomeCore's protocols only (`KVPaging` for the tokenizer and a sequence, `AttentionProbing`
/// for the rows), so `TomeReasoning` keeps depending on `TomeCore` alone.
///
/// One probe owns one sequence and reuses it: each reading truncates it to empty first, so no
/// earlier text is attended to.
final class AttentionProbe {
  /// What one pass returned, for `AttendStrategy.sinkCorrected(…)`.
  struct Reading {
    /// For each context token (position `context.lowerBound + i`), the piece it came from.
    var owners: [Int]
    /// Positions of the context's tokens.
    var context: Range<Int>
    /// Attention rows (summed over heads) of the question's positions, in position order.
    var questionRows: [[Float]]
    /// Attention rows of the context's own positions (the sink-correction reference).
    var referenceRows: [Int: [Float]]
    /// Every token read: template, context and question.
    var tokens: Int
  }

  /// The model's layers (a configured layer is checked against it).
  let layerCount: Int
  private let tokenize: (String) -> [Int]
  private let evaluate: (_ tokens: [Int], _ layer: Int, _ positions: [Int]) throws -> [Int: [Float]]
  /// Template tokens before and after the user message's text.
  private let prefix: [Int]
  private let suffix: [Int]

  private init(
    layerCount: Int, tokenize: @escaping (String) -> [Int],
    evaluate: @escaping ([Int], Int, [Int]) throws -> [Int: [Float]], prefix: [Int], suffix: [Int]
  ) {
    self.layerCount = layerCount
    self.tokenize = tokenize
    self.evaluate = evaluate
    self.prefix = prefix
    self.suffix = suffix
  }

  /// A probe of `model`, or nil when the model does not offer its attention (an HTTP endpoint).
  static func make(_ model: any LanguageModel) throws -> AttentionProbe? {
    guard let paging = model as? any KVPaging else { return nil }
    return try open(paging)
  }

  private static func open<M: KVPaging>(_ model: M) throws -> AttentionProbe? {
    let sequence = model.makeSequence()
    guard let probing = sequence as? any AttentionProbing else { return nil }
    let frame = try model.userMessageFrame()
    return AttentionProbe(
      layerCount: probing.layerCount, tokenize: { model.tokenize($0) },
      evaluate: { tokens, layer, positions in
        sequence.truncate(to: 0)
        return try probing.appendCapturingAttention(tokens: tokens, layer: layer, queryPositions: positions)
      },
      prefix: frame.prefix, suffix: frame.suffix)
  }

  /// Tokens of `text` with this model's tokenizer.
  func tokens(_ text: String) -> [Int] { tokenize(text) }

  /// Reads `pieces` (the context, each piece tokenized on its own so every token knows its
  /// piece) then `question`, as one user message, and returns the attention at `layer` of the
  /// question's positions (the question and the template's closing tokens, InfiniRetri's
  /// rows R) and of every context position.
  func read(pieces: [[Int]], question: String, layer: Int) throws -> Reading {
    var tokens = prefix
    var owners: [Int] = []
    for (i, piece) in pieces.enumerated() {
      tokens += piece
      owners += [Int](repeating: i, count: piece.count)
    }
    let context = prefix.count..<tokens.count
    tokens += tokenize("\n\nQuestion: " + question) + suffix
    let questionPositions = Array(context.upperBound..<tokens.count)
    let rows = try evaluate(tokens, layer, Array(context) + questionPositions)
    return Reading(
      owners: owners, context: context, questionRows: questionPositions.compactMap { rows[$0] },
      referenceRows: rows.filter { context.contains($0.key) }, tokens: tokens.count)
  }
}
