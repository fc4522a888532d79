public import Foundation
package import TomeStore

extension Collection {
  /// Brings the collection in line with the files under `paths` and embeds what is new: the
  /// ingest-then-embed sequence of `tome ingest`, in one call.
  ///
  /// Chunking and embedding stay two resumable phases (`IngestPipeline`, then
  /// `EmbeddingPipeline`): each file commits on its own and chunks without a vector are
  /// picked up by the next run, so a sync killed anywhere is finished by running it again.
  /// With an encoder, chunks are sized in its own tokens; without one (`--no-embed`) they are
  /// sized by an estimate and the collection is searchable by BM25 only.
  ///
  /// - Parameters:
  ///   - paths: files or folders; empty re-syncs the paths of earlier runs.
  ///   - configuration: chunking, include/exclude rules, `force`.
  ///   - encoder: the sentence encoder, or nil to skip embedding.
  ///   - progress: called after each file, then after each embedded batch.
  /// - Returns: what each phase did (`embedding` is nil without an encoder).
  /// - Throws: `IngestPipelineError` when a path does not exist; store and encoder errors.
  ///   Problems with single files are reported in the result, not thrown.
  @discardableResult
  public func sync(
    paths: [URL], configuration: IngestPipeline.Configuration = .init(), encoder: SentenceEncoder?,
    progress: (SyncProgress) -> Void = { _ in }
  ) throws -> SyncReport {
    try sync(paths: paths, configuration: configuration, encoder: encoder, cache: nil, progress: progress)
  }

  /// `sync` with a vector cache shared across collections (vectors by chunk text, for
  /// benchmarks that build many indexes of overlapping text).
  @discardableResult
  package func sync(
    paths: [URL], configuration: IngestPipeline.Configuration = .init(), encoder: SentenceEncoder?, cache: VectorCache?,
    progress: (SyncProgress) -> Void = { _ in }
  ) throws -> SyncReport {
    let pipeline = IngestPipeline(
      collection: self, configuration: configuration, tokenCounter: encoder?.tokenCounter ?? IngestPipeline.estimatingTokenCounter)
    let ingest = try pipeline.run(roots: paths) { progress(.ingest($0)) }
    guard let encoder else { return SyncReport(ingest: ingest, embedding: nil) }
    let embedding = try EmbeddingPipeline(collection: self, embedder: encoder.embedder, cache: cache).run { progress(.embed($0)) }
    return SyncReport(ingest: ingest, embedding: embedding)
  }
}

/// Where a `Collection.sync` stands.
public enum SyncProgress: Sendable {
  /// After each file of the ingest phase.
  case ingest(IngestProgress)
  /// After each batch of the embedding phase.
  case embed(EmbeddingProgress)
}

/// What a `Collection.sync` did.
public struct SyncReport: Sendable {
  public var ingest: IngestReport
  /// Nil when the sync ran without an encoder.
  public var embedding: EmbeddingReport?
}
