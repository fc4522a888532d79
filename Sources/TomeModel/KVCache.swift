/// Keys and values of every layer for one sequence, position-major: for layer `l`, position
/// `p` holds `kvDimension` floats (`[kv_head][d]`), keys already rotated by RoPE.
///
/// Grows by doubling; `count` is the number of cached positions.
public final class KVCache {
  public let layerCount: Int
  public let kvDimension: Int
  public private(set) var capacity: Int
  public internal(set) var count: Int = 0
  var keys: [UnsafeMutablePointer<Float>]
  var values: [UnsafeMutablePointer<Float>]

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

  /// Makes room for `n` positions in total.
  public func reserve(_ n: Int) {
    guard n > capacity else { return }
    var c = capacity
    while c < n { c *= 2 }
    for l in 0..<layerCount {
      let k = UnsafeMutablePointer<Float>.allocate(capacity: c * kvDimension)
      k.update(from: keys[l], count: count * kvDimension)
      keys[l].deallocate()
      keys[l] = k
      let v = UnsafeMutablePointer<Float>.allocate(capacity: c * kvDimension)
      v.update(from: values[l], count: count * kvDimension)
      values[l].deallocate()
      values[l] = v
    }
    capacity = c
  }

  /// Keys of `layer` at `position` (`kvDimension` floats).
  public func key(layer: Int, position: Int) -> UnsafeMutablePointer<Float> { keys[layer] + position * kvDimension }
  /// Values of `layer` at `position`.
  public func value(layer: Int, position: Int) -> UnsafeMutablePointer<Float> { values[layer] + position * kvDimension }

  /// Forgets positions from `n` on.
  public func truncate(to n: Int) {
    precondition(n >= 0, "negative length")
    count = min(count, n)
  }
}
