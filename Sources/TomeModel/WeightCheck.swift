import TomeLinalg

/// Load-time checks that a model's tensor data is numerically sound (issue 11).
///
/// GGUF headers can be valid while the data is not: a NaN or infinite block scale, a flipped
/// bit in an F16 value, or a tensor relabelled to another type. Such a file used to load,
/// pass `tome model info`, and then crash the process (SIGILL) in the first matrix product.
/// Every quantised format stores its values as small integers times a per-block f16 scale
/// (and min), so a tensor is finite exactly when those scales are; float tensors are checked
/// value by value. The scan reads 2–4 bytes per block: tens of milliseconds for a 135M model.
enum WeightCheck {
  /// Byte offsets of the f16 scale/min fields inside one block of `type`; nil for float types.
  static func halfFieldOffsets(_ type: GGMLType) -> [Int]? {
    switch type {
    case .q4_0, .q5_0, .q8_0: [0]
    case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
    case .q8_1: [0, 2]
    case .q6_K: [208]
    case .q2_K: [80, 82]
    case .q3_K: [108]
    case .q8_K: nil
    case .f32, .f16, .bf16: nil
    }
  }

  /// The index of the first element (float types) or block (quantised types) whose value or
  /// scale is NaN or infinite; nil when all are finite.
  static func firstNonFinite(_ type: GGMLType, _ data: UnsafeRawBufferPointer) -> Int? {
    guard let base = data.baseAddress else { return nil }
    switch type {
    case .f32:
      let n = data.count / 4
      for i in 0..<n where base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self) & 0x7F80_0000 == 0x7F80_0000 { return i }
      return nil
    case .f16:
      let n = data.count / 2
      for i in 0..<n where base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self) & 0x7C00 == 0x7C00 { return i }
      return nil
    case .bf16:
      let n = data.count / 2
      for i in 0..<n where base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self) & 0x7F80 == 0x7F80 { return i }
      return nil
    default:
      guard let offsets = halfFieldOffsets(type) else { return nil }
      let size = type.bytesPerBlock
      let blocks = data.count / size
      for b in 0..<blocks {
        for o in offsets where base.loadUnaligned(fromByteOffset: b * size + o, as: UInt16.self) & 0x7C00 == 0x7C00 {
          return b
        }
      }
      return nil
    }
  }

  /// Throws when a tensor the model uses holds a non-finite value or scale.
  static func checkTensors(_ file: GGUFFile) throws(ModelError) {
    for t in file.tensors where t.type.canDequantize {
      if let index = firstNonFinite(t.type, file.data(of: t)) {
        let what = t.type.blockSize == 1 ? "value \(index)" : "block \(index)'s scale"
        throw ModelError(
          .malformed, file: file.path,
          "tensor '\(t.name)' (\(t.type)) is damaged: \(what) is NaN or infinite; the file is corrupt, download it again")
      }
    }
  }

  /// Runs one token through the model and throws when a logit is not finite: damage the
  /// scale scan cannot see (a relabelled tensor type, values that overflow in the sums).
  static func probe(_ model: LlamaModel) throws(ModelError) {
    let token = model.tokenizer.bosID ?? 0
    let logits = try model.makeContext().evaluate([token])
    if let bad = logits.firstIndex(where: { !$0.isFinite }) {
      throw ModelError(
        .malformed, file: model.file.path,
        "a test forward pass gives a non-finite logit (token \(bad)); the weights are damaged or a tensor's type is mislabelled")
    }
  }
}
