import Foundation
import Testing
import TomeCore
import TomeStore
import TomeTestSupport

/// The record graph's tables (migration "v7 records"): records, their edges to chunks, and the
/// trigger that marks a record stale when a chunk it links to is deleted.
@Suite struct RecordStoreTests {
  func chunk(_ ordinal: Int, _ text: String, path: String) -> Chunk {
    Chunk(
      ordinal: ordinal, text: text,
      span: SourceSpan(path: path, firstLine: ordinal + 1, lastLine: ordinal + 1, byteRange: 0..<text.utf8.count),
      tokenCount: text.split(separator: " ").count)
  }

  /// Writes `path` with one chunk per text; returns the chunk ids in order.
  @discardableResult
  func document(_ store: IndexStore, _ path: String, _ texts: [String]) throws -> [ChunkID] {
    let record = try store.replaceDocument(path: path) { writer in
      for (i, text) in texts.enumerated() { try writer.insert(chunk(i, text, path: path)) }
      return DocumentRecord(
        path: path, kind: .text, sha256: "ab", size: 10, modificationTime: 1, status: .indexed, chunkCount: writer.chunkCount,
        tokenCount: writer.tokenCount)
    }
    return try store.chunks(of: try #require(record.id)).map(\.id)
  }

  @discardableResult
  func save(
    _ store: IndexStore, _ question: String, strategy: String = "rag", origin: String = "ask", cited: [ChunkID] = [],
    shown: [ChunkID], vector: [Float] = [0.6, 0.8, 0]
  ) throws -> RecordID {
    try store.insertRecord(
      question: question, answer: "answer to \(question)", strategy: strategy, model: "m", origin: origin, cited: cited,
      shown: shown, vector: vector)
  }

  /// Runs SQL on the database file through the sqlite3 shell (a second connection, as another
  /// process would).
  func sqlite(_ store: IndexStore, _ sql: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = [store.databaseURL.path, sql]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let out = pipe.fileHandleForReading.readAll()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "sqlite3 failed on \(sql)")
    return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  @Test("an index from before records (schema 6) migrates to 7: the tables and the trigger appear, nothing else changes")
  func migration() throws {
    let dir = try TemporaryDirectory()
    let chunks: [ChunkID]
    do {
      let store = try IndexStore(directory: dir.url, create: true)
      chunks = try document(store, "/d/a.txt", ["alpha beta", "gamma delta"])
      // Take the database back to schema 6, as a Tome from before records left it.
      _ = try sqlite(store, """
        DROP TRIGGER records_stale_ad; DROP TABLE record_chunks; DROP TABLE records; DROP TABLE kv_pages;
        DELETE FROM grdb_migrations WHERE identifier IN ('v7 records', 'v8 kv pages');
        UPDATE meta SET value = '6' WHERE key = 'schema_version';
        """)
      #expect(try sqlite(store, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('records', 'record_chunks')") == "0")
    }
    let store = try IndexStore(directory: dir.url, create: false)
    #expect(try store.meta(.schemaVersion) == "8")
    #expect(try store.recordCount() == 0)
    #expect(try store.chunks(ids: chunks).map(\.chunk.text) == ["alpha beta", "gamma delta"])
    let id = try save(store, "q", shown: chunks)
    #expect(try store.record(id)?.shown == chunks)
    #expect(
      try sqlite(store, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name = 'records_stale_ad'") == "records_stale_ad")
  }

  @Test("the origin column takes only the known origins")
  func originCheck() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    let chunks = try document(store, "/d/a.txt", ["alpha"])
    for origin in StoredRecord.origins.sorted() { try save(store, "q \(origin)", origin: origin, shown: chunks) }
    #expect(throws: StoreError.self) { try save(store, "q", origin: "telepathy", shown: chunks) }
    #expect(try store.recordCount() == StoredRecord.origins.count)
  }

  @Test("a record round-trips: text, model, origin, time, vector (f16) and edges in order with cited ones marked")
  func roundTrip() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    let chunks = try document(store, "/d/a.txt", ["one", "two", "three", "four"])
    let before = Date()
    let id = try store.insertRecord(
      question: "who?", answer: "Kant [1].", strategy: "auto→coc", model: "SmolLM2", origin: "chat",
      cited: [chunks[2], chunks[0]], shown: [chunks[2], chunks[0], chunks[3]], vector: [0.6, -0.8, 0.0, 0.001])
    let record = try #require(try store.record(id))
    #expect(record.id == id)
    #expect(record.question == "who?" && record.answer == "Kant [1]." && record.strategy == "auto→coc")
    #expect(record.model == "SmolLM2" && record.origin == "chat" && !record.stale)
    #expect(abs(record.created.timeIntervalSince(before)) < 5)
    #expect(record.shown == [chunks[2], chunks[0], chunks[3]])
    #expect(record.cited == [chunks[2], chunks[0]])
    #expect(record.vector.count == 4)
    #expect(zip(record.vector, [0.6, -0.8, 0.0, 0.001] as [Float]).allSatisfy { abs($0 - $1) < 1e-3 })
    // A cited chunk the caller left out of `shown` still becomes an edge.
    let extra = try save(store, "q2", cited: [chunks[1]], shown: [chunks[3]])
    #expect(try store.record(extra)?.shown == [chunks[3], chunks[1]])
    #expect(try store.record(extra)?.cited == [chunks[1]])
    #expect(try store.record(RecordID(999)) == nil)
  }

