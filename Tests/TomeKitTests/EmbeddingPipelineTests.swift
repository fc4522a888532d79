import Foundation
import Testing
import TomeCore
import TomeKit
import TomeStore
import TomeTestSupport

/// Wraps the real encoder under another identifier, to stand for "a different encoder".
struct RenamedEmbedder: TextEmbedder {
  let base: any TextEmbedder
  let identifier: String
  var dimension: Int { base.dimension }
  func embed(passages: [String]) throws -> EmbeddingMatrix { try base.embed(passages: passages) }
  func embed(query: String) throws -> [Float] { try base.embed(query: query) }
}

@Suite(.serialized) struct EmbeddingPipelineTests {
  let models = ModelDirectory(url: SharedData.models)

  @Test("every chunk gets a vector; a re-run embeds nothing; another encoder replaces them all")
  func embedAll() throws {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("d"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: SharedData.data("paul_graham_essays/essays/aord.txt"), to: dir.url.appendingPathComponent("d/aord.txt"))
    let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("ix")), create: true)
    let encoder = try models.loadEncoder()
    let report = try IngestPipeline(collection: collection, tokenCounter: encoder.tokenCounter).run(roots: [dir.url.appendingPathComponent("d")])
    #expect(report.chunks > 3)
    // Chunks were sized by the encoder's own tokens.
    for document in try collection.store.documents() {
      for chunk in try collection.store.chunks(of: #require(document.id)) {
        #expect(chunk.chunk.tokenCount <= 256)
        #expect(encoder.tokenCounter.tokenCount(chunk.chunk.text) == chunk.chunk.tokenCount)
      }
    }

    let first = try EmbeddingPipeline(collection: collection, embedder: encoder.embedder, batchSize: 4).run()
    #expect(first.embedded == report.chunks && !first.reset)
    #expect(try collection.store.pendingVectorCount() == 0)
    #expect(try EmbeddingPipeline(collection: collection, embedder: encoder.embedder).run().embedded == 0)

    // Stored (f16) vectors agree with fresh ones.
    let (ids, matrix) = try collection.store.allVectors(dimension: encoder.embedder.dimension)
    let stored = try collection.store.chunks(ids: [ids[0]])
    let fresh = try encoder.embedder.embed(passages: [stored[0].chunk.embeddingText])
    let cosine = zip(matrix[row: 0], fresh[row: 0]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
    #expect(cosine > 0.999)

    let other = RenamedEmbedder(base: encoder.embedder, identifier: "another-encoder")
    let swapped = try EmbeddingPipeline(collection: collection, embedder: other).run()
    #expect(swapped.reset && swapped.embedded == report.chunks)
    #expect(try collection.store.meta(.encoder) == "another-encoder")
    #expect(throws: RetrievalError.self) { try HybridRetriever(collection: collection, embedder: encoder.embedder) }
  }

  @Test("re-chunking keeps the vectors of unchanged chunks (an edited file, newer chunking rules), not across embedding rules or with --force")
  func keptVectors() throws {
    let dir = try TemporaryDirectory()
    let root = dir.url.appendingPathComponent("d")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    for name in ["aord.txt", "apple.txt"] {
      try FileManager.default.copyItem(at: SharedData.data("paul_graham_essays/essays/\(name)"), to: root.appendingPathComponent(name))
    }
    let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("ix")), create: true)
    let encoder = try models.loadEncoder()
    let pipeline = IngestPipeline(collection: collection, tokenCounter: encoder.tokenCounter)
    func embed() throws -> Int { try EmbeddingPipeline(collection: collection, embedder: encoder.embedder).run().embedded }
    /// Stored vectors by chunk text.
    func vectors() throws -> [String: [Float]] {
      let (ids, matrix) = try collection.store.allVectors(dimension: encoder.embedder.dimension)
      let chunks = try collection.store.chunks(ids: ids)
      return Dictionary(zip(chunks.map(\.chunk.text), (0..<ids.count).map { Array(matrix[row: $0]) }), uniquingKeysWith: { a, _ in a })
    }
    let first = try pipeline.run(roots: [root])
    #expect(first.vectorsKept == 0)
    #expect(try embed() == first.chunks)
    #expect(try collection.store.meta(.embeddingRules) == Chunk.embeddingRules)
    let original = try vectors()

    // An edited file is re-chunked; only the chunks that changed are embedded again, and the
    // others keep exactly the vectors they had.
    let aord = root.appendingPathComponent("aord.txt")
    let handle = try FileHandle(forWritingTo: aord)
    handle.seekToEndOfFile()
    handle.write(Data("\n\nA paragraph added later says the essay was revised.\n".utf8))
    try handle.close()
    let edited = try pipeline.run(roots: [root])
    #expect(edited.indexed.count == 1 && edited.unchanged == 1)
    #expect(edited.vectorsKept > 0 && edited.vectorsKept < edited.chunks)
    #expect(try embed() == edited.chunks - edited.vectorsKept)
    let after = try vectors()
    let kept = after.filter { original[$0.key] != nil }
    #expect(kept.count >= edited.vectorsKept && kept.allSatisfy { original[$0.key] == $0.value })
    #expect(try collection.search("revised", limit: 1).first?.chunk.text.contains("revised") == true)

    // Newer chunking rules under the same embedding rules (an index of the previous release):
    // every file is re-chunked, nothing is embedded again.
    let total = try collection.store.vectorCount()
    try collection.store.setMeta(.chunker, "max=256 overlap=32 pages=ff headers=2 tables=labels")
    try collection.store.setMeta(.embeddingRules, nil)
    let upgraded = try pipeline.run(roots: [root])
    #expect(upgraded.rechunkReason != nil && upgraded.indexed.count == 2)
    #expect(upgraded.vectorsKept == total && upgraded.chunks == total)
    #expect(try embed() == 0)

    // Vectors made under other embedding rules (before tables were embedded by their labels),
    // or a forced run: everything is embedded again.
    try collection.store.setMeta(.chunker, "max=256 overlap=32 pages=ff headers=2")
    try collection.store.setMeta(.embeddingRules, nil)
    #expect(try pipeline.run(roots: [root]).vectorsKept == 0)
    #expect(try embed() == total)
    let forced = try IngestPipeline(collection: collection, configuration: .init(force: true), tokenCounter: encoder.tokenCounter)
      .run(roots: [root])
    #expect(forced.vectorsKept == 0 && forced.indexed.count == 2)
    #expect(try embed() == total)
  }

  @Test("hybrid retrieval finds a passage by meaning and by words")
  func hybrid() throws {
    let dir = try TemporaryDirectory()
    try dir.write("d/a.txt", "The mitochondria is the powerhouse of the cell.\n\nIt produces ATP through respiration.\n")
    try dir.write("d/b.txt", "Paris is the capital and most populous city of France.\n")
    try dir.write("d/c.txt", "Quarterly revenue grew by twelve percent, driven by cloud services.\n")
    let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("ix")), create: true)
    let encoder = try models.loadEncoder()
    _ = try IngestPipeline(collection: collection, tokenCounter: encoder.tokenCounter).run(roots: [dir.url.appendingPathComponent("d")])
    _ = try EmbeddingPipeline(collection: collection, embedder: encoder.embedder).run()
    let retriever = try HybridRetriever(collection: collection, embedder: encoder.embedder)
    #expect(retriever.vectorCount == 3)
    // No shared words with b.txt beyond stop-words: dense must carry it.
    let dense = try retriever.search("Which French city is the seat of government?", k: 1, mode: .dense)
    #expect(dense.results.first?.chunk.span.path.hasSuffix("b.txt") == true)
    let hybrid = try retriever.search("how do cells make energy", k: 3, mode: .hybrid)
    #expect(hybrid.results.first?.chunk.span.path.hasSuffix("a.txt") == true)
    let bm25 = try retriever.search("revenue", k: 3, mode: .bm25)
    #expect(bm25.results.map { URL(fileURLWithPath: $0.chunk.span.path).lastPathComponent } == ["c.txt"])
  }
}
