/// SplitMix64 (Steele, Lea & Flood 2014): a small seeded generator, so a seed reproduces the
/// same sampled text, benchmark needles, converted question sets and test data on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var state: UInt64

  public init(seed: UInt64) { state = seed }

  /// A generator for one item of a run: `seed` mixed with the item's coordinates, so items
  /// draw independently of the order (and subset) they are run in.
  public init(seed: UInt64, mixing parts: [Int]) {
    var mix = SeededGenerator(seed: seed)
    var state = mix.next()
    for part in parts {
      mix = SeededGenerator(seed: state ^ UInt64(bitPattern: Int64(part)))
      state = mix.next()
    }
    self.state = state
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