  @Test("listing: newest first, filtered by strategy, origin and staleness, limited")
  func listing() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    let a = try document(store, "/d/a.txt", ["alpha"])
    let b = try document(store, "/d/b.txt", ["beta"])
    let first = try save(store, "first", strategy: "rag", origin: "ask", shown: a)
    let second = try save(store, "second", strategy: "coc", origin: "batch", shown: b)
    let third = try save(store, "third", strategy: "rag", origin: "chat", shown: a + b)
    #expect(try store.records().map(\.id) == [third, second, first])
    #expect(try store.records(limit: 2).map(\.id) == [third, second])
    #expect(try store.records(RecordFilter(strategy: "rag")).map(\.id) == [third, first])
    #expect(try store.records(RecordFilter(origin: "batch")).map(\.id) == [second])
    #expect(try store.records(RecordFilter(strategy: "rag", origin: "ask")).map(\.id) == [first])
    #expect(try store.records(RecordFilter(stale: true)).isEmpty)
    #expect(try store.recordCount(RecordFilter(strategy: "rag")) == 2)
    try store.removeDocuments(paths: ["/d/b.txt"])
    #expect(try store.records(RecordFilter(stale: true)).map(\.id) == [third, second])
    #expect(try store.records(RecordFilter(stale: false)).map(\.id) == [first])
  }

  @Test("records linked to documents: non-stale, touching a chunk of one of them, oldest first")
  func linked() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    let a = try document(store, "/d/a.txt", ["alpha", "alpha two"])
    let b = try document(store, "/d/b.txt", ["beta"])
    let c = try document(store, "/d/c.txt", ["gamma"])
    let onA = try save(store, "on a", shown: [a[1]])
    let onB = try save(store, "on b", cited: b, shown: b)
    let onAC = try save(store, "on a and c", shown: [c[0], a[0]])
    let docs = Dictionary(uniqueKeysWithValues: try store.documents().map { ($0.path, try #require($0.id)) })
    let idA = try #require(docs["/d/a.txt"])
    let idB = try #require(docs["/d/b.txt"])
    let idC = try #require(docs["/d/c.txt"])
    #expect(try store.records(linkedTo: [idA]).map(\.id) == [onA, onAC])
    #expect(try store.records(linkedTo: [idB]).map(\.id) == [onB])
    #expect(try store.records(linkedTo: [idB, idC]).map(\.id) == [onB, onAC])
    #expect(try store.records(linkedTo: []).isEmpty)
    #expect(try store.records(linkedTo: nil).map(\.id) == [onA, onB, onAC])
    // Changing c makes the record on a and c stale: it leaves every listing of linked records.
    try document(store, "/d/c.txt", ["gamma changed"])
    #expect(try store.records(linkedTo: [idA]).map(\.id) == [onA])
    #expect(try store.records(linkedTo: nil).map(\.id) == [onA, onB])
  }

  @Test("deleting a chunk marks every record linked to it stale, and only those")
  func staleOnChunkDelete() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    let a = try document(store, "/d/a.txt", ["one", "two", "three"])
    let linked = try save(store, "linked", shown: [a[0], a[1]])
    let cited = try save(store, "cited", cited: [a[1]], shown: [a[1]])
    let other = try save(store, "other", shown: [a[2]])
    _ = try sqlite(store, "DELETE FROM chunks WHERE id = \(a[1].rawValue)")
    #expect(try store.record(linked)?.stale == true)
    #expect(try store.record(cited)?.stale == true)
    #expect(try store.record(other)?.stale == false)
    // The edges stay: a stale record still says which chunks it was written from.
    #expect(try store.record(linked)?.shown == [a[0], a[1]])
  }

  @Test("re-ingesting a changed document (delete by path, chunks by cascade) marks its records stale; removing one too")
  func staleOnReingest() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    let a = try document(store, "/d/a.txt", ["alpha"])
    let b = try document(store, "/d/b.txt", ["beta"])
    let c = try document(store, "/d/c.txt", ["gamma"])
    let onA = try save(store, "a", shown: a)
    let onB = try save(store, "b", shown: b)
    let onC = try save(store, "c", shown: c)
    try document(store, "/d/a.txt", ["alpha, changed"])  // replaceDocument: DELETE FROM documents WHERE path = ?
    #expect(try store.record(onA)?.stale == true)
    #expect(try store.record(onB)?.stale == false)
    try store.removeDocuments(paths: ["/d/b.txt"])
    #expect(try store.record(onB)?.stale == true)
    #expect(try store.record(onC)?.stale == false)
    #expect(try store.recordCount(RecordFilter(stale: true)) == 2)
  }

  @Test("prune: by staleness, strategy and age; edges go with their records; the count is returned")
  func prune() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    let a = try document(store, "/d/a.txt", ["alpha"])
    let b = try document(store, "/d/b.txt", ["beta"])
    let staleOne = try save(store, "stale", shown: a)
    let coc = try save(store, "coc", strategy: "coc", shown: b)
    let rag = try save(store, "rag", shown: b)
    try document(store, "/d/a.txt", ["alpha, changed"])
    #expect(try store.pruneRecords(RecordFilter(stale: true)) == 1)
    #expect(try store.record(staleOne) == nil)
    #expect(try sqlite(store, "SELECT COUNT(*) FROM record_chunks WHERE record_id = \(staleOne.rawValue)") == "0")
    #expect(try store.pruneRecords(RecordFilter(strategy: "coc")) == 1)
    #expect(try store.record(coc) == nil)
    #expect(try store.pruneRecords(RecordFilter(createdBefore: Date().addingTimeInterval(-3600))) == 0)
    #expect(try store.record(rag) != nil)
    #expect(try store.pruneRecords(RecordFilter(createdBefore: Date().addingTimeInterval(60))) == 1)
    #expect(try store.recordCount() == 0)
    #expect(RecordFilter().isEmpty && !RecordFilter(stale: true).isEmpty)
  }
}
