import Foundation
import Testing
import TomeCore
import TomeKit
@testable import TomeReasoning
import TomeTestSupport

/// The attention second opinion of `EvidenceSelector` on the real SmolLM2 and encoder.
@Suite(.serialized) struct EvidenceAttentionTests {
  static let passages = [
    "The ferry to Quillport leaves from pier four. The last ferry of the day leaves at 22:40, later in summer.",
    "The harbour master keeps the tide tables in a green ledger. Tides in the bay rise by four metres.",
    "Quillport's lighthouse was built in 1851 and automated in 1977. Its lamp is visible for twenty miles.",
  ].enumerated().map { i, text in
    Passage(id: ChunkID(Int64(i + 1)), text: text, span: SourceSpan(path: "q\(i).txt", firstLine: 1, lastLine: 1, page: nil, byteRange: 0..<0), score: 0)
  }

  @Test("attention reorders the encoder's sentences (same sentences, encoder scores kept); nothing changes without an in-process model")
  func secondOpinion() throws {
    let models = ModelDirectory(url: SharedData.models)
    let embedder = try models.loadEncoder().embedder
    let model = try models.loadChatModel()
    let question = "When does the last ferry leave?"
    let plain = try EvidenceSelector(embedder: embedder, configuration: .init(count: 10)).rank(question: question, passages: Self.passages)
    let withAttention = try EvidenceSelector(
      embedder: embedder, configuration: .init(count: 10, attention: .init(layer: 8)), model: model
    ).rank(question: question, passages: Self.passages)
    #expect(Set(withAttention.map(\.text)) == Set(plain.map(\.text)) && withAttention.count == plain.count)
    let encoderScores = Dictionary(uniqueKeysWithValues: plain.map { ($0.text, $0.score) })
    #expect(withAttention.allSatisfy { encoderScores[$0.text] == $0.score })
    #expect(withAttention.first?.text.contains("22:40") == true, "\(withAttention.map(\.text))")

    // An endpoint offers no attention: the encoder's order, unchanged.
    let endpoint = ScriptedChatModel(identifier: "http-endpoint", [])
    let fallback = try EvidenceSelector(
      embedder: embedder, configuration: .init(count: 10, attention: .init()), model: endpoint
    ).rank(question: question, passages: Self.passages)
    #expect(fallback == plain)
  }
}
