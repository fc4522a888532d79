import Foundation
import TomeCore
import TomeKit
@testable import TomeReasoning
import TomeTestSupport

/// Questions of the SQuAD dev half for the env-gated sweeps: every stride-th question, each
/// with the 3 paragraphs of its own article closest to it by the encoder, as passages.
struct SquadSample {
  struct File: Decodable {
    struct Article: Decodable { var paragraphs: [Paragraph] }
    struct Paragraph: Decodable {
      var context: String
      var qas: [QA]
    }
    struct QA: Decodable {
      struct Text: Decodable { var text: String }
      var question: String
      var answers: [Text]
    }
    var data: [Article]
  }

  struct Item {
    var question: String
    var passages: [Passage]
    /// Normalised gold answers.
    var gold: [String]

    /// True when `text` holds a gold answer.
    func isGold(_ text: String) -> Bool { gold.contains { AnswerScoring.normalize(text).contains($0) } }
  }

  var items: [Item] = []

  init(questions n: Int, embedder: any TextEmbedder) throws {
    let url = SharedData.data("squad-dev-half/squad-dev-v1.1-articles-00-23.json")
    let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    var all: [(article: Int, qa: File.QA)] = []
    for (a, article) in file.data.enumerated() {
      for paragraph in article.paragraphs { for qa in paragraph.qas { all.append((a, qa)) } }
    }
    let stride = max(1, all.count / n)
    var vectors: [Int: EmbeddingMatrix] = [:]
    for index in Swift.stride(from: 0, to: all.count, by: stride).prefix(n) {
      let (article, qa) = all[index]
      let paragraphs = file.data[article].paragraphs
      if vectors[article] == nil { vectors[article] = try embedder.embed(passages: paragraphs.map(\.context)) }
      let matrix = vectors[article]!
      let query = try embedder.embed(query: qa.question)
      let cosine = paragraphs.indices.map { Similarity.cosine(query, matrix[row: $0]) }
      let top = paragraphs.indices.sorted { cosine[$0] > cosine[$1] }.prefix(3).sorted()
      let passages = top.map { p in
        Passage(
          id: ChunkID(Int64(p)), text: paragraphs[p].context,
          span: SourceSpan(path: "a\(article)", firstLine: 1, lastLine: 1, page: nil, byteRange: 0..<0), score: 0)
      }
      items.append(Item(question: qa.question, passages: passages, gold: qa.answers.map { AnswerScoring.normalize($0.text) }))
    }
  }
}
