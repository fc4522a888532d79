import TomeLinalg

/// A Llama-family model loaded from a GGUF file: configuration, tokenizer and weights
/// (viewed in place in the memory-mapped file). Immutable and `Sendable`; run it through a
/// `LlamaContext`, which owns a KV cache.
///
/// ```swift
/// let model = try LlamaModel(path: "SmolLM2-135M-Instruct.Q4_1.gguf")
/// let context = model.makeContext()
/// let logits = try context.evaluate(model.tokenizer.encode("The capital of France is"))
/// ```
public final class LlamaModel: Sendable {
  public let file: GGUFFile
  public let configuration: LlamaConfiguration
  public let tokenizer: Tokenizer
  public let weights: LlamaWeights
  /// θ_i = base^(−2i/ropeDimensions), i < ropeDimensions/2.
  let ropeFrequencies: [Double]

  /// Maps and checks the model at `path`: its structure, every tensor's scales or values
  /// (finite), and one probe forward pass (finite logits), so damaged weights are refused
  /// here, naming the file and tensor, instead of crashing a later matrix product.
  /// - Throws: `ModelError` naming the file when it is missing, malformed, damaged or unsupported.
  public convenience init(path: String) throws(ModelError) {
    try self.init(gguf: try GGUFFile(path: path))
  }

  public init(gguf file: GGUFFile) throws(ModelError) {
    self.file = file
    let c = try LlamaConfiguration(gguf: file)
    configuration = c
    tokenizer = try Tokenizer(gguf: file)
    guard tokenizer.vocabularySize == c.vocabularySize else {
      throw ModelError(.malformed, file: file.path, "tokenizer and configuration disagree on the vocabulary size")
    }
    try WeightCheck.checkTensors(file)
    weights = try LlamaWeights(gguf: file, configuration: c)
    let half = c.ropeDimensions / 2
    // Llama 3.1+ stores per-pair frequency divisors in `rope_freqs.weight`.
    var factors = [Float](repeating: 1, count: half)
    if let t = file.tensor(named: "rope_freqs.weight") {
      guard t.type == .f32, t.elementCount == half, let base = file.data(of: t).baseAddress else {
        throw ModelError(.malformed, file: file.path, "rope_freqs.weight has \(t.elementCount) \(t.type) values, expected \(half) F32")
      }
      for i in 0..<half { factors[i] = base.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
    }
    ropeFrequencies = (0..<half).map { i in
      Foundation_pow(Double(c.ropeBase), -2 * Double(i) / Double(c.ropeDimensions)) / Double(factors[i])
    }
    try WeightCheck.probe(self)
  }

  /// A fresh inference context with an empty KV cache.
  public func makeContext() -> LlamaContext { LlamaContext(model: self) }

  /// A stable identifier: the file name (KV pages record it and refuse other models).
  public var identifier: String { String(file.path.split(separator: "/").last ?? "") }

  /// The model's name from metadata, or the file name.
  public var name: String {
    file["general.name"]?.string ?? String(file.path.split(separator: "/").last ?? "")
  }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func Foundation_pow(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func Foundation_pow(_ a: Double, _ b: Double) -> Double { Darwin.pow(a, b) }
#endif
