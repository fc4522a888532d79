import Foundation
import Testing
import TomeCore
import TomeKit
import TomeTestSupport

@Suite struct CollectionSyncTests {
  let models = ModelDirectory(url: SharedData.models)

  func essays(_ names: [String], in dir: TemporaryDirectory) throws -> URL {
    let docs = dir.url.appendingPathComponent("docs")
    try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
    for name in names {
      try FileManager.default.copyItem(at: SharedData.data("paul_graham_essays/essays/\(name)"), to: docs.appendingPathComponent(name))
    }
    return docs
  }

  @Test("sync ingests then embeds every chunk, reporting both phases in order; a re-sync does nothing; a new file is chunked and embedded alone")
  func ingestThenEmbed() throws {
    let dir = try TemporaryDirectory()
    let docs = try essays(["aord.txt"], in: dir)
    let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("ix")), create: true)
    let encoder = try models.loadEncoder()
    var phases: [String] = []
    let first = try collection.sync(paths: [docs], encoder: encoder) { event in
      switch event {
      case .ingest: if phases.last != "ingest" { phases.append("ingest") }
      case .embed: if phases.last != "embed" { phases.append("embed") }
      }
    }
    #expect(phases == ["ingest", "embed"])
    #expect(first.ingest.indexed.count == 1 && first.ingest.chunks > 3)
    #expect(first.embedding?.embedded == first.ingest.chunks)
    let vectors = try collection.vectors()
    #expect(vectors.count == first.ingest.chunks && vectors.pending == 0 && vectors.encoder == encoder.embedder.identifier)

    let again = try collection.sync(paths: [docs], encoder: encoder)
    #expect(again.ingest.unchanged == 1 && again.ingest.chunks == 0 && again.embedding?.embedded == 0)

    try FileManager.default.copyItem(
      at: SharedData.data("paul_graham_essays/essays/gap.txt"), to: docs.appendingPathComponent("gap.txt"))
    let grown = try collection.sync(paths: [], encoder: encoder)  // no paths: the roots of earlier runs
    #expect(grown.ingest.indexed == [docs.appendingPathComponent("gap.txt").standardizedFileURL.path])
    #expect(grown.embedding?.embedded == grown.ingest.chunks && grown.ingest.chunks > 0)
    #expect(try collection.vectors().count == first.ingest.chunks + grown.ingest.chunks)
  }

  @Test("without an encoder: chunks only, no vectors, and hybrid search falls back to BM25 while dense is refused")
  func withoutEncoder() throws {
    let dir = try TemporaryDirectory()
    let docs = try essays(["superangels.txt"], in: dir)
    let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("ix")), create: true)
    let synced = try collection.sync(paths: [docs], encoder: nil)
    #expect(synced.embedding == nil && synced.ingest.chunks > 0)
    let vectors = try collection.vectors()
    #expect(vectors.count == 0 && vectors.pending == synced.ingest.chunks && vectors.encoder == nil)

    let hybrid = try HybridRetriever.open(collection: collection, mode: .hybrid, models: models).search("super-angels", k: 3, mode: .hybrid)
    #expect(hybrid.fellBackToBM25 && !hybrid.results.isEmpty)
    #expect(throws: RetrievalError.self) {
      try HybridRetriever.open(collection: collection, mode: .dense, models: models).search("super-angels", k: 3, mode: .dense)
    }
  }

  @Test("a missing path is an error naming it as given")
  func missingPath() throws {
    let dir = try TemporaryDirectory()
    let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("ix")), create: true)
    let error = #expect(throws: IngestPipelineError.self) {
      try collection.sync(paths: [URL(fileURLWithPath: "nowhere", relativeTo: dir.url)], encoder: nil)
    }
    #expect(error?.description.hasPrefix("nowhere: no such file or directory") == true, "\(String(describing: error))")
  }
}
