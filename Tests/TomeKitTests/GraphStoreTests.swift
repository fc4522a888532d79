import Foundation
import Testing
import TomeCore
import TomeIndex
import TomeIngest
import TomeKit
import TomeStore
import TomeTestSupport

/// The graph file's life beside a real SQLite index: built, verified, caught up after an ingest,
/// rebuilt when bad. Chunks come from a real ingest of text files; their vectors are seeded
/// random unit vectors stored through the normal vector API (the encoder is not what is tested).
@Suite struct GraphStoreTests {
  static let d = 24

  /// An index of `files` small documents, every chunk with a vector.
  func makeIndex(_ dir: TemporaryDirectory, files: Range<Int>, seed: UInt64) throws -> Collection {
    for i in files {
      let text = (0..<12).map { "Document \(i) paragraph \($0) says something about topic \((i * 7 + $0) % 23)." }.joined(separator: "\n\n")
      _ = try dir.write("docs/doc\(i).txt", text)
    }
    let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("index")), create: true)
    _ = try IngestPipeline(collection: collection, configuration: .init(chunker: try .init(maxTokens: 24, overlapTokens: 0)))
      .run(roots: [dir.url.appendingPathComponent("docs")])
    try collection.store.setMeta(.encoder, "test-random")
    try collection.store.setMeta(.encoderDimension, "\(Self.d)")
    try embedPending(collection, seed: seed)
    return collection
  }

  func embedPending(_ collection: Collection, seed: UInt64) throws {
    var rng = SeededGenerator(seed: seed)
    let pending = try collection.store.chunksWithoutVectors(limit: 100_000)
    var matrix = EmbeddingMatrix(dimension: Self.d)
    for _ in pending {
      var v = (0..<Self.d).map { _ in Float.random(in: -1...1, using: &rng) }
      let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
      for i in v.indices { v[i] /= norm }
      matrix.append(row: v)
    }
    try collection.store.insertVectors(ids: pending.map(\.id), vectors: matrix, encoding: .float16)
  }

  func graphs(_ collection: Collection) throws -> GraphStore {
    try GraphStore(collection: collection, parameters: .init(m: 8, efConstruction: 64, efSearch: 64))
  }

  @Test("a built graph opens verified and current, and matches exact search", arguments: [GraphIndex.Kind.hnsw, .roar])
  func buildAndOpen(kind: GraphIndex.Kind) throws {
    let dir = try TemporaryDirectory()
    let collection = try makeIndex(dir, files: 0..<40, seed: 1)
    let store = try graphs(collection)
    try store.build(kind, embedder: nil)
    let loaded = try store.load(kind, embedder: nil)
    #expect(loaded.outcome == .opened)
    #expect(loaded.graph.isMapped)
    #expect(loaded.graph.invariantViolations() == [])
    let ids = try collection.store.vectorIDs().map(\.rawValue)
    #expect(Set(loaded.graph.ids) == Set(ids))
    // Every stored vector finds itself first.
    let stored = try collection.store.vectors(ids: ids.prefix(50).map(ChunkID.init), dimension: Self.d)
    for (id, v) in stored { #expect(loaded.graph.search(query: v, k: 1).first?.id == id.rawValue) }
    let status = try store.status(kind)
    #expect(status.exists && !status.stale && status.problem == nil && status.header?.liveCount == ids.count)
  }

  @Test("a corrupt, truncated or foreign graph file is rebuilt from SQLite, never trusted")
  func corruptIsRebuilt() throws {
    let dir = try TemporaryDirectory()
    let collection = try makeIndex(dir, files: 0..<30, seed: 2)
    let store = try graphs(collection)
    try store.build(.hnsw, embedder: nil)
    let file = store.url(.hnsw)
    let good = try Data(contentsOf: file)

    // A flipped byte in the link table.
    var flipped = good
    flipped[flipped.count - 4_096 * 2 + 17] ^= 0x5A
    try flipped.write(to: file)
    var loaded = try store.load(.hnsw, embedder: nil)
    guard case .rebuilt(let reason) = loaded.outcome else { Issue.record("not rebuilt: \(loaded.outcome)"); return }
    #expect(reason.contains("checksum") || reason.contains("link"))
    let vectorCount = try collection.store.vectorCount()
    #expect(loaded.graph.invariantViolations() == [] && loaded.graph.count == vectorCount)
    #expect(try store.load(.hnsw, embedder: nil).outcome == .opened)

    // Truncated (a write cut short).
    try good.prefix(good.count / 2).write(to: file)
    loaded = try store.load(.hnsw, embedder: nil)
    #expect(loaded.outcome != .opened)
    #expect(try store.status(.hnsw).problem == nil)

    // Vectors that differ from SQLite's (the vector section is not in the structure checksum;
    // the spot check against SQLite catches it).
    var zeroed = try Data(contentsOf: file)
    let header = try GraphFile.open(file).header
    // Header, then ids (8 bytes a node), levels and tombstones (1 byte each), page-aligned.
    func pages(_ bytes: Int) -> Int { (bytes + 4_095) / 4_096 * 4_096 }
    let vectorsStart = 4_096 + pages(header.nodeCount * 8) + 2 * pages(header.nodeCount)
    for i in vectorsStart..<(vectorsStart + header.nodeCount * Self.d * 2) { zeroed[i] = 0x3C }
    try zeroed.write(to: file)
    loaded = try store.load(.hnsw, embedder: nil)
    guard case .rebuilt(let why) = loaded.outcome else { Issue.record("not rebuilt: \(loaded.outcome)"); return }
    #expect(why.contains("differs from SQLite"))

    // A graph of another index (same encoder, other database).
    let otherDir = try TemporaryDirectory()
    let other = try makeIndex(otherDir, files: 0..<30, seed: 2)
    let otherStore = try graphs(other)
    try otherStore.build(.hnsw, embedder: nil)
    try FileManager.default.removeItem(at: file)
    try FileManager.default.copyItem(at: otherStore.url(.hnsw), to: file)
    guard case .rebuilt(let foreign) = try store.load(.hnsw, embedder: nil).outcome else { Issue.record("foreign graph trusted"); return }
    #expect(foreign.contains("another index"))

    // A graph linked by the rules before ties went to the newer node (no `links=` in its
    // source) is rebuilt, and says why.
    let current = try GraphFile.open(file)
    let old = current.header.source.split(separator: " ").filter { !$0.hasPrefix("links=") }.joined(separator: " ")
    try GraphFile.write(current.graph, source: old, to: file)
    #expect(try store.status(.hnsw).problem?.contains("older Tome") == true)
    guard case .rebuilt(let older) = try store.load(.hnsw, embedder: nil).outcome else { Issue.record("old links trusted"); return }
    #expect(older.contains("older Tome"))
    #expect(try store.load(.hnsw, embedder: nil).outcome == .opened)
  }

  @Test("after an ingest adds and removes documents, a stale graph is caught up to SQLite's vectors")
  func staleIsCaughtUp() throws {
    let dir = try TemporaryDirectory()
    let collection = try makeIndex(dir, files: 0..<60, seed: 3)
    let store = try graphs(collection)
    try store.build(.hnsw, embedder: nil)
    let before = try collection.store.vectorCount()
    // Re-ingest: five documents deleted, three added.
    for i in 0..<5 { try FileManager.default.removeItem(at: dir.url.appendingPathComponent("docs/doc\(i).txt")) }
    for i in 100..<103 { _ = try dir.write("docs/doc\(i).txt", "A new document \(i) about an entirely new subject.\n\nWith a second paragraph \(i).") }
    _ = try IngestPipeline(collection: collection, configuration: .init(chunker: try .init(maxTokens: 24, overlapTokens: 0)))
      .run(roots: [dir.url.appendingPathComponent("docs")])
    try embedPending(collection, seed: 4)
    let after = try collection.store.vectorIDs().map(\.rawValue)
    #expect(try store.status(.hnsw).stale)
    let loaded = try store.load(.hnsw, embedder: nil)
    guard case .caughtUp(let inserted, let removed) = loaded.outcome else { Issue.record("not caught up: \(loaded.outcome)"); return }
    #expect(inserted > 0 && removed > 0 && before - removed + inserted == after.count)
    #expect(Set(loaded.graph.ids) == Set(after))
    #expect(loaded.graph.invariantViolations() == [])
    // The caught-up graph was written: the next open is current.
    #expect(try store.load(.hnsw, embedder: nil).outcome == .opened)
    // Searching for a new chunk's vector finds it.
    let newest = try #require(after.max())
    let v = try #require(try collection.store.vectors(ids: [ChunkID(newest)], dimension: Self.d)[ChunkID(newest)])
    #expect(try store.load(.hnsw, embedder: nil).graph.search(query: v, k: 1).first?.id == newest)
  }

  @Test("the chosen kind is recorded in the index, and graph search filtered by a path prefix returns only its chunks")
  func retrieverChoosesIndex() throws {
    let dir = try TemporaryDirectory()
    let collection = try makeIndex(dir, files: 0..<20, seed: 5)
    #expect(try GraphStore.chosenKind(collection) == .exact)
    try graphs(collection).build(.hnsw, embedder: nil)
    try collection.store.setMeta(.vectorIndex, "hnsw")
    #expect(try GraphStore.chosenKind(collection) == .hnsw)
    let ids = try collection.store.vectorIDs()
    let filter = VectorFilter(allowing: try collection.store.chunkIDs(pathPrefix: dir.url.appendingPathComponent("docs/doc1").path).map(\.rawValue))
    // doc1, doc10…doc19: one prefix, eleven documents.
    #expect(filter.allowedIDs?.count ?? 0 > 0)
    let v = try #require(try collection.store.vectors(ids: [ids[0]], dimension: Self.d)[ids[0]])
    let graph = try graphs(collection).load(.hnsw, embedder: nil).graph
    let hits = graph.search(query: v, k: 5, filter: filter)
    #expect(!hits.isEmpty && hits.allSatisfy { filter.allows($0.id) })
  }
}
