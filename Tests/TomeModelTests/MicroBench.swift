import Foundation
import Testing
import TomeLinalg
import TomeModel

@Suite("Micro", .enabled(if: ProcessInfo.processInfo.environment["TOME_MICRO"] != nil))
struct MicroBench {
  @Test func prefillBatch() throws {
    let model = try Fixtures.model()
    let prompt = (0..<2000).map { 100 + ($0 * 37) % 20000 }
    for bs in [512, 1024, 2048, 512] {
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
      for _ in 0..<reps { body() }
      let dt = Date().timeIntervalSince(t) / Double(reps)
      print("[micro] \(label): \(String(format: "%.1f", dt * 1e6)) µs")
    }
    let up = w.layers[0].up
    time("q4_1 1536x576 1 thread", 200) { up.multiply(x, into: y, rows: 0..<up.rows) }
    time("q4_1 1536x576 8 pieces", 200) { up.multiply(x, into: y, pieces: 8) }
    let act = Q8Activation(capacity: 4096)
    act.prepare(x, count: 576)
    time("q4_1 1536x576 int16 1 thread", 200) { up.multiply(act, into: y, rows: 0..<up.rows) }
    let head = w.outputHead
    time("q8_0 49152x576 int16 1 thread", 10) { head.multiply(act, into: y, rows: 0..<head.rows) }
    time("q8_0 49152x576 1 thread", 10) { head.multiply(x, into: y, rows: 0..<head.rows) }
    time("q8_0 49152x576 16 pieces", 10) { head.multiply(x, into: y, pieces: 16) }
    time("concurrentPerform(8) empty", 1000) { Parallel.forEach(pieces: 8) { _ in } }
    time("all layer matvecs 1 thread", 5) {
      for l in w.layers {
        for m in [l.query, l.key, l.value, l.output, l.gate, l.up, l.down] {
          m.multiply(x, into: y, rows: 0..<m.rows)
        }
      }
    }
    let c1 = model.makeContext()
    c1.pieces = 1
    _ = try c1.evaluate(Array(repeating: 100, count: 10))
    time("decode step at 10, pieces 1", 10) { _ = try? c1.evaluate([100]) }
    let c = model.makeContext()
    _ = try c.evaluate(Array(repeating: 100, count: 10))
    time("decode step at 10", 20) { _ = try? c.evaluate([100]) }
  }
}
