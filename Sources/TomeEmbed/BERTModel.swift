import Foundation
import TomeCore
import TomeLinalg

/// Hyper-parameters read from a Hugging Face `config.json` of a BERT model.
public struct BERTConfiguration: Sendable, Equatable, Decodable {
  public var hiddenSize: Int
  public var attentionHeads: Int
  public var layers: Int
  public var intermediateSize: Int
  public var maximumPositions: Int
  public var vocabularySize: Int
  public var typeVocabularySize: Int
  public var layerNormEpsilon: Float
  public var hiddenActivation: String

  enum CodingKeys: String, CodingKey {
    case hiddenSize = "hidden_size", attentionHeads = "num_attention_heads", layers = "num_hidden_layers"
    case intermediateSize = "intermediate_size", maximumPositions = "max_position_embeddings"
    case vocabularySize = "vocab_size", typeVocabularySize = "type_vocab_size"
    case layerNormEpsilon = "layer_norm_eps", hiddenActivation = "hidden_act"
  }

  /// Size of one attention head.
  public var headSize: Int { hiddenSize / attentionHeads }

  static func load(_ url: URL) throws -> BERTConfiguration {
    guard FileManager.default.fileExists(atPath: url.path) else { throw EmbedError.missing(url.path) }
    if let problem = RegularFile.problem(url.path) { throw EmbedError(.unreadableFile, path: url.path, reason: problem) }
    let configuration: BERTConfiguration
    do {
      configuration = try JSONDecoder().decode(BERTConfiguration.self, from: Data(contentsOf: url))
    } catch {
      throw EmbedError(.corruptFile, path: url.path, reason: "not a BERT config.json: \(error)")
    }
    guard configuration.hiddenActivation == "gelu", configuration.hiddenSize > 0,
      configuration.attentionHeads > 0, configuration.hiddenSize % configuration.attentionHeads == 0
    else {
      throw EmbedError(
        .unsupportedModel, path: url.path,
        reason: "needs hidden_act gelu and hidden_size divisible by num_attention_heads")
    }
    return configuration
  }
}

/// An immutable block of floats with a stable address, so the forward pass hands raw pointers
/// to BLAS without nested `withUnsafeBufferPointer` closures.
/// Invariant: written only in `init`, read-only afterwards, so sharing across threads is safe.
final class FloatStorage: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Float>
  let count: Int

  init(_ values: [Float]) {
    count = values.count
    pointer = .allocate(capacity: max(count, 1))
    values.withUnsafeBufferPointer { source in
      if let base = source.baseAddress { pointer.initialize(from: base, count: count) }
    }
  }

  var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: pointer, count: count) }

  deinit { pointer.deallocate() }
}

/// The weights of one transformer layer, with Q, K and V fused into one matrix.
struct BERTLayerWeights: Sendable {
  let qkvWeight: FloatStorage  // [3H × H] rows: query, key, value
  let qkvBias: FloatStorage  // [3H]
  let outputWeight: FloatStorage  // [H × H]
  let outputBias: FloatStorage
  let attentionNormGamma: FloatStorage
  let attentionNormBeta: FloatStorage
  let intermediateWeight: FloatStorage  // [I × H]
  let intermediateBias: FloatStorage
  let feedForwardWeight: FloatStorage  // [H × I]
  let feedForwardBias: FloatStorage
  let outputNormGamma: FloatStorage
  let outputNormBeta: FloatStorage
}

/// BERT weights loaded from safetensors, converted to f32.
struct BERTWeights: Sendable {
  let configuration: BERTConfiguration
  let wordEmbeddings: FloatStorage  // [V × H]
  let positionEmbeddings: FloatStorage  // [P × H]
  let tokenTypeEmbedding: FloatStorage  // [H], type 0
  let embeddingNormGamma: FloatStorage
  let embeddingNormBeta: FloatStorage
  let layers: [BERTLayerWeights]

