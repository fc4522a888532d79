import Foundation
import TomeCore
import TomeEmbed
import TomeLinalg
import TomeTestSupport
import Testing

/// Wall-clock seconds of `body`.
func seconds(_ body: () throws -> Void) rethrows -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Best GFLOP/s of a square-ish encoder-shaped sgemm on the current BLAS thread count.
func sgemmPeak(m: Int, n: Int, k: Int, repeats: Int = 5) -> Double {
  let a = [Float](repeating: 0.5, count: m * k)
  let b = [Float](repeating: 0.25, count: n * k)
  var c = [Float](repeating: 0, count: m * n)
  var best = Double.infinity
  for _ in 0..<repeats {
    let t = a.withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        c.withUnsafeMutableBufferPointer { cp in
          seconds {
            BLAS.sgemm(.none, .transposed, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k, c: cp.baseAddress!, ldc: n)
          }
        }
      }
    }
    best = min(best, t)
  }
  return 2 * Double(m * n * k) / best / 1e9
}

/// Env-gated throughput benchmark (`TOME_BENCH=1 swift test -c release --filter EncoderBenchmark`).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOME_BENCH"] == "1"))
struct EncoderBenchmark {
  /// 256-token chunks ([CLS] + 254 + [SEP]) of real essay text.
  func chunks(_ count: Int, tokenizer: WordPieceTokenizer) throws -> [[Int32]] {
    let ids = try essayText(minimumTokens: count * 254, tokenizer: tokenizer)
    return (0..<count).map { Array(ids[($0 * 254)..<(($0 + 1) * 254)]) }
  }

  @Test("encoder throughput on 256-token chunks vs the sgemm peak")
  func throughput() throws {
    let directory = try Model.requireDirectory()
    let tokenizer = try Model.tokenizer()
    let batch = try chunks(64, tokenizer: tokenizer)
    let flopsPerChunk = 6.04e9
    /// The 2-thread sgemm peak on the encoder's two largest shapes, measured now.
    func peak() -> Double {
      BLAS.withThreadCount(2) { max(sgemmPeak(m: 4096, n: 1536, k: 384, repeats: 3), sgemmPeak(m: 4096, n: 384, k: 1536, repeats: 3)) }
    }
    // Environment knobs for experiments: TOME_BENCH_THREADS="2,1", TOME_BENCH_BATCH="2048,4096".
    let env = ProcessInfo.processInfo.environment
    let threadOptions = (env["TOME_BENCH_THREADS"] ?? "2,1").split(separator: ",").compactMap { Int($0) }
    let batchOptions = (env["TOME_BENCH_BATCH"] ?? "2048,4096,8192").split(separator: ",").compactMap { Int($0) }
    print("64 chunks of 256 tokens (Paul Graham essays); best of 2 runs; 6.04 GFLOP per chunk")
    print("peak = 2-thread cblas_sgemm (4096×1536×384, 4096×384×1536), measured before and after each row")
    print("threads  tokens/batch  chunks/s  tokens/s  GFLOP/s  peak GFLOP/s  % of peak")
    for threads in threadOptions {
      for tokensPerBatch in batchOptions {
        let encoder = try BERTEncoder(
          modelDirectory: directory, configuration: .init(tokensPerBatch: tokensPerBatch, threads: threads))
        _ = try encoder.embed(tokenIDs: Array(batch.prefix(8)), mode: .truncate)  // warm-up
        let before = peak()
        var best = Double.infinity
        for _ in 0..<2 {
          best = min(best, try seconds { _ = try encoder.embed(tokenIDs: batch, mode: .truncate) })
        }
        let reference = (before + peak()) / 2
        let chunksPerSecond = Double(batch.count) / best
        let gflops = chunksPerSecond * flopsPerChunk / 1e9
        print(
          String(
            format: "%7d  %12d  %8.1f  %8.0f  %7.1f  %12.1f  %8.1f%%", threads, tokensPerBatch, chunksPerSecond,
            chunksPerSecond * 256, gflops, reference, 100 * gflops / reference))
      }
    }
  }

  @Test("element-wise kernels: ns per element")
  func kernels() {
    let n = 1 << 22
    var x = [Float](repeating: 0, count: n)
    func reset() { for i in 0..<n { x[i] = Float(i % 1000) * 0.01 - 5 } }
    func report(_ name: String, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
      reset()
      let t = x.withUnsafeMutableBufferPointer { buffer in seconds { body(buffer) } }
      print(String(format: "%-28@ %6.2f ns/element", name as NSString, t / Double(n) * 1e9))
    }
    report("exp (SIMD16 polynomial)") { Activations.exp($0) }
    report("erf (SIMD16 rational)") { Activations.erf($0) }
    report("softmax rows of 256") { Activations.softmaxRows($0.baseAddress!, rows: n / 256, count: 256, stride: 256, scale: 0.18) }
    let bias = [Float](repeating: 0.1, count: 1024)
    report("bias + GELU") { b in bias.withUnsafeBufferPointer { Activations.biasGELU(b, bias: $0) } }
    report("glibc expf (scalar)") { b in for i in 0..<b.count { b[i] = Foundation.expf(b[i]) } }
    report("glibc erff (scalar)") { b in for i in 0..<b.count { b[i] = Foundation.erff(b[i]) } }
  }

  @Test("WordPiece tokenizer throughput on the essay corpus")
  func tokenizer() throws {
    let tokenizer = try Model.tokenizer()
    let folder = SharedData.data("paul_graham_essays/essays")
    let texts = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map {
      try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)
    }
    var tokens = 0
    let t = seconds { for text in texts { tokens += tokenizer.tokenCount(text) } }
    let bytes = texts.reduce(0) { $0 + $1.utf8.count }
    print(String(format: "tokenizer: %d tokens from %.1f MB in %.3f s = %.2f M tokens/s", tokens, Double(bytes) / 1e6, t, Double(tokens) / t / 1e6))
  }
}
