import Foundation
import TomeBench
import TomeKit
import TomeTestSupport
import Testing

/// The LongEmbed synthetic tasks (Zhu et al. 2024; METHODS-INDEX-KV.md §1, "regeneration spec"),
/// scaled to this machine: passkey and needle retrieval at several lengths, Acc@1 of each
/// long-input mode. The generator and scorer live in TomeKit (`LongEmbedTask`,
/// `LongEmbedEvaluation`; `tome bench longembed` runs the same). Env-gated:
/// `TOME_BENCH=1 swift test -c release --filter LongEmbedBenchmark`.
/// Knobs: `TOME_LONGEMBED_DOCS` (candidates = queries per length, default 20),
/// `TOME_LONGEMBED_LENGTHS` (tokens, default "256,512,1024,2048,4096").
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOME_BENCH"] == "1"))
struct LongEmbedBenchmark {
  @Test("passkey and needle Acc@1: truncate vs parallel windows vs position interpolation")
  func longEmbed() throws {
    let env = ProcessInfo.processInfo.environment
    let count = Int(env["TOME_LONGEMBED_DOCS"] ?? "") ?? 20
    let lengths = (env["TOME_LONGEMBED_LENGTHS"] ?? "256,512,1024,2048,4096").split(separator: ",").compactMap { Int($0) }
    let evaluation = try LongEmbedEvaluation(models: ModelDirectory(url: SharedData.models))
    let essayWords = try LongEmbedTask.essayWords(folder: SharedData.data("paul_graham_essays/essays"))
    let modes = LongEmbedMode.allCases
    print("LongEmbed synthetic tasks: \(count) candidate documents and \(count) queries per length; Acc@1 (%)")
    print("task     length  tokens(mean)  " + modes.map { $0.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0) }.joined())
    for kind in LongEmbedTask.Kind.allCases {
      var sums = [Double](repeating: 0, count: modes.count)
      for length in lengths {
        let task =
          kind == .passkey
          ? LongEmbedTask.passkey(length: length, count: count, seed: UInt64(length))
          : LongEmbedTask.needle(length: length, count: count, essays: essayWords, seed: UInt64(length) + 1)
        var row = String(format: "%-7@  %6d  %12d  ", kind.rawValue as NSString, length, evaluation.meanTokens(task))
        for (m, mode) in modes.enumerated() {
          let result = try evaluation.evaluate(task, mode: mode)
          sums[m] += result.accuracyAt1
          row += String(format: "%5.1f  (%6.1f s)      ", 100 * result.accuracyAt1, result.seconds)
        }
        print(row)
      }
      print(
        String(format: "%-7@  mean                  ", kind.rawValue as NSString)
          + sums.map { String(format: "%5.1f                 ", 100 * $0 / Double(lengths.count)) }.joined())
    }
  }
}
