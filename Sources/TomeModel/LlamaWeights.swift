public import TomeLinalg

/// The tensors of one transformer block.
public struct LlamaLayerWeights: Sendable {
  public let attentionNorm: [Float]
  public let query: QuantizedMatrix
  public let key: QuantizedMatrix
  public let value: QuantizedMatrix
  public let output: QuantizedMatrix
  public let queryBias: [Float]?
  public let keyBias: [Float]?
  public let valueBias: [Float]?
  public let ffnNorm: [Float]
  public let gate: QuantizedMatrix
  public let up: QuantizedMatrix
  public let down: QuantizedMatrix
}

/// All tensors of a Llama-family model, viewed in place in the mapped GGUF file
/// (norms and biases are copied to `[Float]`).
public struct LlamaWeights: Sendable {
  public let tokenEmbedding: QuantizedMatrix
  public let outputNorm: [Float]
  /// The output head; the token embedding when the model ties them.
  public let outputHead: QuantizedMatrix
  public let tiedEmbeddings: Bool
  public let layers: [LlamaLayerWeights]

  init(gguf file: GGUFFile, configuration c: LlamaConfiguration) throws(ModelError) {
    func matrix(_ name: String, rows: Int, columns: Int) throws(ModelError) -> QuantizedMatrix {
      let t = try file.requireTensor(name)
      guard t.shape.count == 2, t.shape[0] == columns, t.shape[1] == rows else {
        throw ModelError(.malformed, file: file.path, "tensor '\(name)' has shape \(t.shape), expected [\(columns), \(rows)]")
      }
      guard t.type.canDequantize else {
        throw ModelError(.unsupported, file: file.path, "tensor '\(name)' uses \(t.type), which Tome cannot decode")
      }
      guard let base = file.data(of: t).baseAddress else {
        throw ModelError(.malformed, file: file.path, "tensor '\(name)' is empty")
      }
      return QuantizedMatrix(type: t.type, rows: rows, columns: columns, data: base)
    }
    func vector(_ name: String, count: Int, required: Bool = true) throws(ModelError) -> [Float]? {
      guard let t = file.tensor(named: name) else {
        if required { throw ModelError(.missing, file: file.path, "tensor '\(name)' is missing") }
        return nil
      }
      guard t.elementCount == count, t.type.canDequantize, let base = file.data(of: t).baseAddress else {
        throw ModelError(.malformed, file: file.path, "tensor '\(name)' has \(t.elementCount) \(t.type) elements, expected \(count)")
      }
      return [Float](unsafeUninitializedCapacity: count) { buf, n in
        Quantized.dequantize(t.type, base, count: count, into: buf.baseAddress.unsafelyUnwrapped)
        n = count
      }
    }
    let d = c.hiddenSize
    tokenEmbedding = try matrix("token_embd.weight", rows: c.vocabularySize, columns: d)
    outputNorm = try vector("output_norm.weight", count: d) ?? []
    if file.tensor(named: "output.weight") != nil {
      outputHead = try matrix("output.weight", rows: c.vocabularySize, columns: d)
      tiedEmbeddings = false
    } else {
      outputHead = tokenEmbedding
      tiedEmbeddings = true
    }
    var layers: [LlamaLayerWeights] = []
    for i in 0..<c.layerCount {
      let p = "blk.\(i)."
      layers.append(
        LlamaLayerWeights(
          attentionNorm: try vector(p + "attn_norm.weight", count: d) ?? [],
          query: try matrix(p + "attn_q.weight", rows: c.queryDimension, columns: d),
          key: try matrix(p + "attn_k.weight", rows: c.kvDimension, columns: d),
          value: try matrix(p + "attn_v.weight", rows: c.kvDimension, columns: d),
          output: try matrix(p + "attn_output.weight", rows: d, columns: c.queryDimension),
          queryBias: try vector(p + "attn_q.bias", count: c.queryDimension, required: false),
          keyBias: try vector(p + "attn_k.bias", count: c.kvDimension, required: false),
          valueBias: try vector(p + "attn_v.bias", count: c.kvDimension, required: false),
          ffnNorm: try vector(p + "ffn_norm.weight", count: d) ?? [],
          gate: try matrix(p + "ffn_gate.weight", rows: c.feedForwardSize, columns: d),
          up: try matrix(p + "ffn_up.weight", rows: c.feedForwardSize, columns: d),
          down: try matrix(p + "ffn_down.weight", rows: d, columns: c.feedForwardSize)))
    }
    self.layers = layers
  }
}
