public import Foundation
public import TomeCore
import TomeLinalg

/// How the encoder handles a passage longer than its 512 learned positions
/// (LongEmbed, Zhu et al. 2024; METHODS-INDEX-KV.md §1). Inputs of at most 512 tokens
/// (510 plus [CLS]/[SEP]) give bit-identical vectors in every mode.
public enum LongInputMode: String, Sendable, CaseIterable {
  /// Parallel Context Windows: cut the tokens (no specials) into windows of 510, the last one
  /// being the final 510 tokens; encode each with [CLS]/[SEP]; average the un-normalised window
  /// vectors, then normalise. The default for passages.
  case parallelWindows
  /// Linear interpolation of the 512-row position table to the input length, with attention
  /// logits scaled by α = max(1, ln L / ln 512). Cost grows as L², so inputs are capped at
  /// `BERTEncoder.Configuration.maximumInterpolatedTokens`.
  case positionInterpolation
  /// Keep the first 510 tokens.
  case truncate
}

/// The in-process sentence encoder: BERT (all-MiniLM-L6-v2) on OpenBLAS, mean pooling and L2
/// normalisation, as sentence-transformers computes it.
///
/// Texts are tokenised with `WordPieceTokenizer`, packed without padding into micro-batches of
/// about `Configuration.tokensPerBatch` tokens, and every linear layer runs as one `sgemm` over
/// all tokens of a micro-batch (OpenBLAS threads). Attention runs per sequence and head.
/// Forward passes are serialised process-wide (`ComputeGate`), so concurrent callers queue
/// rather than oversubscribe the two cores.
///
/// ```swift
/// let encoder = try BERTEncoder(modelDirectory: models.appendingPathComponent("all-MiniLM-L6-v2"))
/// let vectors = try encoder.embed(passages: chunks)   // EmbeddingMatrix, 384 columns
/// ```
public final class BERTEncoder: TextEmbedder {
  /// Tunables with sensible defaults.
  public struct Configuration: Sendable, Equatable {
    /// Long-input handling for `embed(passages:)`.
    public var longInputMode: LongInputMode
    /// Token budget per forward pass; larger batches make larger GEMMs.
    public var tokensPerBatch: Int
    /// Worker threads of a forward pass. With more than one, OpenBLAS is pinned to one thread
    /// for the pass and Swift workers split row pieces and attention heads (measured faster on
    /// 2 cores); with one, each `sgemm` over the whole batch uses OpenBLAS's own threads.
    public var threads: Int
    /// Longest input (tokens incl. specials) encoded by `.positionInterpolation`; longer inputs
    /// are cut to this length first.
    public var maximumInterpolatedTokens: Int

    public init(
      longInputMode: LongInputMode = .parallelWindows, tokensPerBatch: Int = 4096, threads: Int = 2,
      maximumInterpolatedTokens: Int = 8192
    ) {
      precondition(tokensPerBatch > 0 && threads > 0 && maximumInterpolatedTokens > 0, "invalid configuration")
      self.longInputMode = longInputMode
      self.tokensPerBatch = tokensPerBatch
      self.threads = threads
      self.maximumInterpolatedTokens = maximumInterpolatedTokens
    }
  }

  /// `"<model>/mean/v1"`, e.g. `all-MiniLM-L6-v2/mean/v1`.
  public let identifier: String
  /// 384 for all-MiniLM-L6-v2.
  public let dimension: Int
  /// The encoder's own tokenizer (also the chunker's `TokenCounter`).
  public let tokenizer: WordPieceTokenizer
  /// The model's hyper-parameters.
  public let modelConfiguration: BERTConfiguration
  /// The tunables this encoder was created with.
  public let configuration: Configuration
  /// Learned positions (512), including [CLS] and [SEP].
  public var maximumSequenceLength: Int { modelConfiguration.maximumPositions }

  private let weights: BERTWeights

  /// Loads a sentence-transformers BERT folder: `config.json`, `vocab.txt`, `model.safetensors`.
  ///
  /// - Parameters:
  ///   - modelDirectory: e.g. `~/.cache/tome/models/all-MiniLM-L6-v2` (`Scripts/bootstrap.sh` puts it there).
  ///   - configuration: tunables.
  /// - Throws: `EmbedError` naming the file and the cause (missing files say how to fetch them).
  public init(modelDirectory: URL, configuration: Configuration = Configuration()) throws {
    let name = modelDirectory.lastPathComponent
    let config = try BERTConfiguration.load(modelDirectory.appendingPathComponent("config.json"))
    let tokenizer = try WordPieceTokenizer(
      vocabularyURL: modelDirectory.appendingPathComponent("vocab.txt"), name: name)
    let file = try SafeTensorsFile(contentsOf: modelDirectory.appendingPathComponent("model.safetensors"))
    guard tokenizer.vocabularySize <= config.vocabularySize else {
      throw EmbedError(
        .unsupportedModel, path: modelDirectory.path,
        reason: "vocab.txt has \(tokenizer.vocabularySize) tokens, the model \(config.vocabularySize)")
    }
    self.weights = try BERTWeights(file: file, configuration: config)
    self.modelConfiguration = config
    self.tokenizer = tokenizer
    self.configuration = configuration
    self.dimension = config.hiddenSize
    self.identifier = "\(name)/mean/v1"
  }

  // MARK: TextEmbedder

  /// Embeds passages with the configured `longInputMode`; one L2-normalised row per text.
  ///
  /// Synchronous and CPU-bound: it occupies the calling thread (plus `threads − 1` Dispatch
  /// workers) for the whole batch, and checks `Task` cancellation between micro-batches.
  public func embed(passages: [String]) throws -> EmbeddingMatrix {
    try embed(passages: passages, mode: configuration.longInputMode)
  }