  init(file: SafeTensorsFile, configuration c: BERTConfiguration) throws {
    // Accept both bare BertModel names and a "bert." prefix (BertFor… checkpoints).
    let prefix = file.tensors["embeddings.word_embeddings.weight"] == nil ? "bert." : ""
    func load(_ name: String, _ shape: [Int]) throws -> FloatStorage {
      FloatStorage(try file.floats(prefix + name, shape: shape))
    }
    let h = c.hiddenSize
    let i = c.intermediateSize
    configuration = c
    wordEmbeddings = try load("embeddings.word_embeddings.weight", [c.vocabularySize, h])
    positionEmbeddings = try load("embeddings.position_embeddings.weight", [c.maximumPositions, h])
    let types = try file.floats(prefix + "embeddings.token_type_embeddings.weight", shape: [c.typeVocabularySize, h])
    tokenTypeEmbedding = FloatStorage(Array(types[0..<h]))
    embeddingNormGamma = try load("embeddings.LayerNorm.weight", [h])
    embeddingNormBeta = try load("embeddings.LayerNorm.bias", [h])
    var layers: [BERTLayerWeights] = []
    for l in 0..<c.layers {
      let p = prefix + "encoder.layer.\(l)."
      func f(_ name: String, _ shape: [Int]) throws -> [Float] { try file.floats(p + name, shape: shape) }
      let qkvWeight =
        try f("attention.self.query.weight", [h, h]) + f("attention.self.key.weight", [h, h])
        + f("attention.self.value.weight", [h, h])
      let qkvBias =
        try f("attention.self.query.bias", [h]) + f("attention.self.key.bias", [h]) + f("attention.self.value.bias", [h])
      layers.append(
        BERTLayerWeights(
          qkvWeight: FloatStorage(qkvWeight), qkvBias: FloatStorage(qkvBias),
          outputWeight: FloatStorage(try f("attention.output.dense.weight", [h, h])),
          outputBias: FloatStorage(try f("attention.output.dense.bias", [h])),
          attentionNormGamma: FloatStorage(try f("attention.output.LayerNorm.weight", [h])),
          attentionNormBeta: FloatStorage(try f("attention.output.LayerNorm.bias", [h])),
          intermediateWeight: FloatStorage(try f("intermediate.dense.weight", [i, h])),
          intermediateBias: FloatStorage(try f("intermediate.dense.bias", [i])),
          feedForwardWeight: FloatStorage(try f("output.dense.weight", [h, i])),
          feedForwardBias: FloatStorage(try f("output.dense.bias", [h])),
          outputNormGamma: FloatStorage(try f("output.LayerNorm.weight", [h])),
          outputNormBeta: FloatStorage(try f("output.LayerNorm.bias", [h]))))
    }
    self.layers = layers
  }
}

/// How a sequence's position embeddings are formed.
enum PositionScheme: Sendable, Equatable {
  /// Rows 0..<L of the learned table (L ≤ the table size).
  case learned
  /// Linear interpolation of the learned table stretched to L rows, with attention logits
  /// multiplied by α = ln L / ln P (LongEmbed §1, PI + attention scaling).
  case interpolated
}

/// One sequence for the forward pass: ids including [CLS]/[SEP].
struct EncoderSequence: Sendable {
  var ids: [Int32]
  var positions: PositionScheme
}

/// The BERT forward pass over packed sequences: every linear layer is one `sgemm` over all
/// tokens of the micro-batch (no padding); attention runs per sequence and head.
/// The BERT forward pass over packed sequences (no padding).
///
/// Compute policy (ARCHITECTURE.md, "2 cores"): with `threads` > 1, OpenBLAS is pinned to one
/// thread for the whole pass and `threads` Swift workers split the work: row pieces of the packed
/// token matrix for everything row-local (embeddings, every linear layer, GELU, LayerNorm,
/// fused per piece so a piece's rows stay in cache), and (sequence, head, row block) items for
/// attention. With `threads` == 1 everything runs on the caller's thread and each `sgemm` over
/// all tokens uses OpenBLAS's own threads.
struct BERTForward {
  let weights: BERTWeights
  let threads: Int
  /// Largest query-row block per attention product (bounds the score buffer to rows × L).
  let attentionRowBlock = 256

  /// Mean-pooled, un-normalised hidden states, one row of `hiddenSize` per sequence.
  func pooled(_ sequences: [EncoderSequence]) -> [Float] {
    if threads > 1 {
      return BLAS.withThreadCount(1) { run(sequences) }
    }
    return run(sequences)
  }

