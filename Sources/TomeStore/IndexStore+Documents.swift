import Foundation
internal import GRDB
public import TomeCore

extension IndexStore {
  /// Every document record, ordered by path.
  /// - Complexity: O(n) in the number of documents.
  public func documents() throws -> [DocumentRecord] {
    try read { db in try Row.fetchAll(db, sql: "SELECT * FROM documents ORDER BY path").map(DocumentRecord.init(row:)) }
  }

  /// The record for `path`, or nil when the index has never seen it.
  public func document(path: String) throws -> DocumentRecord? {
    try read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM documents WHERE path = ?", arguments: [path]).map(DocumentRecord.init(row:))
    }
  }

  /// Replaces everything stored for `record.path` with the chunks `body` writes, in ONE
  /// transaction: if `body` throws, nothing of the new version is kept and the old version stays.
  ///
  /// `body` receives a writer valid only during the call, inserts chunks through it, and
  /// returns the final record (status, hash, counts), which is stored with the chunks.
  /// - Parameter keepingVectors: give a new chunk whose text and header equal a previous chunk's
  ///   that chunk's vector, so a re-chunk under unchanged `Chunk.embeddingRules` re-embeds only
  ///   what changed. Only the caller knows whether the stored vectors were made under the
  ///   current rules.
  /// - Returns: the stored record with its id.
  public func replaceDocument(
    path: String, keepingVectors: Bool = false, _ body: (inout DocumentWriter) throws -> DocumentRecord
  ) throws -> DocumentRecord {
    try write { db in
      var kept: [DocumentWriter.Content: Data] = [:]
      if keepingVectors {
        let rows = try Row.fetchCursor(
          db,
          sql: """
            SELECT c.text, c.header, v.vector FROM documents d JOIN chunks c ON c.document_id = d.id
            JOIN vectors v ON v.chunk_id = c.id WHERE d.path = ?
            """, arguments: [path])
        while let row = try rows.next() { kept[DocumentWriter.Content(text: row[0], header: row[1])] = row[2] }
      }
      try db.execute(sql: "DELETE FROM documents WHERE path = ?", arguments: [path])
      try db.execute(
        sql: "INSERT INTO documents(path, sha256, size, mtime_ns, status) VALUES (?, '', 0, 0, 'failed')",
        arguments: [path])
      let id = DocumentID(db.lastInsertedRowID)
      var writer = DocumentWriter(db: db, documentID: id, keptVectors: kept)
      var record = try body(&writer)
      record.id = id
      record.path = path
      try Self.update(record, in: db)
      return record
    }
  }

  /// Records a document without chunks (skipped, failed, empty), removing any chunks it had.
  @discardableResult
  public func recordDocument(_ record: DocumentRecord) throws -> DocumentRecord {
    precondition(record.status != .indexed, "indexed documents are written with replaceDocument")
    return try replaceDocument(path: record.path) { _ in record }
  }

  /// Updates size and modification time of a document whose content hash did not change,
  /// so the next run can skip it without hashing.
  public func touchDocument(path: String, size: Int, modificationTime: Int64) throws {
    try write { db in
      try db.execute(
        sql: "UPDATE documents SET size = ?, mtime_ns = ?, updated_at = julianday('now') WHERE path = ?",
        arguments: [size, modificationTime, path])
    }
  }

  /// Removes documents (and, by cascade, their chunks and FTS rows).
  public func removeDocuments(paths: [String]) throws {
    guard !paths.isEmpty else { return }
    try write { db in
      for path in paths {
        try db.execute(sql: "DELETE FROM documents WHERE path = ?", arguments: [path])
      }
    }
  }

  /// The chunks of a document in order.
  public func chunks(of documentID: DocumentID) throws -> [StoredChunk] {
    try read { db in
      try Row.fetchAll(
        db, sql: "\(Self.chunkSelect) WHERE c.document_id = ? ORDER BY c.ordinal", arguments: [documentID.rawValue]
      ).map(StoredChunk.init(row:))
    }
  }

  /// Chunks by id, in the order of `ids` (ids not found are left out).
  public func chunks(ids: [ChunkID]) throws -> [StoredChunk] {
    guard !ids.isEmpty else { return [] }
    let found = try read { db in
      try Row.fetchAll(
        db, sql: "\(Self.chunkSelect) WHERE c.id IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
        arguments: StatementArguments(ids.map(\.rawValue))
      ).map(StoredChunk.init(row:))
    }
    let byID = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    return ids.compactMap { byID[$0] }
  }

  /// Totals over all documents and chunks.
  public func totals() throws -> IndexTotals {
    try read { db in
      let row = try Row.fetchOne(
        db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(chunk_count), 0) AS c, COALESCE(SUM(token_count), 0) AS t, COALESCE(SUM(size), 0) AS b FROM documents")
      var byStatus: [DocumentStatus: Int] = [:]
      for status in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM documents GROUP BY status") {
        if let s = DocumentStatus(rawValue: status["status"]) { byStatus[s] = status["n"] }
      }
      return IndexTotals(
        documents: row?["n"] ?? 0, chunks: row?["c"] ?? 0, tokens: row?["t"] ?? 0, bytes: row?["b"] ?? 0,
        byStatus: byStatus)
    }
  }

  static let chunkSelect = """
    SELECT c.id, c.document_id, c.ordinal, c.first_line, c.last_line, c.page, c.byte_start, c.byte_end,
           c.section, c.token_count, c.text, c.header, d.path
    FROM chunks c JOIN documents d ON d.id = c.document_id
    """

  static func update(_ record: DocumentRecord, in db: Database) throws {
    try db.execute(
      sql: """
        UPDATE documents SET kind = ?, sha256 = ?, size = ?, mtime_ns = ?, status = ?, reason = ?,
          chunk_count = ?, token_count = ?, updated_at = julianday('now') WHERE path = ?
        """,
      arguments: [
        record.kind?.rawValue, record.sha256, record.size, record.modificationTime, record.status.rawValue,
        record.reason, record.chunkCount, record.tokenCount, record.path,
      ])
  }
}

