public import Foundation
internal import GRDB
public import TomeCore

/// An answer kept in the index (a node of the record graph), as the store holds it.
///
/// TomeKit maps it to `TomeReasoning.Record`; the store knows the origin only as the text the
/// `records.origin` column allows (`ask`, `chat`, `batch`, `serve`, `simulated`).
public struct StoredRecord: Sendable, Hashable {
  public var id: RecordID
  public var question: String
  public var answer: String
  public var strategy: String
  public var model: String?
  /// One of `StoredRecord.origins`.
  public var origin: String
  public var created: Date
  /// Chunks behind the answer's verified citations and attributions, in edge order.
  public var cited: [ChunkID]
  /// Every chunk the answering model was shown, cited ones included, in edge order.
  public var shown: [ChunkID]
  /// Unit-length encoder vector of the question and answer (stored as f16).
  public var vector: [Float]
  /// A chunk it links to was deleted (re-ingest changed or removed its document).
  public var stale: Bool

  public init(
    id: RecordID, question: String, answer: String, strategy: String, model: String?, origin: String, created: Date,
    cited: [ChunkID], shown: [ChunkID], vector: [Float], stale: Bool
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

  /// The values the `records.origin` column accepts.
  public static let origins: Set<String> = ["ask", "chat", "batch", "serve", "simulated"]
}

/// Which records a listing or a prune covers; every condition given must hold.
public struct RecordFilter: Sendable, Hashable {
  public var strategy: String?
  public var origin: String?
  /// true: only stale records; false: only current ones; nil: both.
  public var stale: Bool?
  /// Only records written before this time.
  public var createdBefore: Date?

  public init(strategy: String? = nil, origin: String? = nil, stale: Bool? = nil, createdBefore: Date? = nil) {
    self.strategy = strategy
    self.origin = origin
    self.stale = stale
    self.createdBefore = createdBefore
  }

  /// True when no condition is set (the filter covers every record).
  public var isEmpty: Bool { strategy == nil && origin == nil && stale == nil && createdBefore == nil }

  /// The WHERE clause (without `WHERE`; `1` when empty) and its arguments, over `records`.
  var clause: (sql: String, arguments: StatementArguments) {
    var conditions: [String] = []
    var arguments: [any DatabaseValueConvertible] = []
    if let strategy {
      conditions.append("strategy = ?")
      arguments.append(strategy)
    }
    if let origin {
      conditions.append("origin = ?")
      arguments.append(origin)
    }
    if let stale { conditions.append(stale ? "stale = 1" : "stale = 0") }
    if let createdBefore {
      conditions.append("created_at < ?")
      arguments.append(IndexStore.julianDay(createdBefore))
    }
    return (conditions.isEmpty ? "1" : conditions.joined(separator: " AND "), StatementArguments(arguments))
  }
}

extension IndexStore {
  /// Writes a record and its edges to `shown` (the chunks the model read; those in `cited` are
  /// marked cited) in one transaction, and returns its id.
  ///
  /// Edge positions follow `shown`; a cited chunk missing from `shown` is appended.
  /// - Throws: `StoreError` (an origin outside `StoredRecord.origins` fails the column's check).
  /// - Complexity: O(e) statements for e edges.
  @discardableResult
  public func insertRecord(
    question: String, answer: String, strategy: String, model: String?, origin: String, cited: [ChunkID], shown: [ChunkID],
    vector: [Float]
  ) throws -> RecordID {
    try write { db in
      try db.execute(
        sql: "INSERT INTO records(question, answer, strategy, model, origin, vector) VALUES (?, ?, ?, ?, ?, ?)",
        arguments: [question, answer, strategy, model, origin, Self.encode(vector[...], .float16)])
      let id = db.lastInsertedRowID
      let citedSet = Set(cited)
      var seen = Set<ChunkID>()
      let edges = (shown + cited).filter { seen.insert($0).inserted }
      let statement = try db.cachedStatement(
        sql: "INSERT INTO record_chunks(record_id, chunk_id, cited, position) VALUES (?, ?, ?, ?)")
      for (position, chunk) in edges.enumerated() {
        try statement.execute(arguments: [id, chunk.rawValue, citedSet.contains(chunk), position])
      }
      return RecordID(id)
    }
  }

