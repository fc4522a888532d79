import Foundation
import Synchronization
import Testing
import TomeCore
import TomeStore
import TomeTestSupport

@Suite struct IndexStoreTests {
  struct Boom: Error {}

  func chunk(_ ordinal: Int, _ text: String, path: String = "/d/a.txt") -> Chunk {
    Chunk(
      ordinal: ordinal, text: text,
      span: SourceSpan(path: path, firstLine: ordinal + 1, lastLine: ordinal + 1, byteRange: 0..<text.utf8.count),
      tokenCount: text.split(separator: " ").count)
  }

  func indexed(_ path: String, chunks: Int, tokens: Int) -> DocumentRecord {
    DocumentRecord(path: path, kind: .text, sha256: "ab", size: 10, modificationTime: 1, status: .indexed, chunkCount: chunks, tokenCount: tokens)
  }

  @Test("a new index records its schema version; reopening runs no migration twice")
  func reopen() throws {
    let dir = try TemporaryDirectory()
    do {
      let store = try IndexStore(directory: dir.url, create: true)
      #expect(try store.meta(.schemaVersion) == "8")
      try store.setMeta(.tokenCounter, "heuristic-v1")
    }
    let again = try IndexStore(directory: dir.url, create: false)
    #expect(try again.meta(.schemaVersion) == "8")
    #expect(try again.meta(.tokenCounter) == "heuristic-v1")
  }

  @Test("processes that open a new index at the same moment all succeed, and migrate it once")
  func concurrentFirstOpen() throws {
    // `tome search` started while `tome ingest` creates the index: both migrate the new file.
    // GRDB reads which migrations are applied before its write transaction, so the slower one
    // used to fail on "table already exists" (a kill -9 test in CI lost its ingest this way).
    for _ in 0..<12 {
      let dir = try TemporaryDirectory()
      let failures = Mutex<[String]>([])
      DispatchQueue.concurrentPerform(iterations: 4) { _ in
        do { _ = try IndexStore(directory: dir.url, create: true) } catch { failures.withLock { $0.append(String(reflecting: error)) } }
      }
      #expect(failures.withLock { $0 } == [])
      #expect(try IndexStore(directory: dir.url, create: false).meta(.schemaVersion) == "8")
    }
  }

  @Test("opening a missing index without create says how to make one")
  func missing() throws {
    let dir = try TemporaryDirectory()
    let error = #expect(throws: StoreError.self) { try IndexStore(directory: dir.url.appendingPathComponent("nope"), create: false) }
    #expect(error?.description.contains("tome ingest") == true)
  }

  @Test("a file that is not SQLite is reported as not an index")
  func notAnIndex() throws {
    let dir = try TemporaryDirectory()
    try dir.write("tome.sqlite", String(repeating: "garbage ", count: 1000))
    let error = #expect(throws: StoreError.self) { try IndexStore(directory: dir.url, create: false) }
    #expect(error?.description.contains("tome.sqlite") == true)
  }

  @Test("replaceDocument stores chunks and FTS rows in one transaction")
  func replace() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    let record = try store.replaceDocument(path: "/d/a.txt") { writer in
      try writer.insert(chunk(0, "the quick brown fox"))
      try writer.insert(chunk(1, "jumps over the lazy dog"))
      return indexed("/d/a.txt", chunks: writer.chunkCount, tokens: writer.tokenCount)
    }
    let id = try #require(record.id)
    #expect(try store.chunks(of: id).map(\.chunk.text) == ["the quick brown fox", "jumps over the lazy dog"])
    let hits = try store.searchText("lazy dogs", limit: 5)
    #expect(hits.map(\.chunk.chunk.ordinal) == [1])
    #expect(hits.first?.excerpt.contains("\u{2}lazy\u{3}") == true)
    let totals = try store.totals()
    #expect(totals.documents == 1 && totals.chunks == 2 && totals.tokens == 9)
  }

  @Test("a failure inside replaceDocument keeps the previous version whole")
  func rollback() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    _ = try store.replaceDocument(path: "/d/a.txt") { writer in
      try writer.insert(chunk(0, "original text"))
      return indexed("/d/a.txt", chunks: 1, tokens: 2)
    }
    #expect(throws: Boom.self) {
      try store.replaceDocument(path: "/d/a.txt") { writer in
        try writer.insert(chunk(0, "half written replacement"))
        throw Boom()
      }
    }
    #expect(try store.searchText("replacement", limit: 5).isEmpty)
    #expect(try store.searchText("original", limit: 5).count == 1)
    #expect(try store.document(path: "/d/a.txt")?.status == .indexed)
  }

  @Test("removing a document removes its chunks from search")
  func remove() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    _ = try store.replaceDocument(path: "/d/a.txt") { writer in
      try writer.insert(chunk(0, "ephemeral words"))
      return indexed("/d/a.txt", chunks: 1, tokens: 2)
    }
    try store.removeDocuments(paths: ["/d/a.txt"])
    #expect(try store.searchText("ephemeral", limit: 5).isEmpty)
    #expect(try store.totals().chunks == 0)
  }

  @Test(
    "user text never reaches FTS5 as syntax",
    arguments: ["\"unbalanced", "NEAR(a b", "a AND OR NOT", "col:value", "-minus *star ^caret", "''", "((((", "💥 ünïcödé", "", "   "])
  func escaping(query: String) throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    _ = try store.replaceDocument(path: "/d/a.txt") { writer in
      try writer.insert(chunk(0, "value near star caret unicode"))
      return indexed("/d/a.txt", chunks: 1, tokens: 5)
    }
    _ = try store.searchText(query, limit: 5)
  }

  @Test("recordDocument keeps skipped files with their reason")
  func skipped() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    try store.recordDocument(
      DocumentRecord(path: "/d/x.bin", kind: nil, sha256: "", size: 3, modificationTime: 2, status: .skipped, reason: "binary file"))
    let doc = try #require(try store.document(path: "/d/x.bin"))
    #expect(doc.status == .skipped && doc.reason == "binary file")
    #expect(try store.totals().byStatus[.skipped] == 1)
  }

  @Test("vectors round-trip in f16 and f32, follow their chunks, and list what is missing")
  func vectors() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    let record = try store.replaceDocument(path: "/d/a.txt") { writer in
      try writer.insert(chunk(0, "one"))
      try writer.insert(chunk(1, "two"))
      return indexed("/d/a.txt", chunks: 2, tokens: 2)
    }
    let ids = try store.chunks(of: #require(record.id)).map(\.id)
    #expect(try store.pendingVectorCount() == 2)
    try store.insertVectors(ids: [ids[0]], vectors: EmbeddingMatrix(dimension: 3, values: [0.6, 0.8, 0]), encoding: .float32)
    try store.insertVectors(ids: [ids[1]], vectors: EmbeddingMatrix(dimension: 3, values: [0, 0.6, -0.8]), encoding: .float16)
    #expect(try store.chunksWithoutVectors(limit: 10).isEmpty)
    let all = try store.allVectors(dimension: 3)
    #expect(all.ids == ids)
    #expect(Array(all.matrix[row: 0]) == [0.6, 0.8, 0])
    #expect(all.matrix[row: 1].enumerated().allSatisfy { abs($0.element - [0, 0.6, -0.8][$0.offset]) < 1e-3 })
    try store.removeDocuments(paths: ["/d/a.txt"])
    #expect(try store.allVectors(dimension: 3).ids.isEmpty)
  }
}