/// Inserts the chunks of one document inside `IndexStore.replaceDocument`'s transaction.
public struct DocumentWriter {
  let db: Database
  /// The document being written.
  public let documentID: DocumentID
  /// Chunks inserted so far.
  public private(set) var chunkCount = 0
  /// Tokens of the chunks inserted so far.
  public private(set) var tokenCount = 0
  /// Chunks inserted so far that kept the vector of an identical chunk the document had.
  public private(set) var keptVectorCount = 0

  /// What a chunk's vector was made from (under one set of `Chunk.embeddingRules`).
  struct Content: Hashable {
    var text: String
    var header: String?
  }

  /// Vectors of the document's previous chunks by their content.
  private let keptVectors: [Content: Data]

  init(db: Database, documentID: DocumentID, keptVectors: [Content: Data] = [:]) {
    self.db = db
    self.documentID = documentID
    self.keptVectors = keptVectors
  }

  /// Inserts one chunk (and its FTS row, through the table's trigger), with the kept vector of
  /// an identical previous chunk when there is one.
  @discardableResult
  public mutating func insert(_ chunk: Chunk) throws -> ChunkID {
    let statement = try db.cachedStatement(sql: """
      INSERT INTO chunks(document_id, ordinal, first_line, last_line, page, byte_start, byte_end, section, token_count, text,
                         header, search_terms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """)
    let terms = SearchTerms.numbers(in: chunk.text)
    try statement.execute(arguments: [
      documentID.rawValue, chunk.ordinal, chunk.span.firstLine, chunk.span.lastLine, chunk.span.page,
      chunk.span.byteRange.lowerBound, chunk.span.byteRange.upperBound, chunk.section, chunk.tokenCount, chunk.text,
      chunk.header, terms.isEmpty ? nil : terms.joined(separator: " "),
    ])
    chunkCount += 1
    tokenCount += chunk.tokenCount
    let id = ChunkID(db.lastInsertedRowID)
    if let vector = keptVectors[Content(text: chunk.text, header: chunk.header)] {
      try db.execute(sql: "INSERT INTO vectors(chunk_id, vector) VALUES (?, ?)", arguments: [id.rawValue, vector])
      keptVectorCount += 1
    }
    return id
  }
}

extension DocumentRecord {
  init(row: Row) {
    self.init(
      id: DocumentID(row["id"]), path: row["path"], kind: (row["kind"] as String?).flatMap(DocumentKind.init(rawValue:)),
      sha256: row["sha256"], size: row["size"], modificationTime: row["mtime_ns"],
      status: DocumentStatus(rawValue: row["status"]) ?? .failed, reason: row["reason"],
      chunkCount: row["chunk_count"], tokenCount: row["token_count"])
  }
}

extension StoredChunk {
  init(row: Row) {
    let span = SourceSpan(
      path: row["path"], firstLine: row["first_line"], lastLine: row["last_line"], page: row["page"],
      byteRange: (row["byte_start"] as Int)..<(row["byte_end"] as Int))
    self.init(
      id: ChunkID(row["id"]), documentID: DocumentID(row["document_id"]),
      chunk: Chunk(
        ordinal: row["ordinal"], text: row["text"], span: span, tokenCount: row["token_count"], section: row["section"],
        header: row["header"]))
  }
}