  /// The record `id`, or nil when there is none.
  public func record(_ id: RecordID) throws -> StoredRecord? {
    try read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM records WHERE id = ?", arguments: [id.rawValue])
        .map { try Self.storedRecord($0, db) }
    }
  }

  /// Records `filter` covers, newest first, at most `limit` (nil: all).
  /// - Complexity: O(n) rows plus one edge query per record returned.
  public func records(_ filter: RecordFilter = .init(), limit: Int? = nil) throws -> [StoredRecord] {
    let (condition, arguments) = filter.clause
    return try read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM records WHERE \(condition) ORDER BY created_at DESC, id DESC LIMIT ?",
        arguments: arguments + [limit ?? -1]
      ).map { try Self.storedRecord($0, db) }
    }
  }

  /// Records that are not stale and link to at least one chunk of `documents` (every
  /// non-stale record when nil), oldest first.
  public func records(linkedTo documents: Set<DocumentID>?) throws -> [StoredRecord] {
    guard let documents else { return try records(RecordFilter(stale: false)).reversed() }
    guard !documents.isEmpty else { return [] }
    let ids = "[" + documents.map { String($0.rawValue) }.joined(separator: ",") + "]"
    return try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT r.* FROM records r
          WHERE r.stale = 0 AND EXISTS (
            SELECT 1 FROM record_chunks rc JOIN chunks c ON c.id = rc.chunk_id
            WHERE rc.record_id = r.id AND c.document_id IN (SELECT value FROM json_each(?)))
          ORDER BY r.created_at, r.id
          """, arguments: [ids]
      ).map { try Self.storedRecord($0, db) }
    }
  }

  /// Deletes the records `filter` covers (their edges go by cascade); returns how many.
  ///
  /// An empty filter deletes every record: callers that take a filter from a user should
  /// refuse one (`RecordFilter.isEmpty`) unless asked for everything.
  @discardableResult
  public func pruneRecords(_ filter: RecordFilter) throws -> Int {
    let (condition, arguments) = filter.clause
    return try write { db in
      try db.execute(sql: "DELETE FROM records WHERE \(condition)", arguments: arguments)
      return db.changesCount
    }
  }

  /// Number of records `filter` covers.
  public func recordCount(_ filter: RecordFilter = .init()) throws -> Int {
    let (condition, arguments) = filter.clause
    return try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM records WHERE \(condition)", arguments: arguments) ?? 0 }
  }

  static func storedRecord(_ row: Row, _ db: Database) throws -> StoredRecord {
    let id: Int64 = row["id"]
    var cited: [ChunkID] = []
    var shown: [ChunkID] = []
    for edge in try Row.fetchAll(
      db, sql: "SELECT chunk_id, cited FROM record_chunks WHERE record_id = ? ORDER BY position", arguments: [id])
    {
      let chunk = ChunkID(edge["chunk_id"])
      shown.append(chunk)
      if edge["cited"] as Bool { cited.append(chunk) }
    }
    let blob: Data = row["vector"]
    return StoredRecord(
      id: RecordID(id), question: row["question"], answer: row["answer"], strategy: row["strategy"], model: row["model"],
      origin: row["origin"], created: date(julianDay: row["created_at"]), cited: cited, shown: shown,
      vector: decode(blob, dimension: blob.count / 2) ?? [], stale: row["stale"])
  }

  /// A time as SQLite's `julianday` counts it (days since noon UTC, 24 November 4714 BC).
  static func julianDay(_ date: Date) -> Double { date.timeIntervalSince1970 / 86_400 + 2_440_587.5 }

  /// The time a `julianday` value stands for.
  static func date(julianDay: Double) -> Date { Date(timeIntervalSince1970: (julianDay - 2_440_587.5) * 86_400) }
}
