public import Foundation
public import TomeCore

/// Where a record came from.
public enum RecordOrigin: String, Sendable, Hashable, Codable, CaseIterable {
  case ask, chat, batch, serve
  /// A question `gor` simulated to cover a stretch of text, and its answer.
  case simulated
}

/// An answer kept in the index as a node of the record graph (Graph of Records): the
/// question, the answer, and edges to the chunks behind it.
///
/// Why keep answers: a global question ("what are the main themes?") needs more text than one
/// window; answers to earlier narrow questions are short, already-digested views of that text,
/// and retrieving them beside chunks covers more of it per prompt token. A record is never a
/// source itself: a citation through it resolves to its chunks, so every citation stays
/// `path:lines` and checked.
public struct Record: Sendable, Hashable {
  public var id: RecordID
  public var question: String
  public var answer: String
  /// The strategy that answered (`rag`, `auto→coc`, …).
  public var strategy: String
  /// The model's identifier, when one was called.
  public var model: String?
  public var origin: RecordOrigin
  public var created: Date
  /// Chunks behind the answer's verified citations and attributions.
  public var cited: [ChunkID]
  /// Every chunk the answering model was shown (cited ones included): the record's edges.
  public var shown: [ChunkID]
  /// The encoder's vector of `text` (unit length).
  public var vector: [Float]
  /// A chunk it links to changed or vanished (re-ingest) since it was written.
  public var stale: Bool

  public init(
    id: RecordID, question: String, answer: String, strategy: String, model: String?, origin: RecordOrigin,
    created: Date, cited: [ChunkID], shown: [ChunkID], vector: [Float], stale: Bool = false
  ) {
    self.id = id
    self.question = question
    self.answer = answer
    self.strategy = strategy
    self.model = model
    self.origin = origin
    self.created = created
    self.cited = cited
    self.shown = shown
    self.vector = vector
    self.stale = stale
  }

  /// What is embedded and shown of a record: the question and its answer.
  public static func text(question: String, answer: String) -> String { "\(question)\n\(answer)" }
}

/// A record about to be written (the store assigns its id, time and staleness).
public struct NewRecord: Sendable, Hashable {
  public var question: String
  public var answer: String
  public var strategy: String
  public var model: String?
  public var origin: RecordOrigin
  public var cited: [ChunkID]
  public var shown: [ChunkID]
  public var vector: [Float]

  public init(
    question: String, answer: String, strategy: String, model: String?, origin: RecordOrigin, cited: [ChunkID],
    shown: [ChunkID], vector: [Float]
  ) {
    self.question = question
    self.answer = answer
    self.strategy = strategy
    self.model = model
    self.origin = origin
    self.cited = cited
    self.shown = shown
    self.vector = vector
  }

  /// The record of a finished `answer`, or nil when there is nothing worth keeping (not found,
  /// empty, or the model showed nothing).
  ///
  /// `cited` holds the chunks behind verified `[n]` markers and attributions; `shown` every
  /// chunk of the passages the model read.
  public init?(answer: Answer, origin: RecordOrigin, embedder: any TextEmbedder) throws {
    let text = answer.text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !answer.notFound, !text.isEmpty, !answer.passages.isEmpty else { return nil }
    var seen = Set<ChunkID>()
    let cited = (answer.citations.filter(\.verified).flatMap(\.chunkIDs) + answer.attributions.map(\.chunkID))
      .filter { seen.insert($0).inserted }
    let shown = cited + answer.passages.flatMap(\.chunkIDs).filter { seen.insert($0).inserted }
    let vector = Array(try embedder.embed(passages: [Record.text(question: answer.question, answer: text)])[row: 0])
    self.init(
      question: answer.question, answer: text, strategy: answer.strategy, model: answer.model, origin: origin,
      cited: cited, shown: shown, vector: vector)
  }
}

/// The record graph a strategy may read and add to.
///
/// TomeKit implements it over the index's SQLite file (records survive restarts and go stale
/// when re-ingest changes a chunk they link to); tests may keep records in memory.
public protocol RecordMemory: Sendable {
  /// Records that are not stale and link to at least one chunk of `documents` (every
  /// non-stale record when nil), oldest first.
  func records(linkedTo documents: Set<DocumentID>?) throws -> [Record]
  /// Writes `record`; returns its id.
  @discardableResult
  func save(_ record: NewRecord) throws -> RecordID
}
