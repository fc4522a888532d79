import Foundation
import Testing
import TomeCore
import TomeKit
@testable import TomeReasoning
import TomeTestSupport

/// Evidence sentences with and without the attention second opinion (env-gated):
/// `TOME_EVIDENCE_BENCH=1`, `TOME_EVIDENCE_BENCH_N` questions (default 160) of the SQuAD dev
/// half, 3 passages each (`SquadSample`), `TOME_EVIDENCE_BENCH_LAYERS` (default "8,18").
/// Prints evidence top-1 and top-2 (a gold answer in the best one or two sentences) for the
/// encoder alone (`EvidenceSelector` as shipped) and with attention at each layer, and the
/// seconds the attention pass adds per question.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOME_EVIDENCE_BENCH"] == "1"))
struct EvidenceAttentionBench {
  @Test("evidence top-1/top-2 on SQuAD with and without attention")
  func bench() throws {
    let env = ProcessInfo.processInfo.environment
    let n = Int(env["TOME_EVIDENCE_BENCH_N"] ?? "") ?? 160
    let layers = (env["TOME_EVIDENCE_BENCH_LAYERS"] ?? "8,18").split(separator: ",").compactMap { Int($0) }
    let models = ModelDirectory(url: SharedData.models)
    let embedder = try models.loadEncoder().embedder
    let model = try models.loadChatModel()
    let sample = try SquadSample(questions: n, embedder: embedder)

    let plain = EvidenceSelector(embedder: embedder, configuration: .init(count: 2))
    var top1 = [String: Int](), top2 = [String: Int](), seconds = [String: Double]()
    var present = 0
    for (q, item) in sample.items.enumerated() {
      if item.passages.contains(where: { item.isGold($0.text) }) { present += 1 }
      var runs: [(String, EvidenceSelector)] = [("encoder", plain)]
      for layer in layers {
        runs.append(("attention layer \(layer)", EvidenceSelector(embedder: embedder, configuration: .init(count: 2, attention: .init(layer: layer)), model: model)))
      }
      for (name, selector) in runs {
        let start = ContinuousClock.now
        let picked = try selector.select(question: item.question, passages: item.passages)
        let elapsed = ContinuousClock.now - start
        seconds[name, default: 0] += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        if let first = picked.first, item.isGold(first.text) { top1[name, default: 0] += 1 }
        if picked.prefix(2).contains(where: { item.isGold($0.text) }) { top2[name, default: 0] += 1 }
      }
      if (q + 1) % 20 == 0 || q + 1 == sample.items.count {
        print("evidence \(q + 1)/\(sample.items.count), gold in the passages for \(present)")
        print("| evidence | top-1 | top-2 | s/question |")
        print("|---|---|---|---|")
        for name in ["encoder"] + layers.map({ "attention layer \($0)" }) {
          print(String(format: "| %@ | %d | %d | %.2f |", name, top1[name, default: 0], top2[name, default: 0], seconds[name, default: 0] / Double(q + 1)))
        }
      }
    }
  }
}
