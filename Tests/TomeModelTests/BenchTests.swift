import Foundation
import Testing
import TomeModel

#if canImport(Glibc)
import Glibc
#endif

/// Speed of prompt processing (2,000 tokens) and generation (128 tokens) on 2 cores.
/// Run with `TOME_BENCH=1 swift test -c release --filter BenchTests`.
@Suite("Bench", .enabled(if: ProcessInfo.processInfo.environment["TOME_BENCH"] != nil))
struct BenchTests {
  @Test("pp2000 and tg128")
  func bench() throws {
    let path = try Fixtures.requireModelPath()
    let t0 = Date()
    let model = try LlamaModel(path: path)
    let load = Date().timeIntervalSince(t0)
    var prompt: [Int] = []
    let text = "Tome answers questions over document collections with a local model, and cites the lines it used. "
    let ids = model.tokenizer.encode(text)
    while prompt.count < 2000 { prompt += ids }
    prompt = Array(prompt.prefix(2000))

    let context = model.makeContext()
    let t1 = Date()
    let c1 = cpuSeconds()
    var logits = try context.evaluate(prompt)
    let pp = Date().timeIntervalSince(t1)
    let ppCPU = cpuSeconds() - c1

    let gen = model.makeContext()
    logits = try gen.evaluate([prompt[0]])
    let t2 = Date()
    let c2 = cpuSeconds()
    for _ in 0..<128 {
      var best = 0
      for i in logits.indices where logits[i] > logits[best] { best = i }
      logits = try gen.evaluate([best])
    }
    let tg = Date().timeIntervalSince(t2)
    let tgCPU = cpuSeconds() - c2

    let deep = model.makeContext()
    _ = try deep.evaluate(Array(prompt.prefix(1000)), logits: .none)
    let t3 = Date()
    logits = try deep.evaluate([prompt[1000]])
    for _ in 0..<32 { logits = try deep.evaluate([argmax(logits)]) }
    let tgDeep = Date().timeIntervalSince(t3)

    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let loadavg = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    print(String(format: "[bench] load %.3f s; pp2000 %.1f tok/s (%.2f CPU-s); tg128 %.1f tok/s (%.1f CPU-ms/token); tg33@1000 %.1f tok/s; peak RSS %.0f MB; loadavg %@",
      load, 2000 / pp, ppCPU, 128 / tg, tgCPU / 128 * 1000, 33 / tgDeep, Double(usage.ru_maxrss) / 1024, loadavg))
  }
}