  private func run(_ sequences: [EncoderSequence]) -> [Float] {
    let c = weights.configuration
    let h = c.hiddenSize
    let inner = c.intermediateSize
    let lengths = sequences.map(\.ids.count)
    let total = lengths.reduce(0, +)
    guard total > 0 else { return [] }
    var offsets: [Int] = []
    offsets.reserveCapacity(sequences.count)
    var running = 0
    for l in lengths {
      offsets.append(running)
      running += l
    }

    // Per-token word id and position row.
    let tables = sequences.map { positionTable(for: $0) }
    var tokenIDs: [Int32] = []
    var positionRows: [UnsafePointer<Float>] = []
    tokenIDs.reserveCapacity(total)
    positionRows.reserveCapacity(total)
    for (s, sequence) in sequences.enumerated() {
      tokenIDs.append(contentsOf: sequence.ids)
      for t in 0..<sequence.ids.count { positionRows.append(UnsafePointer(tables[s].pointer + t * h)) }
    }

    let x = UnsafeMutablePointer<Float>.allocate(capacity: total * h)
    let qkv = UnsafeMutablePointer<Float>.allocate(capacity: total * 3 * h)
    let context = UnsafeMutablePointer<Float>.allocate(capacity: total * h)
    let temporary = UnsafeMutablePointer<Float>.allocate(capacity: total * h)
    let intermediate = UnsafeMutablePointer<Float>.allocate(capacity: total * inner)
    defer {
      x.deallocate()
      qkv.deallocate()
      context.deallocate()
      temporary.deallocate()
      intermediate.deallocate()
    }

    // Row pieces: ≥ 4 per worker for balance on a shared machine, ≥ 64 rows for GEMM efficiency.
    let pieceRows = threads > 1 ? max(64, (total + 4 * threads - 1) / (4 * threads)) : total
    let pieces = (total + pieceRows - 1) / pieceRows
    let eps = c.layerNormEpsilon

    /// Q, K, V of rows r0..<r0+n for `layer`: bias, then one sgemm.
    func projectQKV(_ layer: BERTLayerWeights, _ r0: Int, _ n: Int) {
      for t in r0..<(r0 + n) { (qkv + t * 3 * h).initialize(from: layer.qkvBias.pointer, count: 3 * h) }
      BLAS.sgemm(
        .none, .transposed, m: n, n: 3 * h, k: h, a: x + r0 * h, lda: h, b: layer.qkvWeight.pointer, ldb: h,
        beta: 1, c: qkv + r0 * 3 * h, ldc: 3 * h)
    }

    /// Everything after attention for rows r0..<r0+n: projection, residual + LayerNorm,
    /// feed-forward with GELU, residual + LayerNorm.
    func finishLayer(_ layer: BERTLayerWeights, _ r0: Int, _ n: Int) {
      let rows = x + r0 * h
      let temp = temporary + r0 * h
      let mid = intermediate + r0 * inner
      BLAS.sgemm(
        .none, .transposed, m: n, n: h, k: h, a: context + r0 * h, lda: h, b: layer.outputWeight.pointer, ldb: h,
        c: temp, ldc: h)
      Reductions.addBiasResidualLayerNorm(
        UnsafeMutableBufferPointer(start: temp, count: n * h), residual: UnsafeMutableBufferPointer(start: rows, count: n * h),
        bias: layer.outputBias.buffer, gamma: layer.attentionNormGamma.buffer, beta: layer.attentionNormBeta.buffer,
        epsilon: eps)
      BLAS.sgemm(
        .none, .transposed, m: n, n: inner, k: h, a: rows, lda: h, b: layer.intermediateWeight.pointer, ldb: h,
        c: mid, ldc: inner)
      Activations.biasGELU(UnsafeMutableBufferPointer(start: mid, count: n * inner), bias: layer.intermediateBias.buffer)
      BLAS.sgemm(
        .none, .transposed, m: n, n: h, k: inner, a: mid, lda: inner, b: layer.feedForwardWeight.pointer, ldb: inner,
        c: temp, ldc: h)
      Reductions.addBiasResidualLayerNorm(
        UnsafeMutableBufferPointer(start: temp, count: n * h), residual: UnsafeMutableBufferPointer(start: rows, count: n * h),
        bias: layer.feedForwardBias.buffer, gamma: layer.outputNormGamma.buffer, beta: layer.outputNormBeta.buffer,
        epsilon: eps)
    }

    /// Runs `body(r0, n)` over all row pieces.
    func rowwise(_ body: (Int, Int) -> Void) {
      Parallel.forEach(count: pieces, width: threads) { piece in
        let r0 = piece * pieceRows
        body(r0, min(pieceRows, total - r0))
      }
    }

    // Embeddings (word + position + token type 0), LayerNorm, then layer 0's Q, K, V.
    let layers = weights.layers
    tokenIDs.withUnsafeBufferPointer { ids in
      positionRows.withUnsafeBufferPointer { positions in
        rowwise { r0, n in
          let type = weights.tokenTypeEmbedding.pointer
          for t in r0..<(r0 + n) {
            let row = x + t * h
            let word = weights.wordEmbeddings.pointer + Int(ids[t]) * h
            let position = positions[t]
            for j in 0..<h { row[j] = word[j] + position[j] + type[j] }
          }
          Reductions.layerNorm(
            UnsafeMutableBufferPointer(start: x + r0 * h, count: n * h), gamma: weights.embeddingNormGamma.buffer,
            beta: weights.embeddingNormBeta.buffer, epsilon: eps)
          if let first = layers.first { projectQKV(first, r0, n) }
        }
      }
    }
    for (l, layer) in layers.enumerated() {
      attention(sequences: sequences, offsets: offsets, qkv: qkv, context: context)
      rowwise { r0, n in
        finishLayer(layer, r0, n)
        if l + 1 < layers.count { projectQKV(layers[l + 1], r0, n) }
      }
    }

    // The interpolated tables are read through raw pointers above: keep them alive until here.
    withExtendedLifetime(tables) {}

    // Mean pooling over every token, [CLS] and [SEP] included.
    var pooled = [Float](repeating: 0, count: sequences.count * h)
    pooled.withUnsafeMutableBufferPointer { out in
      guard let op = out.baseAddress else { return }
      for s in 0..<sequences.count {
        let row = op + s * h
        for t in 0..<lengths[s] { Reductions.add(x + (offsets[s] + t) * h, into: row, count: h) }
        let inverse = 1 / Float(lengths[s])
        for j in 0..<h { row[j] *= inverse }
      }
    }
    return pooled
  }

