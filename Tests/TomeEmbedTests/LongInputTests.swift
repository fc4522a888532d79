import Foundation
import TomeCore
import TomeEmbed
import TomeTestSupport
import Testing

/// A long real text: the first essays of the Paul Graham set, concatenated.
func essayText(minimumTokens: Int, tokenizer: WordPieceTokenizer) throws -> [Int32] {
  let folder = SharedData.data("paul_graham_essays/essays")
  let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
  var ids: [Int32] = []
  for name in names where ids.count < minimumTokens {
    ids += tokenizer.tokenize(try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))
  }
  return Array(ids.prefix(minimumTokens))
}

@Suite struct LongInputTests {
  @Test("inputs of at most 512 tokens are bit-identical in every mode")
  func shortInputsIdentical() throws {
    let encoder = try SharedEncoder.get()
    let ids = try essayText(minimumTokens: 600, tokenizer: encoder.tokenizer)
    let texts: [[Int32]] = [Array(ids.prefix(510)), Array(ids.prefix(379)), Array(ids.prefix(17)), []]
    let reference = try encoder.embed(tokenIDs: texts, mode: .truncate)
    for mode in LongInputMode.allCases {
      #expect(try encoder.embed(tokenIDs: texts, mode: mode) == reference, "mode \(mode)")
    }
    let golden = try Golden.cases()[14].text
    let fromText = try LongInputMode.allCases.map { try encoder.embed(passages: [golden], mode: $0) }
    #expect(fromText.allSatisfy { $0 == fromText[0] })
  }

  @Test("parallel windows: mean of un-normalised 510-token windows, last window = final 510 tokens")
  func parallelWindows() throws {
    let encoder = try SharedEncoder.get()
    let tokenizer = encoder.tokenizer
    let ids = try essayText(minimumTokens: 1_234, tokenizer: tokenizer)
    let wrap = { (s: ArraySlice<Int32>) in [tokenizer.classifierID] + s + [tokenizer.separatorID] }
    let windows = [wrap(ids[0..<510]), wrap(ids[510..<1020]), wrap(ids[(1_234 - 510)..<1_234])]
    let pooled = encoder.pooledEmbeddings(sequences: windows)
    var expected = [Float](repeating: 0, count: 384)
    for w in 0..<3 { for j in 0..<384 { expected[j] += pooled[row: w][w * 384 + j] / 3 } }
    let norm = expected.reduce(0) { $0 + $1 * $1 }.squareRoot()
    expected = expected.map { $0 / norm }
    let got = try encoder.embed(tokenIDs: [ids], mode: .parallelWindows)
    let difference = zip(got.values, expected).map { abs($0 - $1) }.max() ?? 1
    #expect(difference < 1e-6)
    let truncated = try encoder.embed(tokenIDs: [ids], mode: .truncate)
    #expect(truncated.values != got.values)
  }

  @Test("position interpolation gives a finite unit vector close to, not equal to, truncation")
  func interpolation() throws {
    let encoder = try SharedEncoder.get()
    let ids = try essayText(minimumTokens: 1_100, tokenizer: encoder.tokenizer)
    let pi = try encoder.embed(tokenIDs: [ids], mode: .positionInterpolation)
    let truncated = try encoder.embed(tokenIDs: [ids], mode: .truncate)
    #expect(pi.values.allSatisfy { $0.isFinite })
    let norm = pi.values.reduce(0) { $0 + $1 * $1 }
    #expect(abs(norm - 1) < 1e-5)
    let c = cosine(pi.values, truncated.values.map(Double.init))
    #expect(c > 0.7 && c < 0.99999, "cosine \(c)")
  }

  @Test("queries are truncated, never split")
  func queriesTruncate() throws {
    let encoder = try SharedEncoder.get()
    let text = try Golden.cases()[15].text  // 530 tokens
    let query = try encoder.embed(query: text)
    #expect(query == Array(try encoder.embed(passages: [text], mode: .truncate).values))
  }

  @Test("a cancelled check stops encoding")
  func cancellation() throws {
    let encoder = try SharedEncoder.get()
    #expect(throws: CancellationError.self) {
      try encoder.embed(passages: ["a", "b"], mode: .truncate) { throw CancellationError() }
    }
  }
}
