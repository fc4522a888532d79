import Foundation
internal import GRDB
public import TomeCore

/// A question kept as a training query of the query-aware graph (RoarGraph).
public struct StoredQuery: Sendable, Hashable {
  /// Where a kept query came from.
  public enum Source: String, Sendable, CaseIterable {
    /// Asked by a user (`tome ask`, `tome chat`).
    case asked
    /// Made from the collection when too few were asked.
    case generated
  }

  public var id: Int64
  public var text: String
  public var source: Source
}

extension IndexStore {
  /// The vectors generation: moves on every insert, replace or delete of a vector.
  public func vectorsGeneration() throws -> Int64 {
    try read { db in
      try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?", arguments: [MetaKey.vectorsGeneration.rawValue]) ?? 0
    }
  }

  /// Chunk ids that have a vector, ascending.
  /// - Complexity: O(n) rows read (the rowid b-tree of `vectors`).
  public func vectorIDs() throws -> [ChunkID] {
    try read { db in try Int64.fetchAll(db, sql: "SELECT chunk_id FROM vectors ORDER BY chunk_id").map(ChunkID.init) }
  }

  /// The stored vectors of `ids` that have one (f16 or f32, widened to float), by id.
  public func vectors(ids: [ChunkID], dimension: Int) throws -> [ChunkID: [Float]] {
    guard !ids.isEmpty else { return [:] }
    return try read { db in
      var found: [ChunkID: [Float]] = [:]
      let statement = try db.cachedStatement(sql: "SELECT vector FROM vectors WHERE chunk_id = ?")
      for id in ids {
        guard let blob = try Data.fetchOne(statement, arguments: [id.rawValue]),
          let vector = Self.decode(blob, dimension: dimension)
        else { continue }
        found[id] = vector
      }
      return found
    }
  }

  /// Chunk ids of the documents whose path starts with `prefix` (a folder, a file), for
  /// filtered search.
  public func chunkIDs(pathPrefix prefix: String) throws -> [ChunkID] {
    try read { db in
      try Int64.fetchAll(
        db,
        sql: "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE substr(d.path, 1, ?) = ? ORDER BY c.id",
        arguments: [prefix.utf8.count, prefix]
      ).map(ChunkID.init)
    }
  }

  /// Keeps `texts` as training queries (duplicates of kept ones are ignored).
  public func addQueries(_ texts: [String], source: StoredQuery.Source) throws {
    try write { db in
      let statement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO queries(text, source) VALUES (?, ?)")
      for text in texts {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { continue }
        try statement.execute(arguments: [trimmed, source.rawValue])
      }
    }
  }

  /// Every kept query, oldest first.
  public func queries() throws -> [StoredQuery] {
    try read { db in
      try Row.fetchAll(db, sql: "SELECT id, text, source FROM queries ORDER BY id").compactMap { row in
        guard let source = StoredQuery.Source(rawValue: row["source"]) else { return nil }
        return StoredQuery(id: row["id"], text: row["text"], source: source)
      }
    }
  }

  /// Deletes the kept queries of `source` (nil: all).
  public func removeQueries(source: StoredQuery.Source?) throws {
    try write { db in
      if let source {
        try db.execute(sql: "DELETE FROM queries WHERE source = ?", arguments: [source.rawValue])
      } else {
        try db.execute(sql: "DELETE FROM queries")
      }
    }
  }

  /// A seeded sample of up to `count` chunk texts, for generating training queries.
  public func sampleChunkTexts(count: Int, seed: UInt64) throws -> [String] {
    let ids = try read { db in try Int64.fetchAll(db, sql: "SELECT id FROM chunks ORDER BY id") }
    var rng = SeededGenerator(seed: seed)
    let chosen = ids.shuffled(using: &rng).prefix(count).map(ChunkID.init)
    return try chunks(ids: Array(chosen)).map(\.chunk.text)
  }
}
