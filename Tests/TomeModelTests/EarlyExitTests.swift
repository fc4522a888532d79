import Foundation
import Testing
import TomeCore
import TomeModel
import TomeTestSupport

@Suite("early exit: reading a prompt through the first layers only", .serialized)
struct EarlyExitTests {
  /// About 700 tokens of an essay: more than one 512-token prefill chunk.
  static func essayTokens(_ model: LlamaModel) throws -> [Int] {
    let text = try String(contentsOf: SharedData.data("paul_graham_essays/essays/aord.txt"), encoding: .utf8)
    return Array(model.tokenizer.encode(text, addSpecial: false).prefix(700))
  }

  /// The largest difference relative to the largest magnitude of `b`.
  static func relativeDiff(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } / max(b.reduce(0) { max($0, abs($1)) }, .leastNonzeroMagnitude)
  }

  static func cosine(_ a: [Float], _ b: [Float]) -> Float {
    let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot(), nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return dot / max(na * nb, .leastNonzeroMagnitude)
  }

  @Test("the last queries and all keys at layer r equal those of a full run, at two layers in one pass")
  func matchesFullRun() async throws {
    let model = try Fixtures.model()
    let c = model.configuration
    let tokens = try Self.essayTokens(model)
    let n = tokens.count
    let readings = try await LocalLanguageModel(model: model).readEarly(tokens: tokens, layers: [9, 3], queryCount: 2)
    #expect(readings.map(\.layer) == [9, 3])
    for reading in readings {
      let full = model.makeContext()
      let queries = try full.appendCapturingQueries(tokens: tokens, layer: reading.layer)
      // appendCapturingQueries lays queries out [head][token][d]; the reading [token][head][d].
      var last: [Float] = []
      for t in (n - 2)..<n {
        for h in 0..<c.headCount { last += queries[((h * n) + t) * c.headDimension..<((h * n) + t + 1) * c.headDimension] }
      }
      #expect(reading.tokenCount == n && reading.headCount == c.headCount && reading.kvHeadCount == c.kvHeadCount)
      #expect(reading.queryPositions == (n - 2)..<n)
      #expect(reading.queries.count == last.count && reading.keys.count == c.kvHeadCount * n * c.headDimension)
      #expect(reading.queries.contains { $0 != 0 })
      // Alone, the two passes agree to the bit; OpenBLAS calls of tests running beside this one
      // perturb the last bits, which Q8 rounding of activations can grow to a few percent of
      // the largest value after some layers. Another layer's keys are far further off (below).
      let keys = full.keys(layer: reading.layer, positions: 0..<n)
      let dq = Self.relativeDiff(reading.queries, last), dk = Self.relativeDiff(reading.keys, keys)
      let cq = Self.cosine(reading.queries, last), ck = Self.cosine(reading.keys, keys)
      #expect(dq < 0.05 && dk < 0.05 && cq > 0.999 && ck > 0.999, "layer \(reading.layer): query off by \(dq) (cosine \(cq)), keys by \(dk) (cosine \(ck))")
    }
    // Another layer's keys are far off, so the comparison above would catch a wrong layer.
    #expect(Self.cosine(readings[0].keys, readings[1].keys) < 0.9)
    #expect(Self.relativeDiff(readings[0].keys, readings[1].keys) > 0.2)
  }

  @Test("bad input is refused: no tokens, a layer the model lacks, a token outside the vocabulary, too many queries")
  func badInput() async throws {
    let lm = try LocalLanguageModel(model: try Fixtures.model())
    await #expect(throws: ModelError.self) { _ = try await lm.readEarly(tokens: [], layers: [3], queryCount: 1) }
    await #expect(throws: ModelError.self) { _ = try await lm.readEarly(tokens: [1, 2, 3], layers: [lm.layerCount], queryCount: 1) }
    await #expect(throws: ModelError.self) { _ = try await lm.readEarly(tokens: [1, 2, 3], layers: [-1], queryCount: 1) }
    await #expect(throws: ModelError.self) { _ = try await lm.readEarly(tokens: [1, 2, 3], layers: [], queryCount: 1) }
    await #expect(throws: ModelError.self) { _ = try await lm.readEarly(tokens: [1, -5], layers: [0], queryCount: 1) }
    await #expect(throws: ModelError.self) { _ = try await lm.readEarly(tokens: [1, 2], layers: [0], queryCount: 3) }
    await #expect(throws: ModelError.self) { _ = try await lm.readEarly(tokens: [1, 2], layers: [0], queryCount: 0) }
  }
}
