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
