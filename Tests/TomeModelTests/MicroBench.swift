import Foundation
import Testing
import TomeLinalg
import TomeModel

#if canImport(Glibc)
import Glibc
#endif

/// Process CPU seconds (less sensitive than wall time to other jobs on the machine).
func cpuSeconds() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

@Suite("Micro", .enabled(if: ProcessInfo.processInfo.environment["TOME_MICRO"] != nil))
struct MicroBench {
  @Test func prefillBatch() throws {
    let model = try Fixtures.model()
    let prompt = (0..<2000).map { 100 + ($0 * 37) % 20000 }
    for bs in [512, 1024] {
      let c = model.makeContext()
      c.batchSize = bs
      let t = Date()
      _ = try c.evaluate(prompt, logits: .none)
      print("[micro] pp2000 batch \(bs): \(String(format: "%.1f", 2000 / Date().timeIntervalSince(t))) tok/s \(c.prefillTimings)")
    }
  }

  @Test func kernels() throws {
    let model = try Fixtures.model()
    let w = model.weights
    let x = UnsafeMutablePointer<Float>.allocate(capacity: 4096)
    let y = UnsafeMutablePointer<Float>.allocate(capacity: 50000)
    for i in 0..<4096 { x[i] = Float(i % 7) * 0.1 - 0.3 }
    func time(_ label: String, _ reps: Int, _ body: () -> Void) {
      body()
      let t = Date()
      let c = cpuSeconds()
      for _ in 0..<reps { body() }
      let dt = Date().timeIntervalSince(t) / Double(reps)
      let dc = (cpuSeconds() - c) / Double(reps)
      print("[micro] \(label): wall \(String(format: "%.1f", dt * 1e6)) µs, cpu \(String(format: "%.1f", dc * 1e6)) µs")
    }
    let up = w.layers[0].up
    let act = Q8Activation(capacity: 4096)
    act.prepare(x, count: 576)
    time("q4_1 1536x576 float 1 thread", 300) { up.multiply(x, into: y, rows: 0..<up.rows) }
    time("q4_1 1536x576 int16 1 thread", 300) { up.multiply(act, into: y, rows: 0..<up.rows) }
    let head = w.outputHead
    time("q8_0 49152x576 int16 1 thread", 10) { head.multiply(act, into: y, rows: 0..<head.rows) }
    time("concurrentPerform(8) empty", 1000) { Parallel.forEach(pieces: 8) { _ in } }
    let T = 1000
    let keys = UnsafeMutablePointer<Float16>.allocate(capacity: T * 192)
    for i in 0..<(T * 192) { keys[i] = Float16(Float(i % 13) * 0.01) }
    let sc = UnsafeMutablePointer<Float>.allocate(capacity: 9 * T)
    time("attention scores T=1000, 3 groups", 100) {
      for g in 0..<3 {
        AttentionKernels.scores(queries: x + g * 192, group: 3, keys: keys + g * 64, stride: 192, positions: 0..<T, scale: 0.125, into: sc + g * 3 * T, scoreStride: T)
      }
    }
    time("softmax 9×1000", 100) { for h in 0..<9 { VectorMath.softmax(sc + h * T, count: T) } }
    time("roundToHalf 9×1000", 100) { Quantized.roundToHalf(sc, count: 9 * T) }
    time("weightedSum T=1000, 12 pieces", 100) {
      for p in 0..<12 {
        AttentionKernels.weightedSum(weights: sc + (p / 4) * 3 * T, weightStride: T, group: 3, values: keys + (p / 4) * 64, stride: 192, length: T, chunk: p % 4, into: y + (p / 4) * 192)
      }
    }
    for depth in [10, 1000] {
      for pieces in [1, 8] {
        let c = model.makeContext()
        c.pieces = pieces
        _ = try c.evaluate(Array(repeating: 100, count: depth))
        c.decodeAttentionSeconds = 0
        time("decode step at \(depth), pieces \(pieces)", 20) { _ = try? c.evaluate([100]) }
        print("[micro]   attention \(c.decodeAttentionSeconds / 21 * 1e6) µs per token")
      }
    }
  }
}

@Suite("MicroTokenizer", .enabled(if: ProcessInfo.processInfo.environment["TOME_MICRO"] != nil))
struct MicroTokenizer {
  @Test func encodeSpeed() throws {
    let tok = try Fixtures.model().tokenizer
    let para = "Tome answers questions over document collections of millions of tokens on one 2-core machine, with a local model, and cites the exact lines it used. Ingest: 1,234 files in 5.6 s — naïve café 東京.\n\n"
    let text = String(repeating: para, count: 5000)
    let t = Date()
    let n = tok.encode(text).count
    let dt = Date().timeIntervalSince(t)
    print("[micro] tokenizer: \(text.utf8.count) bytes → \(n) tokens in \(String(format: "%.3f", dt)) s (\(String(format: "%.1f", Double(text.utf8.count) / dt / 1e6)) MB/s)")
  }
}

/// Decoding alone (no prompt pass), for profiling: `TOME_DECODE=256 perf record … --filter MicroDecode`;
/// `TOME_WORKER_TEAM=0` decodes on Dispatch instead of the spinning `WorkerTeam`.
@Suite("MicroDecode", .enabled(if: ProcessInfo.processInfo.environment["TOME_DECODE"] != nil))
struct MicroDecode {
  @Test func decode() throws {
    let model = try Fixtures.model()
    let steps = Int(ProcessInfo.processInfo.environment["TOME_DECODE"] ?? "") ?? 256
    let c = model.makeContext()
    c.usesWorkerTeam = ProcessInfo.processInfo.environment["TOME_WORKER_TEAM"] != "0"
    var logits = try c.evaluate([1])
    let t = Date()
    let cpu = cpuSeconds()
    for _ in 0..<steps { logits = try c.evaluate([argmax(logits)]) }
    let dt = Date().timeIntervalSince(t)
    print(String(format: "[micro] decode %d tokens: %.1f tok/s, %.2f CPU-ms/token", steps, Double(steps) / dt, (cpuSeconds() - cpu) / Double(steps) * 1000))
  }
}

/// Parity probe: top-10 |Δlogit| against the golden llama.cpp logits for batched prefill and
/// for token-by-token decoding (`TOME_PARITY=1`).
@Suite("MicroParity", .enabled(if: ProcessInfo.processInfo.environment["TOME_PARITY"] != nil))
struct MicroParity {
  @Test func parity() throws {
    let model = try Fixtures.model()
    for g in try Fixtures.golden().logits {
      let a = model.makeContext()
      let batched = try a.evaluate(g.ids)
      let b = model.makeContext()
      var stepped: [Float] = []
      for t in g.ids { stepped = try b.evaluate([t]) }
      let pb = g.top10.map { abs(batched[$0.id] - $0.logit) }.max() ?? 0
      let ps = g.top10.map { abs(stepped[$0.id] - $0.logit) }.max() ?? 0
      let meanB = g.top10.map { abs(batched[$0.id] - $0.logit) }.reduce(0, +) / 10
      let meanS = g.top10.map { abs(stepped[$0.id] - $0.logit) }.reduce(0, +) / 10
      print(String(format: "[parity] %@: prefill max %.4f mean|Δ| %.4f; decode max %.4f mean|Δ| %.4f", g.name, pb, meanB, ps, meanS))
    }
  }
}
