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
  @Test("layer sweep: evidence sentence top-1 on SQuAD, 3 passages per question")
  func sweep() throws {
    let env = ProcessInfo.processInfo.environment
    let n = Int(env["TOME_ATTEND_SWEEP_N"] ?? "") ?? 160
    let models = ModelDirectory(url: SharedData.models)
    let embedder = try models.loadEncoder().embedder
    let probe = try #require(try AttentionProbe.make(try models.loadChatModel()))
    let last = probe.layerCount - 1
    let layers = [8, 12, 15, 18, 21, 24, 27, last].filter { $0 <= last }.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
    let sample = try SquadSample(questions: n, embedder: embedder)

    var encoderHits = 0, goldPresent = 0, tokens = 0
    var raw = [Int: Int](), corrected = [Int: Int](), fused = [Int: Int]()
    let started = ContinuousClock.now
    for (q, item) in sample.items.enumerated() {
      let sentences = item.passages.flatMap(AttendStrategy.Sentence.of)
      let isGold = sentences.map { item.isGold($0.text) }
      if isGold.contains(true) { goldPresent += 1 }
      func hit(_ scores: [Double]) -> Bool {
        guard let best = scores.indices.max(by: { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }) else { return false }
        return isGold[best]
      }
      let query = try embedder.embed(query: item.question)
      let matrix = try embedder.embed(passages: sentences.map(\.text))
      let cosines = sentences.indices.map { Similarity.cosine(query, matrix[row: $0]) }
      if hit(cosines) { encoderHits += 1 }
      let pieces = AttendStrategy.pieces(sentences, tokenize: probe.tokens)
      for layer in layers {
        let reading = try probe.read(pieces: pieces, question: item.question, layer: layer)
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
      if (q + 1) % 20 == 0 || q + 1 == sample.items.count {
        let seconds = (ContinuousClock.now - started).components.seconds
        print("sweep \(q + 1)/\(sample.items.count) (\(Int(seconds)) s, \(tokens) tokens): encoder \(encoderHits), gold present \(goldPresent)")
        print("| layer | raw | sink-corrected | rank-sum (encoder + layer) |")
        print("|---|---|---|---|")
        for layer in layers {
          print("| \(layer) | \(raw[layer, default: 0]) | \(corrected[layer, default: 0]) | \(fused[layer, default: 0]) |")
        }
      }
    }
  }
}
