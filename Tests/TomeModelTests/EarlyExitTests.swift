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

  static func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
  }

  @Test("the last query and all keys at layer r equal those of a full run, at two layers in one pass")
  func matchesFullRun() async throws {
    let model = try Fixtures.model()
    let c = model.configuration
    let tokens = try Self.essayTokens(model)
    let n = tokens.count
    let readings = try await LocalLanguageModel(model: model).readEarly(tokens: tokens, layers: [9, 3])
    #expect(readings.map(\.layer) == [9, 3])
    for reading in readings {
      let full = model.makeContext()
      let queries = try full.appendCapturingQueries(tokens: tokens, layer: reading.layer)
      // appendCapturingQueries lays queries out [head][token][d]: the last token of each head.
      var last: [Float] = []
      for h in 0..<c.headCount {
        last += queries[((h * n) + n - 1) * c.headDimension..<((h * n) + n) * c.headDimension]
      }
      #expect(reading.tokenCount == n && reading.headCount == c.headCount && reading.kvHeadCount == c.kvHeadCount)
      #expect(reading.lastQuery.count == last.count && reading.keys.count == c.kvHeadCount * n * c.headDimension)
      #expect(reading.lastQuery.contains { $0 != 0 })
      let dq = Self.maxDiff(reading.lastQuery, last)
      let dk = Self.maxDiff(reading.keys, full.keys(layer: reading.layer, positions: 0..<n))
      #expect(dq < 1e-3 && dk < 1e-3, "layer \(reading.layer): query differs by \(dq), keys by \(dk)")
    }
    // A later layer sees different keys (the comparison above is not comparing layer 0 twice).
    #expect(Self.maxDiff(readings[0].keys, readings[1].keys) > 0.1)
  }

  @Test("bad input is refused: no tokens, a layer the model lacks, a token outside the vocabulary")
  func badInput() async throws {
    let lm = try LocalLanguageModel(model: try Fixtures.model())
    await #expect(throws: ModelError.self) { _ = try await lm.readEarly(tokens: [], layers: [3]) }
    await #expect(throws: ModelError.self) { _ = try await lm.readEarly(tokens: [1, 2, 3], layers: [lm.layerCount]) }
    await #expect(throws: ModelError.self) { _ = try await lm.readEarly(tokens: [1, 2, 3], layers: [-1]) }
    await #expect(throws: ModelError.self) { _ = try await lm.readEarly(tokens: [1, 2, 3], layers: []) }
    await #expect(throws: ModelError.self) { _ = try await lm.readEarly(tokens: [1, -5], layers: [0]) }
  }
}
