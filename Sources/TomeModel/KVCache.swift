import TomeLinalg

/// Keys and values of every layer for one sequence, stored as half floats (as llama.cpp's
/// default F16 cache: half the memory and half the bytes read per decoded token), position-
/// major: for layer `l`, position `p` holds `kvDimension` values (`[kv_head][d]`), keys
/// already rotated by RoPE.
///
/// Grows by doubling; `count` is the number of cached positions.
public final class KVCache {
  public let layerCount: Int
  public let kvDimension: Int
  public private(set) var capacity: Int
  public internal(set) var count: Int = 0
  var keys: [UnsafeMutablePointer<Float16>]
  var values: [UnsafeMutablePointer<Float16>]

  public init(layerCount: Int, kvDimension: Int, capacity: Int = 256) {
    self.layerCount = layerCount
    self.kvDimension = kvDimension
    self.capacity = max(capacity, 16)
    keys = (0..<layerCount).map { _ in .allocate(capacity: max(capacity, 16) * kvDimension) }
    values = (0..<layerCount).map { _ in .allocate(capacity: max(capacity, 16) * kvDimension) }
  }

  deinit {
    for p in keys { p.deallocate() }
    for p in values { p.deallocate() }
  }

  /// Bytes held for cached positions.
  public var byteCount: Int { 2 * layerCount * count * kvDimension * MemoryLayout<Float16>.size }

  /// Makes room for `n` positions in total.
  public func reserve(_ n: Int) {
    guard n > capacity else { return }
    var c = capacity
    while c < n { c *= 2 }
    for l in 0..<layerCount {
      let k = UnsafeMutablePointer<Float16>.allocate(capacity: c * kvDimension)
      k.update(from: keys[l], count: count * kvDimension)
      keys[l].deallocate()
      keys[l] = k
      let v = UnsafeMutablePointer<Float16>.allocate(capacity: c * kvDimension)
      v.update(from: values[l], count: count * kvDimension)
      values[l].deallocate()
      values[l] = v
    }
    capacity = c
  }

  /// Keys of `layer` at `position` (`kvDimension` halves).
  func key(layer: Int, position: Int) -> UnsafeMutablePointer<Float16> { keys[layer] + position * kvDimension }
  /// Values of `layer` at `position`.
  func value(layer: Int, position: Int) -> UnsafeMutablePointer<Float16> { values[layer] + position * kvDimension }

  /// Stores `rows` positions of keys and values (floats, `kvDimension` per row) from `position`.
  func store(layer: Int, position: Int, rows: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>) {
    Quantized.toHalf(k, key(layer: layer, position: position), count: rows * kvDimension)
    Quantized.toHalf(v, value(layer: layer, position: position), count: rows * kvDimension)
  }

  /// Keys of `layer` for `positions` as floats into `out` (`positions.count × kvDimension`).
  func loadKeys(layer: Int, positions: Range<Int>, into out: UnsafeMutablePointer<Float>) {
    Quantized.fromHalf(key(layer: layer, position: positions.lowerBound), out, count: positions.count * kvDimension)
  }

  /// Values of `layer` for `positions` as floats into `out`.
  func loadValues(layer: Int, positions: Range<Int>, into out: UnsafeMutablePointer<Float>) {
    Quantized.fromHalf(value(layer: layer, position: positions.lowerBound), out, count: positions.count * kvDimension)
  }

  /// Forgets positions from `n` on.
  func truncate(to n: Int) {
    precondition(n >= 0, "negative length")
    count = min(count, n)
  }
}
