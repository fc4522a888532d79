import Foundation
internal import GRDB
public import TomeCore

extension IndexStore {
  /// How vectors are stored: f16 halves the file and loses nothing that ranking notices
  /// (unit vectors, |x| ≤ 1, 11-bit mantissa).
  public enum VectorEncoding: String, Sendable {
    case float16 = "f16"
    case float32 = "f32"
  }

  /// Chunks that have no vector yet, in id order, at most `limit`.
  public func chunksWithoutVectors(limit: Int) throws -> [StoredChunk] {
    try read { db in
      try Row.fetchAll(
        db,
        sql: "\(Self.chunkSelect) WHERE c.id NOT IN (SELECT chunk_id FROM vectors) ORDER BY c.id LIMIT ?",
        arguments: [limit]
      ).map(StoredChunk.init(row:))
    }
  }

  /// Number of chunks still waiting for a vector.
  public func pendingVectorCount() throws -> Int {
    try read { db in
      try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM chunks WHERE id NOT IN (SELECT chunk_id FROM vectors)") ?? 0
    }
  }

  /// Number of chunks that have a vector.
  public func vectorCount() throws -> Int {
    try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM vectors") ?? 0 }
  }

  /// Stores one vector per chunk id (row `i` of `vectors` for `ids[i]`) in one transaction.
  /// Ids whose chunk vanished meanwhile are ignored.
  public func insertVectors(ids: [ChunkID], vectors: EmbeddingMatrix, encoding: VectorEncoding) throws {
    precondition(ids.count == vectors.count, "\(ids.count) ids for \(vectors.count) vectors")
    try write { db in
      let statement = try db.cachedStatement(
        sql: "INSERT OR REPLACE INTO vectors(chunk_id, vector) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?)")
      for (i, id) in ids.enumerated() {
        try statement.execute(arguments: [id.rawValue, Self.encode(vectors[row: i], encoding), id.rawValue])
      }
    }
  }

  /// Every stored vector, in chunk id order, as one contiguous matrix (for exact search).
  /// - Complexity: O(n·d).
  public func allVectors(dimension: Int) throws -> (ids: [ChunkID], matrix: EmbeddingMatrix) {
    try read { db in
      var ids: [ChunkID] = []
      var values: [Float] = []
      let cursor = try Row.fetchCursor(db, sql: "SELECT chunk_id, vector FROM vectors ORDER BY chunk_id")
      while let row = try cursor.next() {
        let blob: Data = row["vector"]
        guard let vector = Self.decode(blob, dimension: dimension) else { continue }
        ids.append(ChunkID(row["chunk_id"]))
        values.append(contentsOf: vector)
      }
      return (ids, EmbeddingMatrix(dimension: dimension, values: values))
    }
  }

  /// Deletes every vector (the encoder changed; vectors from two encoders never mix).
  public func removeAllVectors() throws {
    try write { db in try db.execute(sql: "DELETE FROM vectors") }
  }

  static func encode(_ row: ArraySlice<Float>, _ encoding: VectorEncoding) -> Data {
    switch encoding {
    case .float32:
      return row.withUnsafeBufferPointer { Data(buffer: $0) }
    case .float16:
      let half = row.map { Float16($0) }
      return half.withUnsafeBufferPointer { Data(buffer: $0) }
    }
  }

  /// Decodes a vector blob of either encoding by its length; nil when the length fits neither.
  static func decode(_ blob: Data, dimension: Int) -> [Float]? {
    if blob.count == dimension * 4 {
      var out = [Float](repeating: 0, count: dimension)
      out.withUnsafeMutableBytes { dst in blob.withUnsafeBytes { dst.copyMemory(from: $0) } }
      return out
    }
    if blob.count == dimension * 2 {
      var half = [Float16](repeating: 0, count: dimension)
      half.withUnsafeMutableBytes { dst in blob.withUnsafeBytes { dst.copyMemory(from: $0) } }
      return half.map { Float($0) }
    }
    return nil
  }
}
