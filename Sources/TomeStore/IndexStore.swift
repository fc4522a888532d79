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
  /// A `DatabasePool` (WAL, readers beside the writer); a read-only `DatabaseQueue` when the
  /// index is not writable.
  let pool: any DatabaseWriter

  /// True when the index was opened read-only (its file or folder is not writable): search
  /// and status work, writes fail with SQLite's read-only error.
  public let isReadOnly: Bool

  /// Opens the index in `directory`, creating the folder and schema when `create` is true.
  ///
  /// An index whose file or folder is not writable opens read-only when `create` is false
  /// (search works; nothing is migrated or written). A SQLite file that is not a Tome index
  /// is refused before anything is written to it.
  ///
  /// - Throws: `StoreError` when the folder has no index and `create` is false, when the path
  ///   is a file rather than a folder, when the folder cannot be created or written, when the
  ///   file is not a Tome index, or when its schema is newer than this build understands.
  public init(directory: URL, create: Bool) throws {
    self.directory = directory
    let path = directory.appendingPathComponent(Self.fileName).path
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isFolder), !isFolder.boolValue {
      throw StoreError(.cannotOpen, databasePath: directory.path, message: "this is a file, not an index folder; --index takes a folder (or a name under Indexes/)")
    }
    if let problem = RegularFile.problem(path), problem != "does not exist" {
      throw StoreError(.cannotOpen, databasePath: path, message: "the index database \(problem)")
    }
    let exists = FileManager.default.fileExists(atPath: path)
    if !exists && !create {
      throw StoreError(.cannotOpen, databasePath: path, message: "no index here; run `tome ingest PATH` first")
    }
    if !exists {
      do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      } catch {
        throw StoreError(.cannotOpen, databasePath: path, message: "cannot create the index folder \(directory.path): \(Self.reason(for: directory))")
      }
    }
    // Two processes opening a new index at once (`tome search` started beside the `tome ingest`
    // that creates it) would both migrate it: GRDB reads which migrations are applied before
    // it takes the write lock, and the slower process failed with "database is locked" or
    // "table already exists". An advisory lock on the folder makes opening one at a time.
    let folderLock = Self.lockFolder(directory)
    defer { if folderLock >= 0 { close(folderLock) } }
    let writable = access(directory.path, W_OK) == 0 && (!exists || access(path, W_OK) == 0)
    if !writable && create {
      throw StoreError(.cannotOpen, databasePath: path, message: "the index is not writable (\(Self.reason(for: directory))); fix its permissions or pick another --index")
    }
    isReadOnly = !writable
    // Read-only: SQLite cannot open a WAL database read-only when it may not create the
    // `-shm` file next to it, so an unwritable index is opened as immutable (no locks, no
    // WAL; what a clean close left is all there is to read).
    let openPath = isReadOnly ? Self.immutableURI(path) : path
    if exists { try Self.checkIsTomeIndex(path: path, openPath: openPath) }
    var configuration = Configuration()
    configuration.readonly = isReadOnly
    configuration.foreignKeysEnabled = true
    configuration.busyMode = .timeout(10)
    // WAL with synchronous=NORMAL: a crash of the process (kill -9) never loses a commit or
    // corrupts the file; only a power cut may drop the last commits. Ingest commits once per
    // file, and FULL would cost an fsync for each.
    configuration.prepareDatabase { db in
      try db.execute(sql: "PRAGMA synchronous = NORMAL")
    }
    do {
      pool = isReadOnly
        ? try DatabaseQueue(path: openPath, configuration: configuration)
        : try DatabasePool(path: path, configuration: configuration)
      if isReadOnly {
        if try !pool.read({ db in try Schema.migrator.hasCompletedMigrations(db) }) {
          throw StoreError(.cannotOpen, databasePath: path, message: "the index is read-only and has an older schema; open it once where it is writable to upgrade it")
        }
      } else {
        try Schema.migrator.migrate(pool)
      }
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

  /// Refuses a SQLite file that is not a Tome index before anything writes to it: opening
  /// a foreign database used to add GRDB's migrations table to it, even for a search.
  private static func checkIsTomeIndex(path: String, openPath: String) throws {
    var configuration = Configuration()
    configuration.readonly = true
    // Another process may hold the file for a moment (closing it checkpoints the WAL).
    configuration.busyMode = .timeout(10)
    let tables: Set<String>
    do {
      let queue = try DatabaseQueue(path: openPath, configuration: configuration)
      tables = Set(try queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") })
      try queue.close()
    } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
      throw StoreError(.notAnIndex, databasePath: path, message: "the file is not a SQLite database")
    } catch let error as DatabaseError {
      throw StoreError(.cannotOpen, databasePath: path, message: error.message ?? "\(error.resultCode)")
    }
    // An empty file (a fresh database) is fine; anything else must have Tome's tables.
    if !tables.isEmpty && !(tables.contains("meta") && tables.contains("documents")) {
      throw StoreError(
        .notAnIndex, databasePath: path,
        message: "a SQLite database of another program (tables: \(tables.sorted().prefix(5).joined(separator: ", "))); it was left unchanged")
    }
  }

  /// Takes an exclusive `flock` on the folder and returns its descriptor (closing it releases
  /// the lock), or -1 when the folder cannot be opened (then opening goes on unlocked, as
  /// before; SQLite's own locks still keep the file whole).
  private static func lockFolder(_ directory: URL) -> Int32 {
    let descriptor = open(directory.path, O_RDONLY | O_DIRECTORY)
    guard descriptor >= 0 else { return -1 }
    while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
    return descriptor
  }

  /// A SQLite URI opening `path` read-only and immutable.
  static func immutableURI(_ path: String) -> String {
    "file:" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path) + "?mode=ro&immutable=1"
  }

  /// Why `url` (or the nearest existing folder above it) cannot be written, in words.
  static func reason(for url: URL) -> String {
    var folder = url
    while !FileManager.default.fileExists(atPath: folder.path), folder.path != "/" { folder = folder.deletingLastPathComponent() }
    if access(folder.path, W_OK) != 0 { return "\(folder.path): \(String(cString: strerror(errno)))" }
    return "\(folder.path) is writable, but creating inside it failed"
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

  /// Forgets an ingest root; false when it was not one.
  @discardableResult
  public func removeRoot(_ path: String) throws -> Bool {
    try write { db in
      try db.execute(sql: "DELETE FROM roots WHERE path = ?", arguments: [path])
      return db.changesCount > 0
    }
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
  /// How chunks became the encoder's input when their vectors were made (`Chunk.embeddingRules`);
  /// re-chunking keeps the vectors of unchanged chunks only under the same rules.
  case embeddingRules = "embedding_rules"
  /// Words in half the chunks or more (`IndexStore.commonTerms`), space-separated, recorded by
  /// each ingest: BM25 gives them no weight, so searches leave them out.
  case commonTerms = "common_terms"
  /// Words in half the chunks' headers or more, left out of searches of the headers alone.
  case commonHeaderTerms = "common_header_terms"
  /// The encoder whose vectors the index holds (`TextEmbedder.identifier`).
  case encoder = "encoder"
  /// Dimension of the stored vectors.
  case encoderDimension = "encoder_dimension"
  /// Fitted retrieval fusion settings (TomeKit's `FusionSettings` as JSON); absent means the
  /// standard ones.
  case fusion = "fusion"
  /// Bumped by triggers on every change to `vectors`; a graph built at another value is stale.
  case vectorsGeneration = "vectors_generation"
  /// Random per database, so a graph of a deleted and recreated index is never taken for current.
  case indexUUID = "index_uuid"
  /// The graph kind `tome index build` chose (`hnsw` or `roar`); absent: exact search only.
  case vectorIndex = "vector_index"
}