  /// The position rows for a sequence: the learned table, or an interpolated one.
  private func positionTable(for sequence: EncoderSequence) -> FloatStorage {
    let c = weights.configuration
    let length = sequence.ids.count
    guard sequence.positions == .interpolated, length > c.maximumPositions else { return weights.positionEmbeddings }
    let h = c.hiddenSize
    let learned = weights.positionEmbeddings.pointer
    var table = [Float](repeating: 0, count: length * h)
    // Position p reads the learned table at x = p · P / L, linearly between rows ⌊x⌋ and ⌊x⌋+1
    // (the last row is repeated past the end).
    let stretch = Double(c.maximumPositions) / Double(length)
    for p in 0..<length {
      let x = Double(p) * stretch
      let i = min(Int(x), c.maximumPositions - 1)
      let f = Float(x - Double(i))
      let next = min(i + 1, c.maximumPositions - 1)
      for j in 0..<h {
        table[p * h + j] = (1 - f) * learned[i * h + j] + f * learned[next * h + j]
      }
    }
    return FloatStorage(table)
  }

  /// Scaled dot-product attention for every sequence and head, into `context` ([T × H]).
  private func attention(
    sequences: [EncoderSequence], offsets: [Int], qkv: UnsafeMutablePointer<Float>,
    context: UnsafeMutablePointer<Float>
  ) {
    let c = weights.configuration
    let h = c.hiddenSize
    let heads = c.attentionHeads
    let d = c.headSize
    let rowBlock = attentionRowBlock
    // Work items: (sequence, head, row block).
    var items: [(sequence: Int, head: Int, row: Int)] = []
    for (s, sequence) in sequences.enumerated() {
      for head in 0..<heads {
        var row = 0
        while row < sequence.ids.count {
          items.append((s, head, row))
          row += rowBlock
        }
      }
    }
    let maximumLength = sequences.map(\.ids.count).max() ?? 0
    let workers = max(1, min(threads, items.count))
    let slotSize = min(rowBlock, maximumLength) * maximumLength
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: workers * slotSize)
    defer { scratch.deallocate() }
    let slots = WorkerSlots(workers: workers)
    let baseScale = 1 / Float(d).squareRoot()
    let learnedPositions = c.maximumPositions
    Parallel.forEach(count: items.count, width: threads) { index in
      let item = items[index]
      let length = sequences[item.sequence].ids.count
      let rows = min(rowBlock, length - item.row)
      var scale = baseScale
      if sequences[item.sequence].positions == .interpolated, length > learnedPositions {
        // LongEmbed attention scaling: queries × α, α = ln L / ln 512.
        scale *= Float(log(Double(length)) / log(Double(learnedPositions)))
      }
      let base = qkv + offsets[item.sequence] * 3 * h
      let q = base + item.row * 3 * h + item.head * d
      let k = base + h + item.head * d
      let v = base + 2 * h + item.head * d
      let slot = slots.acquire()
      defer { slots.release(slot) }
      let scores = scratch + slot * slotSize
      BLAS.sgemm(.none, .transposed, m: rows, n: length, k: d, a: q, lda: 3 * h, b: k, ldb: 3 * h, c: scores, ldc: length)
      Activations.softmaxRows(scores, rows: rows, count: length, stride: length, scale: scale)
      let out = context + (offsets[item.sequence] + item.row) * h + item.head * d
      BLAS.sgemm(.none, .none, m: rows, n: d, k: length, a: scores, lda: length, b: v, ldb: 3 * h, c: out, ldc: h)
    }
  }
}

/// Hands each concurrent attention worker its own scratch slot.
private final class WorkerSlots: @unchecked Sendable {
  // Invariant: `free` is only touched under `lock`.
  private let lock = NSLock()
  private var free: [Int]

  init(workers: Int) { free = Array(0..<workers) }

  func acquire() -> Int {
    lock.lock()
    defer { lock.unlock() }
    return free.removeLast()
  }

  func release(_ slot: Int) {
    lock.lock()
    free.append(slot)
    lock.unlock()
  }
}