  /// Embeds a query. Queries are never split: beyond 510 tokens they are truncated.
  public func embed(query: String) throws -> [Float] {
    Array(try embed(passages: [query], mode: .truncate).values)
  }

  // MARK: Batched API

  /// Embeds passages with an explicit long-input mode.
  ///
  /// - Parameters:
  ///   - passages: texts; each becomes one row.
  ///   - mode: how inputs longer than 512 tokens are handled.
  ///   - checkCancellation: called between micro-batches; throw to stop (default: `Task.checkCancellation`).
  /// - Returns: `passages.count` L2-normalised rows of `dimension` floats.
  /// - Complexity: O(Σ L·H² + Σ L²·H) for token counts L (windows of ≤ 512 in `.parallelWindows`).
  public func embed(
    passages: [String], mode: LongInputMode,
    checkCancellation: () throws -> Void = { try Task.checkCancellation() }
  ) throws -> EmbeddingMatrix {
    let tokenized = passages.map { tokenizer.tokenize($0) }
    return try embed(tokenIDs: tokenized, mode: mode, checkCancellation: checkCancellation)
  }

  /// Embeds already tokenised texts (ids without [CLS]/[SEP], from ``tokenizer``).
  ///
  /// - Precondition: every id is below the model's vocabulary size.
  public func embed(
    tokenIDs texts: [[Int32]], mode: LongInputMode,
    checkCancellation: () throws -> Void = { try Task.checkCancellation() }
  ) throws -> EmbeddingMatrix {
    let vocabulary = Int32(modelConfiguration.vocabularySize)
    precondition(
      texts.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 < vocabulary } }, "token id outside the vocabulary")
    let h = dimension
    let window = maximumSequenceLength - 2
    // Sequences to run, and which text each belongs to.
    var sequences: [EncoderSequence] = []
    var owner: [Int] = []
    for (t, ids) in texts.enumerated() {
      for piece in pieces(ids, mode: mode, window: window) {
        sequences.append(piece)
        owner.append(t)
      }
    }
    var sums = [Float](repeating: 0, count: texts.count * h)
    var windowCounts = [Int](repeating: 0, count: texts.count)
    let forward = BERTForward(weights: weights, threads: configuration.threads)
    var start = 0
    while start < sequences.count {
      try checkCancellation()
      var end = start
      var tokens = 0
      while end < sequences.count, end == start || tokens + sequences[end].ids.count <= configuration.tokensPerBatch {
        tokens += sequences[end].ids.count
        end += 1
      }
      let batch = Array(sequences[start..<end])
      let pooled = ComputeGate.run { forward.pooled(batch) }
      for s in start..<end {
        let t = owner[s]
        let row = (s - start) * h
        if windowCounts[t] == 0 {
          for j in 0..<h { sums[t * h + j] = pooled[row + j] }
        } else {
          for j in 0..<h { sums[t * h + j] += pooled[row + j] }
        }
        windowCounts[t] += 1
      }
      start = end
    }
    for t in 0..<texts.count where windowCounts[t] > 1 {
      let inverse = 1 / Float(windowCounts[t])
      for j in 0..<h { sums[t * h + j] *= inverse }
    }
    sums.withUnsafeMutableBufferPointer { Reductions.normalizeRows($0, columns: h) }
    return EmbeddingMatrix(dimension: h, values: sums)
  }

  /// Mean-pooled, un-normalised vectors of complete sequences (ids including [CLS]/[SEP],
  /// at most `maximumSequenceLength` each, learned positions), run as one micro-batch.
  /// For tests of the window arithmetic.
  package func pooledEmbeddings(sequences: [[Int32]]) -> EmbeddingMatrix {
    let vocabulary = Int32(modelConfiguration.vocabularySize)
    precondition(
      sequences.allSatisfy { $0.count <= maximumSequenceLength && $0.allSatisfy { $0 >= 0 && $0 < vocabulary } },
      "sequence longer than the position table, or id outside the vocabulary")
    let forward = BERTForward(weights: weights, threads: configuration.threads)
    let batch = sequences.map { EncoderSequence(ids: $0, positions: .learned) }
    let pooled = ComputeGate.run { forward.pooled(batch) }
    return EmbeddingMatrix(dimension: dimension, values: pooled)
  }

  /// The sequences (with [CLS]/[SEP]) that encode one text under a mode.
  private func pieces(_ ids: [Int32], mode: LongInputMode, window: Int) -> [EncoderSequence] {
    let cls = tokenizer.classifierID
    let sep = tokenizer.separatorID
    func wrap(_ slice: ArraySlice<Int32>, _ positions: PositionScheme = .learned) -> EncoderSequence {
      var s: [Int32] = [cls]
      s.reserveCapacity(slice.count + 2)
      s.append(contentsOf: slice)
      s.append(sep)
      return EncoderSequence(ids: s, positions: positions)
    }
    if ids.count <= window { return [wrap(ids[...])] }
    switch mode {
    case .truncate:
      return [wrap(ids[0..<window])]
    case .positionInterpolation:
      let limit = max(window, configuration.maximumInterpolatedTokens - 2)
      return [wrap(ids[0..<min(ids.count, limit)], .interpolated)]
    case .parallelWindows:
      var result: [EncoderSequence] = []
      var start = 0
      while start + window < ids.count {
        result.append(wrap(ids[start..<(start + window)]))
        start += window
      }
      result.append(wrap(ids[(ids.count - window)..<ids.count]))
      return result
    }
  }
}
