public import TomeCore
import TomeIngest
package import TomeStore

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
  /// Vectors by chunk text, shared across indexes (benchmarks that index overlapping text many
  /// times); nil embeds every chunk.
  package var cache: VectorCache?

  public init(collection: Collection, embedder: any TextEmbedder, batchSize: Int = 32) {
    self.init(collection: collection, embedder: embedder, batchSize: batchSize, cache: nil)
  }

  package init(collection: Collection, embedder: any TextEmbedder, batchSize: Int = 32, cache: VectorCache?) {
    precondition(batchSize > 0, "batch size must be positive")
    self.collection = collection
    self.embedder = embedder
    self.batchSize = batchSize
    self.cache = cache
  }

  /// The cache key of a chunk text: SHA-256 of its UTF-8 bytes.
  static func digest(_ text: String) -> String {
    var hasher = SHA256()
    hasher.update(Array(text.utf8))
    return hasher.finalize()
  }

  /// Embeds every chunk that has no vector.
  /// - Parameter progress: called after each batch.
  /// - Returns: counts and timing.
  public func run(progress: (EmbeddingProgress) -> Void = { _ in }) throws -> EmbeddingReport {
    let store = collection.store
    let lock = try IndexWriterLock(directory: collection.location.directory, purpose: "tome ingest (embedding)")
    defer { withExtendedLifetime(lock) {} }
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
      let matrix = try vectors(for: batch.map(\.chunk.embeddingText), state: &state)
      try store.insertVectors(ids: batch.map(\.id), vectors: matrix, encoding: .float16)
      state.done += batch.count
      state.tokens += batch.reduce(0) { $0 + $1.chunk.tokenCount }
      progress(state)
    }
    report.embedded = state.done
    report.cached = state.cached
    report.tokens = state.tokens
    report.elapsed = ContinuousClock.now - started
    return report
  }
}

extension EmbeddingPipeline {
  /// Vectors for `texts` in order: from the cache where it has them, the rest from the encoder.
  func vectors(for texts: [String], state: inout EmbeddingProgress) throws -> EmbeddingMatrix {
    guard let cache else { return try checkFinite(embedder.embed(passages: texts)) }
    let digests = texts.map(Self.digest)
    let known = try cache.vectors(for: digests, encoder: embedder.identifier, dimension: embedder.dimension)
    let missing = texts.indices.filter { known[digests[$0]] == nil }
    var computed: [String: ArraySlice<Float>] = [:]
    if !missing.isEmpty {
      let fresh = try checkFinite(embedder.embed(passages: missing.map { texts[$0] }))
      let freshDigests = missing.map { digests[$0] }
      try cache.store(digests: freshDigests, vectors: fresh, encoder: embedder.identifier)
      for (row, digest) in freshDigests.enumerated() { computed[digest] = fresh[row: row] }
    }
    state.cached += texts.count - missing.count
    var values: [Float] = []
    values.reserveCapacity(texts.count * embedder.dimension)
    for digest in digests {
      if let v = known[digest] { values += v } else if let v = computed[digest] { values += v }
    }
    return EmbeddingMatrix(dimension: embedder.dimension, values: values)
  }
}

extension EmbeddingPipeline {
  /// `matrix` unchanged when every value is finite. A NaN vector is similar to nothing and
  /// poisons every search it takes part in, so it is never stored or cached (issue 11).
  func checkFinite(_ matrix: EmbeddingMatrix) throws -> EmbeddingMatrix {
    if let bad = matrix.values.firstIndex(where: { !$0.isFinite }) {
      throw NonFiniteVectorError(encoder: embedder.identifier, row: bad / max(1, matrix.dimension))
    }
    return matrix
  }
}

/// The encoder produced a NaN or infinite vector (damaged weights); nothing of the batch was stored.
public struct NonFiniteVectorError: Error, CustomStringConvertible, Sendable {
  public var encoder: String
  /// The row of the batch whose vector was not finite.
  public var row: Int
  public var description: String {
    "the encoder \(encoder) produced a NaN or infinite vector (batch row \(row)); its weights are damaged — fetch them again with Scripts/bootstrap.sh; no vector of this batch was stored"
  }
}

/// Live counters for the embedding phase.
public struct EmbeddingProgress: Sendable {
  public var done = 0
  public var total: Int
  /// Chunks of `done` whose vector came from the cache.
  public var cached = 0
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
  /// Chunks of `embedded` whose vector came from the cache.
  public var cached = 0
  public var tokens = 0
  /// True when vectors of an earlier encoder were dropped.
  public var reset = false
  public var elapsed: Duration = .zero
}
