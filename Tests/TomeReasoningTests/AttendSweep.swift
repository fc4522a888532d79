import Foundation
import Testing
import TomeCore
import TomeKit
@testable import TomeReasoning
import TomeTestSupport

/// `attend`'s layer sweep (env-gated): `TOME_ATTEND_SWEEP=1`, `TOME_ATTEND_SWEEP_N` questions
/// (default 160, every stride-th of the SQuAD dev half). Each question gets the 3 paragraphs
/// of its own article closest to it by the encoder; the score is evidence-sentence top-1: the
/// best sentence holds a gold answer. Prints a table of the encoder alone, raw and
/// sink-corrected attention at each layer, and rank-sum of the encoder with each layer.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOME_ATTEND_SWEEP"] == "1"))
struct AttendSweep {
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

  @Test("layer sweep: evidence sentence top-1 on SQuAD, 3 passages per question")
  func sweep() throws {
    let env = ProcessInfo.processInfo.environment
    let n = Int(env["TOME_ATTEND_SWEEP_N"] ?? "") ?? 160
    let url = SharedData.data("squad-dev-half/squad-dev-v1.1-articles-00-23.json")
    let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    let models = ModelDirectory(url: SharedData.models)
    let embedder = try models.loadEncoder().embedder
    let probe = try #require(try AttentionProbe.make(try models.loadChatModel()))
    let last = probe.layerCount - 1
    let layers = [8, 12, 15, 18, 21, 24, 27, last].filter { $0 <= last }.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }

    var all: [(article: Int, paragraph: Int, qa: File.QA)] = []
    for (a, article) in file.data.enumerated() {
      for (p, paragraph) in article.paragraphs.enumerated() { for qa in paragraph.qas { all.append((a, p, qa)) } }
    }
    let stride = max(1, all.count / n)
    let questions = Array(Swift.stride(from: 0, to: all.count, by: stride).prefix(n).map { all[$0] })

    var paragraphVectors: [Int: EmbeddingMatrix] = [:]
    var encoderHits = 0, goldPresent = 0, tokens = 0
    var raw = [Int: Int](), corrected = [Int: Int](), fused = [Int: Int]()
    let started = ContinuousClock.now
    for (q, item) in questions.enumerated() {
      let paragraphs = file.data[item.article].paragraphs
      if paragraphVectors[item.article] == nil {
        paragraphVectors[item.article] = try embedder.embed(passages: paragraphs.map(\.context))
      }
      let vectors = try #require(paragraphVectors[item.article])
      let query = try embedder.embed(query: item.qa.question)
      let top = paragraphs.indices.sorted { Similarity.cosine(query, vectors[row: $0]) > Similarity.cosine(query, vectors[row: $1]) }.prefix(3)
      var sentences: [AttendStrategy.Sentence] = []
      for p in top.sorted() {
        let passage = Passage(
          id: ChunkID(Int64(p)), text: paragraphs[p].context,
          span: SourceSpan(path: "a\(item.article)", firstLine: 1, lastLine: 1, page: nil, byteRange: 0..<0), score: 0)
        sentences += AttendStrategy.Sentence.of(passage)
      }
      let gold = item.qa.answers.map { AnswerScoring.normalize($0.text) }
      let isGold = sentences.map { s in gold.contains { AnswerScoring.normalize(s.text).contains($0) } }
      if isGold.contains(true) { goldPresent += 1 }
      func hit(_ scores: [Double]) -> Bool {
        guard let best = scores.indices.max(by: { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }) else { return false }
        return isGold[best]
      }
      let matrix = try embedder.embed(passages: sentences.map(\.text))
      let cosines = sentences.indices.map { Similarity.cosine(query, matrix[row: $0]) }
      if hit(cosines) { encoderHits += 1 }
      let pieces = AttendStrategy.pieces(sentences, tokenize: probe.tokens)
      for layer in layers {
        let reading = try probe.read(pieces: pieces, question: item.qa.question, layer: layer)
        tokens += reading.tokens
        let plain = AttendStrategy.questionAttention(questionRows: reading.questionRows, context: reading.context)
        let sink = AttendStrategy.sinkCorrected(
          questionRows: reading.questionRows, referenceRows: reading.referenceRows, context: reading.context, prior: 4)
        let rawScores = AttendStrategy.sentenceScores(tokenScores: plain, owners: reading.owners, count: sentences.count)
        let sinkScores = AttendStrategy.sentenceScores(tokenScores: sink, owners: reading.owners, count: sentences.count)
        if hit(rawScores) { raw[layer, default: 0] += 1 }
        if hit(sinkScores) { corrected[layer, default: 0] += 1 }
        if hit(AttendStrategy.rankSum(sinkScores, cosines)) { fused[layer, default: 0] += 1 }
      }
      if (q + 1) % 20 == 0 || q + 1 == questions.count {
        let seconds = (ContinuousClock.now - started).components.seconds
        print("sweep \(q + 1)/\(questions.count) (\(Int(seconds)) s, \(tokens) tokens): encoder \(encoderHits), gold present \(goldPresent)")
        print("| layer | raw | sink-corrected | rank-sum (encoder + layer) |")
        print("|---|---|---|---|")
        for layer in layers {
          print("| \(layer) | \(raw[layer, default: 0]) | \(corrected[layer, default: 0]) | \(fused[layer, default: 0]) |")
        }
      }
    }
  }
}
