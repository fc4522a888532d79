public import Foundation
internal import GRDB
public import TomeCore

/// Vectors remembered by the text they embed: a SQLite file of (encoder, text digest) → vector,
/// shared by any number of indexes.
///
/// Benchmarks build many indexes over mostly the same text (`tome bench niah` builds one per
/// context length, and each needle changes one file); with a cache each distinct chunk text
/// is embedded once. Vectors are kept as float32, so a cached vector is bit-identical to a
/// freshly computed one and an index built through the cache equals one built without it.
///
/// It is a separate file, not a table of an index: it outlives the indexes it fed and has its
/// own one-table schema. One `VectorCache` per file per process, like `IndexStore`.
public final class VectorCache: Sendable {
  /// The database file.
  public let url: URL
  let queue: DatabaseQueue

  /// Opens (creating when needed) the cache file at `url`.
  /// - Throws: `StoreError` when the file cannot be opened or is not a cache.
  public init(url: URL) throws {
    self.url = url
    do {
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      var configuration = Configuration()
      configuration.busyMode = .timeout(10)
      queue = try DatabaseQueue(path: url.path, configuration: configuration)
      try queue.write { db in
        try db.execute(sql: """
          CREATE TABLE IF NOT EXISTS cached_vectors (
            encoder TEXT NOT NULL,
            digest TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (encoder, digest)
          ) WITHOUT ROWID
          """)
      }
    } catch let error as DatabaseError {
      throw StoreError(
        error.resultCode == .SQLITE_NOTADB ? .notAnIndex : .sqlite(code: error.extendedResultCode.rawValue, sql: error.sql),
        databasePath: url.path, message: error.message ?? "\(error.resultCode)")
    } catch {
      throw StoreError(.cannotOpen, databasePath: url.path, message: "\(error)")
    }
  }

  /// The cached vectors of `encoder` for `digests` that have one, by digest. Vectors of
  /// another dimension are ignored (they cannot be this encoder's).
  public func vectors(for digests: [String], encoder: String, dimension: Int) throws -> [String: [Float]] {
    guard !digests.isEmpty else { return [:] }
    return try mapped {
      try queue.read { db in
        var found: [String: [Float]] = [:]
        let statement = try db.cachedStatement(sql: "SELECT vector FROM cached_vectors WHERE encoder = ? AND digest = ?")
        for digest in Set(digests) {
          guard let blob = try Data.fetchOne(statement, arguments: [encoder, digest]), blob.count == dimension * 4 else { continue }
          var vector = [Float](repeating: 0, count: dimension)
          vector.withUnsafeMutableBytes { dst in blob.withUnsafeBytes { dst.copyMemory(from: $0) } }
          found[digest] = vector
        }
        return found
      }
    }
  }

  /// Remembers row `i` of `vectors` as `encoder`'s vector for `digests[i]`, in one transaction.
  public func store(digests: [String], vectors: EmbeddingMatrix, encoder: String) throws {
    precondition(digests.count == vectors.count, "\(digests.count) digests for \(vectors.count) vectors")
    try mapped {
      try queue.write { db in
        let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO cached_vectors(encoder, digest, vector) VALUES (?, ?, ?)")
        for (i, digest) in digests.enumerated() {
          let blob = vectors[row: i].withUnsafeBufferPointer { Data(buffer: $0) }
          try statement.execute(arguments: [encoder, digest, blob])
        }
      }
    }
  }

  /// Number of cached vectors (all encoders).
  public func count() throws -> Int {
    try mapped { try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cached_vectors") ?? 0 } }
  }

  private func mapped<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as DatabaseError {
      throw StoreError(
        .sqlite(code: error.extendedResultCode.rawValue, sql: error.sql), databasePath: url.path,
        message: error.message ?? "\(error.resultCode)")
    }
  }
}
