public import TomeCore
import TomeStore

/// Gives every chunk of an index a vector from `embedder`, in batches, resumably.
///
/// Runs after chunking: chunks without a vector are picked up in id order, so a killed run
/// loses at most one batch and the next run carries on. When the index holds vectors of a
/// different encoder (identifier or dimension), they are all removed first: vectors of two
/// encoders never mix.
public struct EmbeddingPipeline: Sendable {
  public let collection: Collection
  public let embedder: any TextEmbedder
  /// Chunks per encoder call; larger batches feed sgemm better, smaller ones report sooner.
  public var batchSize: Int

  public init(collection: Collection, embedder: any TextEmbedder, batchSize: Int = 32) {
    precondition(batchSize > 0, "batch size must be positive")
    self.collection = collection
    self.embedder = embedder
    self.batchSize = batchSize
  }

  /// Embeds every chunk that has no vector.
  /// - Parameter progress: called after each batch.
  /// - Returns: counts and timing.
  public func run(progress: (EmbeddingProgress) -> Void = { _ in }) throws -> EmbeddingReport {
    let store = collection.store
    let started = ContinuousClock.now
    var report = EmbeddingReport()
    if try store.meta(.encoder) != embedder.identifier || store.meta(.encoderDimension) != "\(embedder.dimension)" {
      if try store.meta(.encoder) != nil { report.reset = true }
      try store.removeAllVectors()
      try store.setMeta(.encoder, embedder.identifier)
      try store.setMeta(.encoderDimension, "\(embedder.dimension)")
    }
    var state = EmbeddingProgress(total: try store.pendingVectorCount(), started: started)
    while true {
      let batch = try store.chunksWithoutVectors(limit: batchSize)
      if batch.isEmpty { break }
      let vectors = try embedder.embed(passages: batch.map(\.chunk.text))
      try store.insertVectors(ids: batch.map(\.id), vectors: vectors, encoding: .float16)
      state.done += batch.count
      state.tokens += batch.reduce(0) { $0 + $1.chunk.tokenCount }
      progress(state)
    }
    report.embedded = state.done
    report.tokens = state.tokens
    report.elapsed = ContinuousClock.now - started
    return report
  }
}

/// Live counters for the embedding phase.
public struct EmbeddingProgress: Sendable {
  public var done = 0
  public var total: Int
  public var tokens = 0
  public var started: ContinuousClock.Instant

  /// Chunks per second so far.
  public var chunksPerSecond: Double {
    let s = (ContinuousClock.now - started).seconds
    return s > 0 ? Double(done) / s : 0
  }
}

/// What an embedding run did.
public struct EmbeddingReport: Sendable {
  public var embedded = 0
  public var tokens = 0
  /// True when vectors of an earlier encoder were dropped.
  public var reset = false
  public var elapsed: Duration = .zero
}
