import Foundation
import Testing
import TomeCore
import TomeIndex
import TomeKit
import TomeStore
import TomeTestSupport

/// `tome index build | status | drop` as a user runs them, and a build killed half way.
/// Chunks come from a real ingest; their vectors are seeded random unit vectors stored through
/// the normal vector API (graph building is what is tested, not the encoder).
@Suite struct IndexCLITests {
  static let dimension = 48

  /// An index named `graphs` of about 9,000 one-paragraph chunks, every chunk with a vector.
  func makeIndex(_ dir: TemporaryDirectory) throws -> URL {
    for file in 0..<240 {
      let text = (0..<38).map { "Note \(file)-\($0) about subject \((file * 13 + $0) % 97) and detail \($0 % 11)." }
      try dir.write("docs/n\(file).txt", text.joined(separator: "\n\n"))
    }
    let ingest = try TomeBinary.run(
      ["ingest", "docs", "--index", "graphs", "--no-embed", "--chunk-tokens", "20", "--overlap", "0", "-q"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    let folder = dir.url.appendingPathComponent("Indexes/graphs")
    let store = try IndexStore(directory: folder, create: false)
    try store.setMeta(.encoder, "test-random")
    try store.setMeta(.encoderDimension, "\(Self.dimension)")
    var generator = SeededGenerator(seed: 11)
    let pending = try store.chunksWithoutVectors(limit: 100_000)
    var matrix = EmbeddingMatrix(dimension: Self.dimension)
    for _ in pending {
      let v = (0..<Self.dimension).map { _ in Float.random(in: -1...1, using: &generator) }
      let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
      matrix.append(row: v.map { $0 / norm })
    }
    try store.insertVectors(ids: pending.map(\.id), vectors: matrix, encoding: .float16)
    return folder
  }

  func status(_ dir: TemporaryDirectory) throws -> [[String: Any]] {
    let result = try TomeBinary.run(["index", "status", "--index", "graphs", "--json"], in: dir.url)
    #expect(result.status == 0, "\(result.stderr)")
    return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
  }

  @Test("build, status and drop; a rebuild killed with -9 leaves the old graph whole, current and searchable")
  func buildKillDrop() throws {
    let dir = try TemporaryDirectory()
    let folder = try makeIndex(dir)
    let vectors = try IndexStore(directory: folder, create: false).vectorIDs().count
    #expect(vectors > 8_000)

    let started = Date()
    let built = try TomeBinary.run(["index", "build", "--kind", "hnsw", "--index", "graphs", "-q"], in: dir.url)
    let firstBuild = Date().timeIntervalSince(started)
    #expect(built.status == 0, "\(built.stderr)")
    let hnsw = try #require(try status(dir).first { $0["kind"] as? String == "hnsw" })
    #expect(hnsw["exists"] as? Bool == true && hnsw["stale"] as? Bool == false && hnsw["vectors"] as? Int == vectors)
    let file = folder.appendingPathComponent("graph-hnsw.bin")
    let before = try Data(contentsOf: file)

    // A rebuild several times the work of the first, killed after the first one's duration.
    let (child, _, _) = try TomeBinary.start(
      ["index", "build", "--kind", "hnsw", "--index", "graphs", "--m", "48", "--ef-construction", "800", "-q"], in: dir.url)
    Thread.sleep(forTimeInterval: max(0.3, firstBuild))
    let wasRunning = child.isRunning
    kill(child.processIdentifier, SIGKILL)
    child.waitUntilExit()
    #expect(wasRunning, "the rebuild finished before it could be killed; give it more work")
    #expect(try Data(contentsOf: file) == before)
    let after = try #require(try status(dir).first { $0["kind"] as? String == "hnsw" })
    #expect(after["exists"] as? Bool == true && after["stale"] as? Bool == false && after["problem"] == nil)
    let collection = try Collection(location: IndexLocation(directory: folder), create: false)
    let loaded = try GraphStore(collection: collection).load(.hnsw, embedder: nil)
    #expect(loaded.outcome == .opened)
    #expect(loaded.graph.invariantViolations() == [])
    let stored = try collection.store.vectors(ids: [ChunkID(1), ChunkID(4_000)], dimension: Self.dimension)
    for (id, v) in stored { #expect(loaded.graph.search(query: v, k: 1).first?.id == id.rawValue) }

    let dropped = try TomeBinary.run(["index", "drop", "--kind", "hnsw", "--index", "graphs", "-q"], in: dir.url)
    #expect(dropped.status == 0, "\(dropped.stderr)")
    #expect(!FileManager.default.fileExists(atPath: file.path))
    #expect(try status(dir).first { $0["kind"] as? String == "hnsw" }?["exists"] as? Bool == false)
  }
}
