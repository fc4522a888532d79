import Foundation
import TomeCore
import TomeEmbed
import Testing

/// One encoder for the whole test process (loading converts 90 MB of weights).
enum SharedEncoder {
  static let result: Result<BERTEncoder, any Error> = Result {
    try BERTEncoder(modelDirectory: Model.requireDirectory())
  }
  static func get() throws -> BERTEncoder { try result.get() }
}

func cosine(_ a: [Float], _ b: [Double]) -> Double {
  var dot = 0.0, na = 0.0, nb = 0.0
  for i in 0..<a.count {
    dot += Double(a[i]) * b[i]
    na += Double(a[i]) * Double(a[i])
    nb += b[i] * b[i]
  }
  return dot / (na.squareRoot() * nb.squareRoot())
}

@Suite struct BERTEncoderTests {
  @Test("identifier and dimension")
  func identity() throws {
    let encoder = try SharedEncoder.get()
    #expect(encoder.identifier == "all-MiniLM-L6-v2/mean/v1")
    #expect(encoder.dimension == 384)
    #expect(encoder.tokenizer.identifier == "wordpiece:all-MiniLM-L6-v2")
  }

  @Test("vectors match the float64 reference (cosine ≥ 0.9999), batched")
  func golden() throws {
    let encoder = try SharedEncoder.get()
    let cases = try Golden.cases()
    // The golden forward saw at most 512 positions, so compare in truncate mode.
    let matrix = try encoder.embed(passages: cases.map(\.text), mode: .truncate)
    #expect(matrix.count == cases.count)
    for (i, golden) in cases.enumerated() {
      let c = cosine(Array(matrix[row: i]), golden.embedding)
      #expect(c >= 0.9999, "case \(i) \(golden.text.prefix(30)): cosine \(c)")
    }
  }

  @Test("one text at a time equals the batch, and query equals passage")
  func batchIndependence() throws {
    let encoder = try SharedEncoder.get()
    let texts = try Golden.cases().prefix(6).map(\.text)
    let batch = try encoder.embed(passages: texts)
    for (i, text) in texts.enumerated() {
      let single = try encoder.embed(passages: [text])
      #expect(cosine(Array(single[row: 0]), batch[row: i].map(Double.init)) > 0.999999)
    }
    let query = try encoder.embed(query: texts[0])
    #expect(query == Array(try encoder.embed(passages: [texts[0]])[row: 0]))
  }

  @Test("an empty batch gives an empty matrix")
  func emptyBatch() throws {
    let encoder = try SharedEncoder.get()
    let m = try encoder.embed(passages: [])
    #expect(m.count == 0 && m.dimension == 384)
  }

  @Test("rows are unit length")
  func unitLength() throws {
    let encoder = try SharedEncoder.get()
    let m = try encoder.embed(passages: ["a", "", "hello world"])
    for i in 0..<m.count {
      let n = m[row: i].reduce(0) { $0 + $1 * $1 }
      #expect(abs(n - 1) < 1e-5)
    }
  }
}
