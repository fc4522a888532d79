import Foundation
public import TomeCore

/// The text a reading strategy (`infty`, `mapreduce`) goes through in order, cut into
/// segments of at most a given number of model tokens.
///
/// What is read: the one document the reader sees (a one-document collection, or `--document`),
/// else the chunks a broad search finds across the collection, in document order. Neighbouring
/// chunks overlap (the chunker repeats a few lines); the repeated lines are read once.
public struct ReadingPlan: Sendable {
  /// What is read, for the trace ("Bed002.txt, 38 chunks").
  public var description: String
  /// Segments in reading order; each is a run of chunks in document order.
  public var segments: [[Passage]]
  /// Model tokens of all segments.
  public var tokens: Int

  /// Reads `question`'s input from `context.reader` and cuts it into segments of at most
  /// `segmentTokens`; a broad search takes `searchDepth` hits.
  static func make(
    question: String, context: AnsweringContext, segmentTokens: Int, searchDepth: Int, log: TraceLog
  ) throws -> ReadingPlan {
    let reader = context.reader
    let documents = try reader.documents()
    var chunks: [Passage]
    var description: String
    if documents.count == 1, let only = documents.first {
      chunks = try log.timed(.read, "read \(only.path)", count: \.count) { try reader.chunks(of: only.id) }
      description = "\(only.path), \(chunks.count) chunks"
    } else {
      let hits = try log.timed(.search, "broad search", detail: question, count: \.count) {
        try reader.search(question, k: searchDepth, documents: nil)
      }
      let order = Dictionary(documents.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
      chunks = hits.sorted { a, b in
        let (da, db) = (a.document.flatMap { order[$0] } ?? .max, b.document.flatMap { order[$0] } ?? .max)
        return da != db ? da < db : (a.span.path, a.span.firstLine) < (b.span.path, b.span.firstLine)
      }
      description = "top \(hits.count) hits of a broad search, in \(Set(hits.compactMap(\.document)).count) documents"
    }
    let (segments, total) = try Self.pack(Self.withoutOverlap(chunks), tokens: segmentTokens, model: context.model)
    return ReadingPlan(description: description, segments: segments, tokens: total)
  }

  /// `chunks` in order, packed into runs of at most `tokens` (a chunk longer than that is a run
  /// of its own), and the tokens of all of them. Blocks are separated by a blank line (2 tokens).
  static func pack(_ chunks: [Passage], tokens: Int, model: any LanguageModel) throws -> (runs: [[Passage]], tokens: Int) {
    var runs: [[Passage]] = []
    var current: [Passage] = []
    var used = 0
    var total = 0
    for chunk in chunks {
      let cost = try model.tokenCount(chunk.text) + 2
      total += cost
      if used + cost > tokens, !current.isEmpty {
        runs.append(current)
        current = []
        used = 0
      }
      current.append(chunk)
      used += cost
    }
    if !current.isEmpty { runs.append(current) }
    return (runs, total)
  }

  /// `chunks` (in document order) with the lines each repeats of the one before it removed.
  static func withoutOverlap(_ chunks: [Passage]) -> [Passage] {
    var out: [Passage] = []
    for var chunk in chunks {
      if let previous = out.last, previous.span.path == chunk.span.path, previous.span.page == chunk.span.page,
        chunk.span.firstLine <= previous.span.lastLine
      {
        let lines = chunk.text.split(separator: "\n", omittingEmptySubsequences: false)
        let repeated = previous.span.lastLine - chunk.span.firstLine + 1
        // Only when the text's lines match its span (the index's invariant); else keep it whole.
        if lines.count == chunk.span.lastLine - chunk.span.firstLine + 1 {
          guard repeated < lines.count else { continue }
          chunk.text = lines.dropFirst(repeated).joined(separator: "\n")
          chunk.span.firstLine += repeated
        }
      }
      out.append(chunk)
    }
    return out
  }

  /// A segment's text as the model reads it: its chunks separated by blank lines.
  static func text(of segment: [Passage]) -> String {
    segment.map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: "\n\n")
  }
}
