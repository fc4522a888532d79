import Testing
import TomeCore
import TomeModel

@Suite("KV cache access and attention probing", .serialized)
struct KVCacheTests {
  static func ids(_ name: String) throws -> [Int] {
    try #require(try Fixtures.golden().logits.first { $0.name == name }).ids
  }

  static func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
  }

  @Test("truncate then re-evaluate reproduces the logits")
  func truncate() throws {
    let model = try Fixtures.model()
    let ids = try Self.ids("chat_passkey")
    let c = model.makeContext()
    let full = try c.evaluate(ids)
    c.truncate(to: 20)
    #expect(c.positionCount == 20)
    #expect(c.cachedTokens == Array(ids.prefix(20)))
    let again = try c.evaluate(Array(ids[20...]))
    #expect(Self.maxDiff(full, again) < 1e-3)
  }

  @Test("copy, then save and load a page as f16 and int8")
  func pages() throws {
    let model = try Fixtures.model()
    let ids = try Self.ids("chat_passkey")
    let c = model.makeContext()
    let reference = try c.evaluate(ids)
    let split = 30
    // Copy: branching from a prefix gives the same logits.
    let copy = c.copySequence()
    #expect(copy.cachedTokens == c.cachedTokens)
    copy.truncate(to: split)
    #expect(Self.maxDiff(try copy.evaluate(Array(ids[split...])), reference) < 1e-3)

    for (format, tolerance) in [(KVPageFormat.float16, Float(1e-3)), (.int8, Float(1.0))] {
      let page = c.exportPage(positions: 0..<split, format: format)
      #expect(page.tokens == Array(ids.prefix(split)))
      let fresh = model.makeContext()
      try fresh.importPage(page)
      #expect(fresh.positionCount == split)
      let logits = try fresh.evaluate(Array(ids[split...]))
      let d = Self.maxDiff(logits, reference)
      print("[kv] \(format) page round trip: max |Δlogit| = \(d)")
      #expect(d < tolerance)
      #expect(argmax(logits) == argmax(reference))
    }
  }

  @Test("shifting keys by Δ equals computing them at the shifted positions")
  func ropeShift() throws {
    let model = try Fixtures.model()
    let ids = try Self.ids("plain")
    let prefix = try Self.ids("code")
    // Layer 0 keys depend only on each token and its position.
    let a = model.makeContext()
    try a.append(tokens: prefix + ids)
    let shiftedTruth = a.keys(layer: 0, positions: prefix.count..<(prefix.count + ids.count))
    let b = model.makeContext()
    try b.append(tokens: ids)
    b.shiftKeys(positions: 0..<ids.count, by: prefix.count)
    let shifted = b.keys(layer: 0, positions: 0..<ids.count)
    let d = Self.maxDiff(shifted, shiftedTruth)
    #expect(d < 0.02, "max key difference \(d)")
    // A page moved to a new position is re-rotated on import.
    let original = model.makeContext()
    try original.append(tokens: ids)
    let page = original.exportPage(positions: 0..<ids.count, format: .float16)
    let moved = model.makeContext()
    try moved.append(tokens: prefix)
    try moved.importPage(page)
    #expect(moved.cachedTokens == prefix + ids)
    let imported = moved.keys(layer: 0, positions: prefix.count..<(prefix.count + ids.count))
    #expect(Self.maxDiff(imported, shiftedTruth) < 0.02)
  }

  @Test("attention rows: one per requested query, each head's row sums to 1; queries captured")
  func attention() throws {
    let model = try Fixtures.model()
    let ids = try Self.ids("chat_fact")
    let c = model.makeContext()
    let heads = model.configuration.headCount
    let wanted = [5, ids.count - 1]
    let rows = try c.appendCapturingAttention(tokens: ids, layer: 18, queryPositions: wanted)
    #expect(Set(rows.keys) == Set(wanted))
    for (pos, row) in rows {
      #expect(row.count == pos + 1)
      let sum = row.reduce(0, +)
      #expect(abs(sum / Float(heads) - 1) < 0.01, "row \(pos) sums to \(sum)")
    }
    // Decode path (one token) too.
    let next = try c.appendCapturingAttention(tokens: [504], layer: 18, queryPositions: [ids.count])
    #expect(abs((next[ids.count]?.reduce(0, +) ?? 0) / Float(heads) - 1) < 0.01)
    let q = try model.makeContext().appendCapturingQueries(tokens: ids, layer: 3)
    #expect(q.count == heads * ids.count * model.configuration.headDimension)
    #expect(q.contains { $0 != 0 })
    let k = c.keys(layer: 3, positions: 0..<4)
    #expect(k.count == model.configuration.kvHeadCount * 4 * model.configuration.headDimension)
  }
}
