/// A 64-bit checksum over whole 8-byte words plus the tail (a multiply–rotate mix, one pass,
/// several GB/s): detects torn writes and bit rot, not tampering.
public struct Checksum: Sendable {
  public private(set) var value: UInt64 = 0x9E37_79B9_7F4A_7C15

  public init() {}

  public mutating func add(_ bytes: UnsafeRawBufferPointer) {
    var h = value ^ UInt64(bytes.count)
    let words = bytes.count / 8
    var i = 0
    while i < words {
      let w = bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
      h = (h ^ (w &* 0x87C3_7B91_1142_53D5)).rotatedLeft(31) &* 0x4CF5_AD43_2745_937F
      i += 1
    }
    var tail: UInt64 = 0
    for j in (words * 8)..<bytes.count { tail = tail << 8 | UInt64(bytes[j]) }
    h = (h ^ tail).rotatedLeft(27) &* 0x52DC_E729
    value = h
  }
}

extension UInt64 {
  @inline(__always) fileprivate func rotatedLeft(_ r: UInt64) -> UInt64 { self << r | self >> (64 - r) }
}
