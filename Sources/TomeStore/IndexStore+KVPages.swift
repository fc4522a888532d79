import Foundation
internal import GRDB
public import TomeCore

/// Where a chunk's KV page lies in a page file.
public struct KVPageLocation: Sendable, Hashable {
  public var chunkID: ChunkID
  /// The model whose keys and values these are.
  public var model: String
  /// The page file's name under the index's `kvpages/` folder.
  public var file: String
  public var offset: Int64
  public var length: Int64
  public var tokenCount: Int

  public init(chunkID: ChunkID, model: String, file: String, offset: Int64, length: Int64, tokenCount: Int) {
    self.chunkID = chunkID
    self.model = model
    self.file = file
    self.offset = offset
    self.length = length
    self.tokenCount = tokenCount
  }
}

extension IndexStore {
  /// The stored page locations of `chunks` for `model`, by chunk.
  public func kvPageLocations(for chunks: [ChunkID], model: String) throws -> [ChunkID: KVPageLocation] {
    guard !chunks.isEmpty else { return [:] }
    return try read { db in
      var found: [ChunkID: KVPageLocation] = [:]
      let marks = Array(repeating: "?", count: chunks.count).joined(separator: ",")
      let rows = try Row.fetchCursor(
        db, sql: "SELECT * FROM kv_pages WHERE model = ? AND chunk_id IN (\(marks))",
        arguments: StatementArguments([model] + chunks.map { $0.rawValue as (any DatabaseValueConvertible) }))
      while let row = try rows.next() {
        let location = Self.kvPageLocation(row)
        found[location.chunkID] = location
      }
      return found
    }
  }

  /// Chunks with no page for `model` and an id above `after`, in id order, at most `limit`.
  public func chunksWithoutKVPages(model: String, after: ChunkID?, limit: Int) throws -> [StoredChunk] {
    try read { db in
      try Row.fetchAll(
        db,
        sql: """
          \(Self.chunkSelect) WHERE c.id > ? AND c.id NOT IN (SELECT chunk_id FROM kv_pages WHERE model = ?)
          ORDER BY c.id LIMIT ?
          """,
        arguments: [after?.rawValue ?? Int64.min, model, limit]
      ).map(StoredChunk.init(row:))
    }
  }

  /// Number of chunks with no page for `model`.
  public func kvPagePendingCount(model: String) throws -> Int {
    try read { db in
      try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM chunks WHERE id NOT IN (SELECT chunk_id FROM kv_pages WHERE model = ?)", arguments: [model]) ?? 0
    }
  }

  /// Records pages written to a page file, in one transaction. Pages of chunks deleted
  /// meanwhile are ignored (their bytes stay unreferenced).
  public func insertKVPages(_ locations: [KVPageLocation]) throws {
    try write { db in
      let statement = try db.cachedStatement(
        sql: """
          INSERT OR REPLACE INTO kv_pages(chunk_id, model, file, offset, length, token_count)
          SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?)
          """)
      for l in locations {
        try statement.execute(arguments: [
          l.chunkID.rawValue, l.model, l.file, l.offset, l.length, l.tokenCount, l.chunkID.rawValue,
        ])
      }
    }
  }

  /// Totals of the stored pages, per model and file.
  public struct KVPageTotals: Sendable, Hashable {
    public var model: String
    public var file: String
    public var pages: Int
    /// Bytes the pages take in their file (the file may hold more: pages of deleted chunks).
    public var bytes: Int64
    public var tokens: Int
  }

  public func kvPageTotals() throws -> [KVPageTotals] {
    try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT model, file, COUNT(*) AS pages, SUM(length) AS bytes, SUM(token_count) AS tokens
          FROM kv_pages GROUP BY model, file ORDER BY model, file
          """
      ).map { KVPageTotals(model: $0["model"], file: $0["file"], pages: $0["pages"], bytes: $0["bytes"], tokens: $0["tokens"]) }
    }
  }

  /// Forgets the pages of every model but `model` (nil: of every model); returns the files
  /// no longer referenced by any page.
  @discardableResult
  public func removeKVPages(keeping model: String? = nil) throws -> Set<String> {
    try write { db in
      let before = Set(try String.fetchAll(db, sql: "SELECT DISTINCT file FROM kv_pages"))
      if let model {
        try db.execute(sql: "DELETE FROM kv_pages WHERE model != ?", arguments: [model])
      } else {
        try db.execute(sql: "DELETE FROM kv_pages")
      }
      let after = Set(try String.fetchAll(db, sql: "SELECT DISTINCT file FROM kv_pages"))
      return before.subtracting(after)
    }
  }

  private static func kvPageLocation(_ row: Row) -> KVPageLocation {
    KVPageLocation(
      chunkID: ChunkID(row["chunk_id"]), model: row["model"], file: row["file"], offset: row["offset"],
      length: row["length"], tokenCount: row["token_count"])
  }
}
