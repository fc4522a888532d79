/// Hyper-parameters of a Llama-family model, read from GGUF metadata (`<arch>.*` keys).
public struct LlamaConfiguration: Sendable, Equatable {
  /// How RoPE pairs dimensions.
  public enum RopeStyle: Sendable, Equatable {
    /// Adjacent pairs (2i, 2i+1): GGUF `llama`, whose converter permutes Q/K rows.
    case interleaved
    /// Halves (i, i + d/2), "rotate_half": Qwen2, NeoX.
    case neox
  }

  public var architecture: String
  public var layerCount: Int
  public var hiddenSize: Int
  public var feedForwardSize: Int
  public var headCount: Int
  public var kvHeadCount: Int
  public var headDimension: Int
  /// Dimensions of each head that RoPE rotates (usually all).
  public var ropeDimensions: Int
  public var ropeBase: Float
  public var ropeStyle: RopeStyle
  public var rmsEpsilon: Float
  /// Training context length.
  public var contextLength: Int
  public var vocabularySize: Int

  public var queryDimension: Int { headCount * headDimension }
  public var kvDimension: Int { kvHeadCount * headDimension }

  /// Reads the configuration of `file`.
  /// - Throws: `ModelError` for an unsupported architecture or missing/inconsistent keys.
  public init(gguf file: GGUFFile) throws(ModelError) {
    guard let arch = file["general.architecture"]?.string else {
      throw ModelError(.missing, file: file.path, "general.architecture is missing")
    }
    let style: RopeStyle
    switch arch {
    case "llama", "mistral", "granite": style = .interleaved
    case "qwen2", "qwen3": style = .neox
    default:
      throw ModelError(.unsupported, file: file.path, "architecture '\(arch)' is not supported (llama, mistral, qwen2 are)")
    }
    architecture = arch
    layerCount = try file.requireInt("\(arch).block_count")
    hiddenSize = try file.requireInt("\(arch).embedding_length")
    feedForwardSize = try file.requireInt("\(arch).feed_forward_length")
    headCount = try file.requireInt("\(arch).attention.head_count")
    kvHeadCount = file["\(arch).attention.head_count_kv"]?.int ?? headCount
    headDimension = file["\(arch).attention.key_length"]?.int ?? (headCount > 0 ? hiddenSize / headCount : 0)
    ropeDimensions = file["\(arch).rope.dimension_count"]?.int ?? headDimension
    ropeBase = Float(file["\(arch).rope.freq_base"]?.double ?? 10_000)
    ropeStyle = style
    rmsEpsilon = Float(file["\(arch).attention.layer_norm_rms_epsilon"]?.double ?? 1e-5)
    contextLength = file["\(arch).context_length"]?.int ?? 4096
    vocabularySize = file["tokenizer.ggml.tokens"]?.array?.count ?? 0
    guard layerCount > 0, hiddenSize > 0, headCount > 0, kvHeadCount > 0, headCount % kvHeadCount == 0,
      headDimension > 0, headDimension % 2 == 0, ropeDimensions <= headDimension, ropeDimensions % 2 == 0,
      vocabularySize > 0, contextLength > 0
    else {
      throw ModelError(.malformed, file: file.path, "inconsistent model dimensions in metadata")
    }
  }
}
