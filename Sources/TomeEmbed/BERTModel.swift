import Foundation
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
struct BERTForward {
  let weights: BERTWeights
  /// Threads for the per-head attention work; > 1 pins BLAS to one thread for that phase.
  let attentionThreads: Int
  /// Largest query-row block per attention product (bounds the score buffer to rows × L).
  let attentionRowBlock = 256

  /// Mean-pooled, un-normalised hidden states, one row of `hiddenSize` per sequence.
  func pooled(_ sequences: [EncoderSequence]) -> [Float] {
    let c = weights.configuration
    let h = c.hiddenSize
    let inner = c.intermediateSize
    let lengths = sequences.map(\.ids.count)
    let total = lengths.reduce(0, +)
    var offsets: [Int] = []
    offsets.reserveCapacity(sequences.count)
    var running = 0
    for l in lengths {
      offsets.append(running)
      running += l
    }
    guard total > 0 else { return [] }

    let x = UnsafeMutableBufferPointer<Float>.allocate(capacity: total * h)
    let qkv = UnsafeMutableBufferPointer<Float>.allocate(capacity: total * 3 * h)
    let context = UnsafeMutableBufferPointer<Float>.allocate(capacity: total * h)
    let temporary = UnsafeMutableBufferPointer<Float>.allocate(capacity: total * h)
    let intermediate = UnsafeMutableBufferPointer<Float>.allocate(capacity: total * inner)
    defer {
      x.deallocate()
      qkv.deallocate()
      context.deallocate()
      temporary.deallocate()
      intermediate.deallocate()
    }
    guard let xp = x.baseAddress, let qkvp = qkv.baseAddress, let cp = context.baseAddress,
      let tp = temporary.baseAddress, let ip = intermediate.baseAddress
    else { return [] }

    // Embeddings: word + position + token type 0, then LayerNorm.
    for (s, sequence) in sequences.enumerated() {
      let table = positionTable(for: sequence)
      for (t, id) in sequence.ids.enumerated() {
        let row = xp + (offsets[s] + t) * h
        let word = weights.wordEmbeddings.pointer + Int(id) * h
        let position = table.pointer + t * h
        let type = weights.tokenTypeEmbedding.pointer
        for j in 0..<h { row[j] = word[j] + position[j] + type[j] }
      }
    }
    Reductions.layerNorm(
      x, gamma: weights.embeddingNormGamma.buffer, beta: weights.embeddingNormBeta.buffer,
      epsilon: c.layerNormEpsilon)

    for layer in weights.layers {
      // Q, K, V for all tokens: [T × 3H] = X · Wqkvᵀ + b.
      for t in 0..<total { (qkvp + t * 3 * h).initialize(from: layer.qkvBias.pointer, count: 3 * h) }
      BLAS.sgemm(
        .none, .transposed, m: total, n: 3 * h, k: h, a: xp, lda: h, b: layer.qkvWeight.pointer, ldb: h,
        beta: 1, c: qkvp, ldc: 3 * h)
      attention(sequences: sequences, offsets: offsets, qkv: qkvp, context: cp)
      // Attention output projection, residual, LayerNorm.
      BLAS.sgemm(
        .none, .transposed, m: total, n: h, k: h, a: cp, lda: h, b: layer.outputWeight.pointer, ldb: h,
        c: tp, ldc: h)
      Reductions.addBiasResidualLayerNorm(
        temporary, residual: x, bias: layer.outputBias.buffer, gamma: layer.attentionNormGamma.buffer,
        beta: layer.attentionNormBeta.buffer, epsilon: c.layerNormEpsilon)
      // Feed-forward: GELU(X · W1ᵀ + b1) · W2ᵀ + b2, residual, LayerNorm.
      BLAS.sgemm(
        .none, .transposed, m: total, n: inner, k: h, a: xp, lda: h, b: layer.intermediateWeight.pointer, ldb: h,
        c: ip, ldc: inner)
      Activations.biasGELU(intermediate, bias: layer.intermediateBias.buffer)
      BLAS.sgemm(
        .none, .transposed, m: total, n: h, k: inner, a: ip, lda: inner, b: layer.feedForwardWeight.pointer,
        ldb: inner, c: tp, ldc: h)
      Reductions.addBiasResidualLayerNorm(
        temporary, residual: x, bias: layer.feedForwardBias.buffer, gamma: layer.outputNormGamma.buffer,
        beta: layer.outputNormBeta.buffer, epsilon: c.layerNormEpsilon)
    }

    // Mean pooling over every token, [CLS] and [SEP] included.
    var pooled = [Float](repeating: 0, count: sequences.count * h)
    pooled.withUnsafeMutableBufferPointer { out in
      guard let op = out.baseAddress else { return }
      for s in 0..<sequences.count {
        let row = op + s * h
        for t in 0..<lengths[s] { Reductions.add(xp + (offsets[s] + t) * h, into: row, count: h) }
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
    let workers = min(attentionThreads, items.count)
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(workers, 1) * rowBlock * maximumLength)
    defer { scratch.deallocate() }
    let slot = WorkerSlots(workers: workers)
    let baseScale = 1 / Float(d).squareRoot()
    let maximumPositions = Float(c.maximumPositions)
    Parallel.forEach(count: items.count, width: attentionThreads) { index in
      let item = items[index]
      let length = sequences[item.sequence].ids.count
      let rows = min(rowBlock, length - item.row)
      var scale = baseScale
      if sequences[item.sequence].positions == .interpolated, Float(length) > maximumPositions {
        scale *= Float(log(Double(length)) / log(Double(maximumPositions)))
      }
      let base = qkv + offsets[item.sequence] * 3 * h
      let q = base + item.row * 3 * h + item.head * d
      let k = base + h + item.head * d
      let v = base + 2 * h + item.head * d
      let scores = scratch + slot.acquire() * rowBlock * maximumLength
      defer { slot.release(scores, base: scratch, stride: rowBlock * maximumLength) }
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

  init(workers: Int) { free = Array(0..<max(workers, 1)) }

  func acquire() -> Int {
    lock.lock()
    defer { lock.unlock() }
    return free.removeLast()
  }

  func release(_ pointer: UnsafeMutablePointer<Float>, base: UnsafeMutablePointer<Float>, stride: Int) {
    lock.lock()
    free.append((pointer - base) / stride)
    lock.unlock()
  }
}
