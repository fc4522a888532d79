public import Foundation
internal import GRDB
import TomeCore

/// The SQLite file of one index (`Indexes/<name>/tome.sqlite`): documents, chunks, the FTS5
/// table over chunk text, and `meta`.
///
/// One `IndexStore` per file per process (GRDB's rule 1: connect once). It is `Sendable`:
/// GRDB's `DatabasePool` serialises writes and lets reads run beside them in WAL mode.
/// Every write that belongs to one file is one transaction, so a killed ingest leaves either
/// the old or the new version of a file, never half of one.
public final class IndexStore: Sendable {
  /// Name of the database file inside an index folder.
  public static let fileName = "tome.sqlite"

  /// The index folder.
  public let directory: URL
  /// The database file.
  public var databaseURL: URL { directory.appendingPathComponent(Self.fileName) }
  let pool: DatabasePool

  /// Opens the index in `directory`, creating the folder and schema when `create` is true.
  ///
  /// - Throws: `StoreError` when the folder has no index and `create` is false, when the file
  ///   is not a SQLite database, or when its schema is newer than this build understands.
  public init(directory: URL, create: Bool) throws {
    self.directory = directory
    let path = directory.appendingPathComponent(Self.fileName).path
    let exists = FileManager.default.fileExists(atPath: path)
    if !exists && !create {
      throw StoreError(.cannotOpen, databasePath: path, message: "no index here; run `tome ingest PATH` first")
    }
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw StoreError(.cannotOpen, databasePath: path, message: error.localizedDescription)
    }
    var configuration = Configuration()
    configuration.foreignKeysEnabled = true
    configuration.busyMode = .timeout(10)
    // WAL with synchronous=NORMAL: a crash of the process (kill -9) never loses a commit or
    // corrupts the file; only a power cut may drop the last commits. Ingest commits once per
    // file, and FULL would cost an fsync for each.
    configuration.prepareDatabase { db in
      try db.execute(sql: "PRAGMA synchronous = NORMAL")
    }
    do {
      pool = try DatabasePool(path: path, configuration: configuration)
      try Schema.migrator.migrate(pool)
    } catch let error as DatabaseError {
      throw StoreError(
        error.resultCode == .SQLITE_NOTADB ? .notAnIndex : .sqlite(code: error.extendedResultCode.rawValue, sql: error.sql),
        databasePath: path, message: error.message ?? "\(error.resultCode)")
    } catch let error as StoreError {
      throw error
    } catch {
      throw StoreError(.cannotOpen, databasePath: path, message: "\(error)")
    }
    let found = try read { db in try Int.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [MetaKey.schemaVersion.rawValue]) }
    if let found, found > Schema.version {
      throw StoreError(.newerSchema(found: found, supported: Schema.version), databasePath: path, message: "")
    }
  }

  // MARK: - Error mapping

  func read<T>(_ body: (Database) throws -> T) throws -> T {
    do { return try pool.read(body) } catch { throw mapped(error) }
  }

  func write<T>(_ body: (Database) throws -> T) throws -> T {
    do { return try pool.write(body) } catch { throw mapped(error) }
  }

  /// Turns GRDB's errors into `StoreError`; errors thrown by callers' closures pass through.
  func mapped(_ error: any Error) -> any Error {
    if let error = error as? DatabaseError {
      return StoreError(
        .sqlite(code: error.extendedResultCode.rawValue, sql: error.sql),
        databasePath: databaseURL.path, message: error.message ?? "\(error.resultCode)")
    }
    return error
  }

  // MARK: - Meta

  /// The value stored for `key`, or nil when never set.
  public func meta(_ key: MetaKey) throws -> String? {
    try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key.rawValue]) }
  }

  /// Stores `value` for `key` (nil removes it).
  public func setMeta(_ key: MetaKey, _ value: String?) throws {
    try write { db in
      if let value {
        try db.execute(sql: "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", arguments: [key.rawValue, value])
      } else {
        try db.execute(sql: "DELETE FROM meta WHERE key = ?", arguments: [key.rawValue])
      }
    }
  }

  // MARK: - Roots

  /// The folders and files given to `tome ingest`, so a bare `tome ingest` can re-sync them.
  public func roots() throws -> [String] {
    try read { db in try String.fetchAll(db, sql: "SELECT path FROM roots ORDER BY path") }
  }

  /// Remembers ingest roots (absolute paths).
  public func addRoots(_ paths: [String]) throws {
    try write { db in
      for path in paths {
        try db.execute(sql: "INSERT OR IGNORE INTO roots(path) VALUES (?)", arguments: [path])
      }
    }
  }
}

/// Keys of the `meta` table. Typed so that no caller spells a key by hand.
public enum MetaKey: String, Sendable, CaseIterable {
  case schemaVersion = "schema_version"
  /// `TokenCounter.identifier` used to size chunks.
  case tokenCounter = "token_counter"
  /// The chunker's budget and overlap, e.g. `max=256 overlap=32`; a change re-chunks every file.
  case chunker = "chunker"
  /// The encoder whose vectors the index holds (`TextEmbedder.identifier`).
  case encoder = "encoder"
  /// Dimension of the stored vectors.
  case encoderDimension = "encoder_dimension"
  /// Bumped by triggers on every change to `vectors`; a graph built at another value is stale.
  case vectorsGeneration = "vectors_generation"
  /// Random per database, so a graph of a deleted and recreated index is never taken for current.
  case indexUUID = "index_uuid"
  /// The graph kind `tome index build` chose (`hnsw` or `roar`); absent: exact search only.
  case vectorIndex = "vector_index"
}
