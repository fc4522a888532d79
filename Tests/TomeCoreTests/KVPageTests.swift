import Testing
import TomeCore

/// `KVPage.droppingFirst` and `prefix`: the kept positions' rows, scales and tokens, in both formats.
@Suite struct KVPageTests {
  /// A page of `n` positions, 2 layers, 3 values per row, whose every byte says where it is.
  static func page(_ n: Int, format: KVPageFormat) -> KVPage {
    let width = format == .float16 ? 6 : 3
    var payload: [UInt8] = []
    var scales: [Float] = []
    for block in 0..<4 {
      for p in 0..<n {
        payload += [UInt8](repeating: UInt8(block * 16 + p), count: width)
        if format == .int8 { scales.append(Float(block * 100 + p)) }
      }
    }
    return KVPage(
      format: format, modelIdentifier: "m", layerCount: 2, kvDimension: 3, tokens: Array(10..<(10 + n)), startPosition: 5,
      payload: payload, scales: scales)
  }

  @Test("dropping the first k positions keeps the rows of the others in every layer, K and V")
  func dropFirst() {
    for format in [KVPageFormat.int8, .float16] {
      let whole = Self.page(6, format: format)
      let tail = whole.droppingFirst(4)
      let width = format == .float16 ? 6 : 3
      #expect(tail.tokens == [14, 15] && tail.startPosition == 9)
      #expect(tail.payload == (0..<4).flatMap { block in (4..<6).flatMap { [UInt8](repeating: UInt8(block * 16 + $0), count: width) } })
      #expect(tail.scales == (format == .int8 ? [4, 5, 104, 105, 204, 205, 304, 305] : []))
      #expect(whole.droppingFirst(0) == whole)
      #expect(whole.droppingFirst(6).tokens.isEmpty && whole.droppingFirst(6).payload.isEmpty)
    }
  }

  @Test("keeping the first k positions keeps their rows in every layer, K and V, and the start")
  func prefix() {
    for format in [KVPageFormat.int8, .float16] {
      let whole = Self.page(6, format: format)
      let head = whole.prefix(2)
      let width = format == .float16 ? 6 : 3
      #expect(head.tokens == [10, 11] && head.startPosition == 5)
      #expect(head.payload == (0..<4).flatMap { block in (0..<2).flatMap { [UInt8](repeating: UInt8(block * 16 + $0), count: width) } })
      #expect(head.scales == (format == .int8 ? [0, 1, 100, 101, 200, 201, 300, 301] : []))
      #expect(whole.prefix(6) == whole)
      #expect(whole.prefix(0).tokens.isEmpty && whole.prefix(0).payload.isEmpty)
      #expect(whole.droppingFirst(1).prefix(3) == whole.prefix(4).droppingFirst(1))
    }
  }
}
