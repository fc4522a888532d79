public import Foundation
public import TomeCore
public import TomeReasoning
import TomeStore

/// The record graph of a collection, kept in its index (`records`, `record_chunks`): answers
/// as nodes with edges to the chunks behind them (`RecordMemory`), and what `tome records`
/// lists, shows and prunes.
///
/// A record goes stale when re-ingest deletes a chunk it links to (a trigger on `chunks`
/// marks it); stale records are never handed to a strategy, and `prune(_:)` removes them.
public struct RecordBook: RecordMemory {
  public let collection: Collection

  public init(collection: Collection) {
    self.collection = collection
  }

  var store: IndexStore { collection.store }

  // MARK: RecordMemory

  public func records(linkedTo documents: Set<DocumentID>?) throws -> [Record] {
    try store.records(linkedTo: documents).compactMap(Self.record)
  }

  @discardableResult
  public func save(_ record: NewRecord) throws -> RecordID {
    try store.insertRecord(
      question: record.question, answer: record.answer, strategy: record.strategy, model: record.model,
      origin: record.origin.rawValue, cited: record.cited, shown: record.shown, vector: record.vector)
  }

  // MARK: Listing and pruning

  /// Which records `list` and `prune` cover; every condition given must hold.
  public struct Filter: Sendable, Hashable {
    public var strategy: String?
    public var origin: RecordOrigin?
    /// true: only stale records; false: only current ones; nil: both.
    public var stale: Bool?
    /// Only records written before this time.
    public var createdBefore: Date?

    public init(strategy: String? = nil, origin: RecordOrigin? = nil, stale: Bool? = nil, createdBefore: Date? = nil) {
      self.strategy = strategy
      self.origin = origin
      self.stale = stale
      self.createdBefore = createdBefore
    }

    /// True when no condition is set.
    public var isEmpty: Bool { store.isEmpty }

    var store: RecordFilter {
      RecordFilter(strategy: strategy, origin: origin?.rawValue, stale: stale, createdBefore: createdBefore)
    }
  }

  /// Records `filter` covers, newest first, at most `limit` (nil: all).
  public func list(_ filter: Filter = .init(), limit: Int? = nil) throws -> [Record] {
    try store.records(filter.store, limit: limit).compactMap(Self.record)
  }

  /// Record `id`, or nil when the index has none.
  public func record(_ id: RecordID) throws -> Record? {
    try store.record(id).flatMap(Self.record)
  }

  /// Number of records `filter` covers.
  public func count(_ filter: Filter = .init()) throws -> Int {
    try store.recordCount(filter.store)
  }

  /// Deletes the records `filter` covers; returns how many.
  ///
  /// - Parameter everything: must be true for an empty filter, which deletes every record.
  /// - Throws: `RecordBookError.unfilteredPrune` for an empty filter without `everything`;
  ///   store errors.
  @discardableResult
  public func prune(_ filter: Filter, everything: Bool = false) throws -> Int {
    if filter.isEmpty && !everything { throw RecordBookError.unfilteredPrune }
    return try store.pruneRecords(filter.store)
  }

  /// Where each chunk of `record` lies now (`shown` order; cited ones marked). A chunk that
  /// re-ingest deleted has no span.
  public func sources(of record: Record) throws -> [RecordSource] {
    let spans = Dictionary(
      try store.chunks(ids: record.shown).map { ($0.id, $0.chunk.span) }, uniquingKeysWith: { a, _ in a })
    let cited = Set(record.cited)
    return record.shown.map { RecordSource(chunk: $0, cited: cited.contains($0), span: spans[$0]) }
  }

  /// A stored record as a strategy sees it; nil for an origin this build does not know
  /// (the column's check allows only known ones, so only a newer Tome could write one).
  static func record(_ stored: StoredRecord) -> Record? {
    guard let origin = RecordOrigin(rawValue: stored.origin) else { return nil }
    return Record(
      id: stored.id, question: stored.question, answer: stored.answer, strategy: stored.strategy, model: stored.model,
      origin: origin, created: stored.created, cited: stored.cited, shown: stored.shown, vector: stored.vector,
      stale: stored.stale)
  }
}

/// One edge of a record: a chunk, whether the answer cited it, and where it lies now.
public struct RecordSource: Sendable, Hashable {
  public var chunk: ChunkID
  public var cited: Bool
  /// nil when the chunk is gone (its document was re-ingested or removed).
  public var span: SourceSpan?
}

/// A record operation that was refused.
public enum RecordBookError: Error, CustomStringConvertible, Sendable, Hashable {
  /// Pruning without a filter would delete every record.
  case unfilteredPrune

  public var description: String {
    switch self {
    case .unfilteredPrune:
      "prune needs a filter (--older-than, --strategy, --origin, --stale), or --all to delete every record"
    }
  }
}
