import TomeLinalg

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a `LlamaModel` over one token sequence, keeping its KV cache.
///
/// Not `Sendable`: a context belongs to one task at a time. Prompt processing uses batched
/// `BLAS.sgemm` over dequantised weights; single-token decoding uses quantised mat-vec split
/// over the cores.
public final class LlamaContext {
  public let model: LlamaModel
  public let cache: KVCache
  /// Tokens whose keys and values are in the cache, in order.
  public internal(set) var tokens: [Int] = []
  /// Concurrent pieces for decode mat-vec (≥ 8 on 2 cores).
  public var pieces = 8
  /// Cached positions from which single-token attention is split across cores.
  package var attentionParallelThreshold = 64
  /// Prompt tokens processed per batched pass (bounds scratch memory).
  public var batchSize = 512
  /// How closely to follow llama.cpp's arithmetic.
  public enum Numerics: Sendable {
    /// Round where llama.cpp (CPU, F16 cache, no flash attention) rounds: activations to Q8
    /// before Q4/Q8 products (16-bit integer kernels, ≈1.6× faster decoding), queries and
    /// attention weights to f16 (the cache is f16 in both modes). Greedy continuations match llama.cpp's on the
    /// golden prompts; logits stay within ~0.4 (each rounding realisation moves them ~0.2).
    case llamaCpp
    /// Plain f32 activations (float kernels); the cache is still f16.
    case float32
  }
  /// Default `.llamaCpp`, so answers match the reference engine token for token.
  public var numerics: Numerics = .llamaCpp {
    didSet { rounding = numerics == .llamaCpp ? .llamaCpp : [] }
  }

  /// Which of llama.cpp's roundings to reproduce (set through `numerics`; separate for tests).
  package struct Rounding: OptionSet, Sendable {
    package let rawValue: Int
    package init(rawValue: Int) { self.rawValue = rawValue }
    /// Q8 activations before quantised products.
    package static let activations = Rounding(rawValue: 1)
    /// Queries as f16 before Q·K.
    package static let queries = Rounding(rawValue: 4)
    /// Attention weights as f16 before weighting values.
    package static let probabilities = Rounding(rawValue: 8)
    /// What `.llamaCpp` numerics use.
    package static let llamaCpp: Rounding = [.activations, .queries, .probabilities]
  }
  package var rounding: Rounding = .llamaCpp
  /// Seconds spent in single-token attention (benchmarks).
  package var decodeAttentionSeconds = 0.0
  /// Seconds spent per prefill phase (dequantise, linear, attention), for benchmarks.
  package var prefillTimings: [String: Double] = [:]
  /// Attention capture requested by `AttentionProbing` (nil: none).
  var attentionTap: AttentionTap?
  /// Post-RoPE query capture (nil: none).
  var queryTap: QueryTap?
  /// Next-token log-probabilities requested by `appendScoring` (nil: none).
  var scoreTap: ScoreTap?

  /// Run decoding's parallel regions on a persistent, spinning `WorkerTeam` instead of
  /// Dispatch's pool, which parks its workers between the ~180 regions of a token and pays a
  /// wake-up for each. Measured at load 2 on the 2-core machine (MicroDecode, 256 tokens,
  /// alternating): 168.6 / 135.3 tok/s with the team against 114.4 / 95.0 with Dispatch, and
  /// fewer CPU-ms per token. Under heavy oversubscription (load 8–11) the two were on par.
  /// Set before the first `evaluate`.
  package var usesWorkerTeam = true
  private lazy var team: WorkerTeam? = usesWorkerTeam ? WorkerTeam() : nil

  private func parallel(pieces: Int, _ body: (Int) -> Void) {
    if let team { team.forEach(pieces: pieces, body) } else { Parallel.forEach(pieces: pieces, body) }
  }

  // Decode scratch.
  private let x, h, q, k, v, o, g, u: UnsafeMutablePointer<Float>
  private let activation: Q8Activation
  private var scores: UnsafeMutablePointer<Float>
  private var scoresCapacity: Int

  /// A context over `model`; `cachedLayers` below the model's layer count makes one that can
  /// only read early (`readEarly`), holding keys and values for the first layers alone.
  init(model: LlamaModel, cachedLayers: Int? = nil) {
    self.model = model
    let c = model.configuration
    cache = KVCache(layerCount: cachedLayers ?? c.layerCount, kvDimension: c.kvDimension)
    x = .allocate(capacity: c.hiddenSize)
    h = .allocate(capacity: c.hiddenSize)
    q = .allocate(capacity: c.queryDimension)
    k = .allocate(capacity: c.kvDimension)
    v = .allocate(capacity: c.kvDimension)
    o = .allocate(capacity: c.queryDimension)
    g = .allocate(capacity: c.feedForwardSize)
    u = .allocate(capacity: c.feedForwardSize)
    activation = Q8Activation(capacity: max(c.feedForwardSize, c.hiddenSize, c.queryDimension))
    scoresCapacity = 1024 * c.headCount
    scores = .allocate(capacity: scoresCapacity)
  }

  deinit {
    for p in [x, h, q, k, v, o, g, u, scores] { p.deallocate() }
  }

  /// Number of cached positions.
  public var position: Int { cache.count }

  /// Which logits `evaluate` returns.
  public enum Logits: Sendable {
    /// Only after the last token (`vocabularySize` floats).
    case last
    /// None (prefill a prefix).
    case none
  }

  /// Appends `tokens` to the sequence and returns the logits after the last one.
  ///
  /// - Throws: `ModelError.invalidArgument` when a token id is out of range or the sequence
  ///   would exceed the model's context length.
  @discardableResult
  public func evaluate(_ newTokens: [Int], logits: Logits = .last) throws(ModelError) -> [Float] {
    let c = model.configuration
    guard !newTokens.isEmpty else {
      throw ModelError(.invalidArgument, "no tokens to evaluate")
    }
    for t in newTokens where t < 0 || t >= c.vocabularySize {
      throw ModelError(.invalidArgument, "token id \(t) outside the vocabulary of \(c.vocabularySize)")
    }
    guard cache.count + newTokens.count <= c.contextLength else {
      throw ModelError(
        .invalidArgument,
        "\(cache.count + newTokens.count) tokens exceed the context length of \(c.contextLength)")
    }
    cache.reserve(cache.count + newTokens.count)
    var start = 0
    while start < newTokens.count {
      let n = newTokens.count == 1 ? 1 : min(batchSize, newTokens.count - start)
      let chunk = Array(newTokens[start..<(start + n)])
      if n == 1 { decodeOne(chunk[0]) } else { prefill(chunk) }
      start += n
    }
    tokens += newTokens
    guard logits == .last else { return [] }
    return outputLogits()
  }

  /// Logits for the hidden state in `x` (after the last evaluated token).
  private func outputLogits() -> [Float] {
    let c = model.configuration
    let w = model.weights
    return [Float](unsafeUninitializedCapacity: c.vocabularySize) { buf, n in
      let out = buf.baseAddress.unsafelyUnwrapped
      w.outputNorm.withUnsafeBufferPointer { nw in
        VectorMath.rmsNorm(x, weight: nw.baseAddress.unsafelyUnwrapped, epsilon: c.rmsEpsilon, count: c.hiddenSize, into: h)
      }
      prepare(h, count: c.hiddenSize)
      MatVec.run([job(w.outputHead, h, c.hiddenSize, out)], pieces: pieces * 2, team: team)
      n = c.vocabularySize
    }
  }

  /// Prepares `input` for the products that read it: quantised like llama.cpp's Q8
  /// activations (integer kernels) under `.llamaCpp` numerics, plain floats otherwise.
  private func prepare(_ input: UnsafeMutablePointer<Float>, count n: Int) {
    if rounding.contains(.activations) && n % 32 == 0 { activation.prepare(input, count: n) }
  }

  /// A product of `m` with `input` (after `prepare(input)`), into `out`.
  private func job(_ m: QuantizedMatrix, _ input: UnsafeMutablePointer<Float>, _ n: Int, _ out: UnsafeMutablePointer<Float>) -> MatVec {
    if rounding.contains(.activations) && n % 32 == 0 { return MatVec(matrix: m, activation: activation, y: out) }
    return MatVec(matrix: m, x: input, y: out)
  }

  // MARK: RoPE

  /// Cosines and sines for `position` (`ropeDimensions / 2` each).
  func ropeTable(position: Int, cos cs: UnsafeMutablePointer<Float>, sin sn: UnsafeMutablePointer<Float>) {
    for (i, f) in model.ropeFrequencies.enumerated() {
      let a = Double(position) * f
      cs[i] = Float(Glibc_cos(a))
      sn[i] = Float(Glibc_sin(a))
    }
  }

  /// Rotates `heads` vectors of `headDimension` floats at `vec` in place.
  func applyRope(_ vec: UnsafeMutablePointer<Float>, heads: Int, cos cs: UnsafePointer<Float>, sin sn: UnsafePointer<Float>) {
    let c = model.configuration
    let half = c.ropeDimensions / 2
    for hd in 0..<heads {
      let p = vec + hd * c.headDimension
      switch c.ropeStyle {
      case .interleaved:
        for i in 0..<half {
          let a = p[2 * i], b = p[2 * i + 1]
          p[2 * i] = a * cs[i] - b * sn[i]
          p[2 * i + 1] = a * sn[i] + b * cs[i]
        }
      case .neox:
        for i in 0..<half {
          let a = p[i], b = p[i + half]
          p[i] = a * cs[i] - b * sn[i]
          p[i + half] = a * sn[i] + b * cs[i]
        }
      }
    }
  }

  // MARK: Decode

  private func decodeOne(_ token: Int) {
    let c = model.configuration
    let w = model.weights
    let pos = cache.count
    let d = c.hiddenSize
    w.tokenEmbedding.dequantize(rows: token..<(token + 1), into: x)
    let half = c.ropeDimensions / 2
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * max(half, 1)) { tab in
      let cs = tab.baseAddress.unsafelyUnwrapped
      let sn = cs + half
      ropeTable(position: pos, cos: cs, sin: sn)
      for (l, lw) in w.layers.enumerated() {
        lw.attentionNorm.withUnsafeBufferPointer {
          VectorMath.rmsNorm(x, weight: $0.baseAddress.unsafelyUnwrapped, epsilon: c.rmsEpsilon, count: d, into: h)
        }
        prepare(h, count: d)
        MatVec.run([job(lw.query, h, d, q), job(lw.key, h, d, k), job(lw.value, h, d, v)], pieces: pieces, team: team)
        if let b = lw.queryBias { b.withUnsafeBufferPointer { VectorMath.add($0.baseAddress.unsafelyUnwrapped, to: q, count: c.queryDimension) } }
        if let b = lw.keyBias { b.withUnsafeBufferPointer { VectorMath.add($0.baseAddress.unsafelyUnwrapped, to: k, count: c.kvDimension) } }
        if let b = lw.valueBias { b.withUnsafeBufferPointer { VectorMath.add($0.baseAddress.unsafelyUnwrapped, to: v, count: c.kvDimension) } }
        applyRope(q, heads: c.headCount, cos: cs, sin: sn)
        applyRope(k, heads: c.kvHeadCount, cos: cs, sin: sn)
        cache.store(layer: l, position: pos, rows: 1, keys: k, values: v)
        queryTap?.record(layer: l, position: pos, query: q, count: c.queryDimension)
        let a0 = ContinuousClock.now
        attendOne(layer: l, length: pos + 1)
        decodeAttentionSeconds += (ContinuousClock.now - a0).seconds
        prepare(o, count: c.queryDimension)
        MatVec.run([job(lw.output, o, c.queryDimension, h)], pieces: pieces, team: team)
        VectorMath.add(h, to: x, count: d)
        lw.ffnNorm.withUnsafeBufferPointer {
          VectorMath.rmsNorm(x, weight: $0.baseAddress.unsafelyUnwrapped, epsilon: c.rmsEpsilon, count: d, into: h)
        }
        prepare(h, count: d)
        MatVec.run([job(lw.gate, h, d, g), job(lw.up, h, d, u)], pieces: pieces, team: team)
        VectorMath.swiglu(g, u, count: c.feedForwardSize)
        prepare(g, count: c.feedForwardSize)
        MatVec.run([job(lw.down, g, c.feedForwardSize, h)], pieces: pieces, team: team)
        VectorMath.add(h, to: x, count: d)
      }
    }
    cache.count = pos + 1
    if let tap = scoreTap, let next = tap.targets[pos] { tap.record(position: pos, logits: outputLogits(), next: next) }
  }

  /// Attention of the single query in `q` over `length` cached positions of `layer`, into `o`.
  private func attendOne(layer: Int, length t: Int) {
    let c = model.configuration
    if t * c.headCount > scoresCapacity {
      scores.deallocate()
      scoresCapacity = max(t * c.headCount, scoresCapacity * 2)
      scores = .allocate(capacity: scoresCapacity)
    }
    let hd = c.headDimension
    let kvd = c.kvDimension
    let group = c.headCount / c.kvHeadCount
    let scale = 1 / Float(hd).squareRoot()
    let keys = SendablePointer(cache.keys[layer])
    let values = SendablePointer(cache.values[layer])
    let sc = SendablePointer(scores)
    if rounding.contains(.queries) { Quantized.roundToHalf(q, count: c.queryDimension) }
    let half = rounding.contains(.probabilities)
    let qp = SendablePointer(q)
    let op = SendablePointer(o)
    if hd == 64 && group <= 4 {
      // Fused group kernels: scores split over (KV head, position range), softmax per head,
      // weighted sums split over (KV head, 16-column chunk).
      let ranges = t >= 256 ? 4 : 1
      let span = (t + ranges - 1) / ranges
      let kvHeads = c.kvHeadCount
      let scoreWork = { (piece: Int) in
        let kvh = piece / ranges
        let r = piece % ranges
        let lo = r * span, hi = min(t, lo + span)
        guard lo < hi else { return }
        AttentionKernels.scores(
          queries: qp.pointer + kvh * group * hd, group: group, keys: keys.pointer + kvh * hd, stride: kvd,
          positions: lo..<hi, scale: scale, into: sc.pointer + kvh * group * t, scoreStride: t)
      }
      let sumWork = { (piece: Int) in
        let kvh = piece / 4
        AttentionKernels.weightedSum(
          weights: sc.pointer + kvh * group * t, weightStride: t, group: group, values: values.pointer + kvh * hd,
          stride: kvd, length: t, chunk: piece % 4, into: op.pointer + kvh * group * hd)
      }
      if t >= attentionParallelThreshold {
        parallel(pieces: kvHeads * ranges, scoreWork)
      } else {
        for p in 0..<(kvHeads * ranges) { scoreWork(p) }
      }
      for head in 0..<c.headCount {
        VectorMath.softmax(scores + head * t, count: t)
        if half { Quantized.roundToHalf(scores + head * t, count: t) }
      }
      if t >= attentionParallelThreshold {
        parallel(pieces: kvHeads * 4, sumWork)
      } else {
        for p in 0..<(kvHeads * 4) { sumWork(p) }
      }
    } else {
      let work = { (head: Int) in
        let kvh = head / group
        let qh = qp.pointer + head * hd
        let s = sc.pointer + head * t
        let kb = keys.pointer + kvh * hd
        withUnsafeTemporaryAllocation(of: Float.self, capacity: hd) { row in
          let r = row.baseAddress.unsafelyUnwrapped
          for j in 0..<t {
            Quantized.fromHalf(kb + j * kvd, r, count: hd)
            s[j] = Quantized.dotF32(qh, r, hd) * scale
          }
          VectorMath.softmax(s, count: t)
          if half { Quantized.roundToHalf(s, count: t) }
          let out = op.pointer + head * hd
          out.initialize(repeating: 0, count: hd)
          let vb = values.pointer + kvh * hd
          for j in 0..<t {
            Quantized.fromHalf(vb + j * kvd, r, count: hd)
            VectorMath.axpy(s[j], r, out, count: hd)
          }
        }
      }
      if t >= attentionParallelThreshold {
        parallel(pieces: c.headCount, work)
      } else {
        for head in 0..<c.headCount { work(head) }
      }
    }
    if let tap = attentionTap, tap.layer == layer, tap.wants(position: t - 1) {
      tap.record(position: t - 1, rows: scores, heads: c.headCount, stride: t, length: t)
    }
  }

  // MARK: Prefill

  /// Runs `chunk` through the layers after the cached positions, or at `positions` (rising, all
  /// below the context length): each token attends to every cached position before its own,
  /// so positions skipped here must already hold keys and values (imported pages). With
  /// `lastLayer` below the model's last layer the pass stops once that layer's keys are stored
  /// and its queries recorded (an early exit: nothing after them is read), and `x` is left as
  /// it was.
  func prefill(_ chunk: [Int], positions given: [Int]? = nil, lastLayer: Int? = nil) {
    let c = model.configuration
    let w = model.weights
    let n = chunk.count
    let p0 = cache.count
    let positions = given ?? Array(p0..<(p0 + n))
    precondition(positions.count == n && zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 }, "positions must rise, one per token")
    let contiguous = positions.last! - positions.first! == n - 1
    let d = c.hiddenSize, qd = c.queryDimension, kvd = c.kvDimension, f = c.feedForwardSize
    let hd = c.headDimension
    let total = positions.last! + 1
    let group = c.headCount / c.kvHeadCount
    let half = c.ropeDimensions / 2
    let maxWeight = max(f * d, qd * d, kvd * d)

    let X = UnsafeMutablePointer<Float>.allocate(capacity: n * d)
    let H = UnsafeMutablePointer<Float>.allocate(capacity: n * d)
    let Q = UnsafeMutablePointer<Float>.allocate(capacity: n * qd)
    let K = UnsafeMutablePointer<Float>.allocate(capacity: n * kvd)
    let V = UnsafeMutablePointer<Float>.allocate(capacity: n * kvd)
    let O = UnsafeMutablePointer<Float>.allocate(capacity: n * qd)
    let G = UnsafeMutablePointer<Float>.allocate(capacity: n * f)
    let U = UnsafeMutablePointer<Float>.allocate(capacity: n * f)
    let Wt = UnsafeMutablePointer<Float>.allocate(capacity: maxWeight)
    let Qg = UnsafeMutablePointer<Float>.allocate(capacity: group * n * hd)
    let Og = UnsafeMutablePointer<Float>.allocate(capacity: group * n * hd)
    let S = UnsafeMutablePointer<Float>.allocate(capacity: group * n * total)
    let Kf = UnsafeMutablePointer<Float>.allocate(capacity: total * kvd)
    let Vf = UnsafeMutablePointer<Float>.allocate(capacity: total * kvd)
    let cosT = UnsafeMutablePointer<Float>.allocate(capacity: n * max(half, 1))
    let sinT = UnsafeMutablePointer<Float>.allocate(capacity: n * max(half, 1))
    defer { for p in [X, H, Q, K, V, O, G, U, Wt, Qg, Og, S, Kf, Vf, cosT, sinT] { p.deallocate() } }

    for (i, t) in chunk.enumerated() {
      w.tokenEmbedding.dequantize(rows: t..<(t + 1), into: X + i * d)
      ropeTable(position: positions[i], cos: cosT + i * half, sin: sinT + i * half)
    }

    let compat = rounding.contains(.activations)
    /// Rounds `rows` activation rows of `width` like llama.cpp's Q8 activations.
    func roundRows(_ m: UnsafeMutablePointer<Float>, _ width: Int) {
      guard compat, width % 32 == 0 else { return }
      let mp = SendablePointer(m)
      Parallel.forRanges(count: n, pieces: pieces) { rows in
        for i in rows { Quantized.roundLikeQ8(mp.pointer + i * width, count: width, into: mp.pointer + i * width) }
      }
    }
    func linear(_ m: QuantizedMatrix, _ input: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
      let t0 = ContinuousClock.now
      m.dequantizeAll(into: Wt, pieces: pieces)
      let t1 = ContinuousClock.now
      prefillTimings["dequantise", default: 0] += (t1 - t0).seconds
      defer { prefillTimings["linear", default: 0] += (ContinuousClock.now - t1).seconds }
      BLAS.sgemm(
        .none, .transposed, m: n, n: m.rows, k: m.columns, a: input, lda: m.columns, b: Wt, ldb: m.columns,
        beta: accumulate ? 1 : 0, c: out, ldc: m.rows)
    }
    func norm(_ weight: [Float]) {
      weight.withUnsafeBufferPointer { nw in
        for i in 0..<n {
          VectorMath.rmsNorm(X + i * d, weight: nw.baseAddress.unsafelyUnwrapped, epsilon: c.rmsEpsilon, count: d, into: H + i * d)
        }
      }
    }
    func addBias(_ b: [Float]?, _ m: UnsafeMutablePointer<Float>, _ width: Int) {
      guard let b else { return }
      b.withUnsafeBufferPointer { bp in
        for i in 0..<n { VectorMath.add(bp.baseAddress.unsafelyUnwrapped, to: m + i * width, count: width) }
      }
    }

    let scale = 1 / Float(hd).squareRoot()
    let last = lastLayer ?? (w.layers.count - 1)
    let exitsEarly = last < w.layers.count - 1
    for (l, lw) in w.layers.prefix(last + 1).enumerated() {
      norm(lw.attentionNorm)
      roundRows(H, d)
      linear(lw.query, H, Q)
      linear(lw.key, H, K)
      linear(lw.value, H, V)
      addBias(lw.queryBias, Q, qd)
      addBias(lw.keyBias, K, kvd)
      addBias(lw.valueBias, V, kvd)
      for i in 0..<n {
        applyRope(Q + i * qd, heads: c.headCount, cos: cosT + i * half, sin: sinT + i * half)
        applyRope(K + i * kvd, heads: c.kvHeadCount, cos: cosT + i * half, sin: sinT + i * half)
        queryTap?.record(layer: l, position: positions[i], query: Q + i * qd, count: qd)
      }
      if rounding.contains(.queries) { Quantized.roundToHalf(Q, count: n * qd) }
      let roundProbabilities = rounding.contains(.probabilities)
      if contiguous {
        cache.store(layer: l, position: positions[0], rows: n, keys: K, values: V)
      } else {
        for i in 0..<n { cache.store(layer: l, position: positions[i], rows: 1, keys: K + i * kvd, values: V + i * kvd) }
      }
      if exitsEarly && l == last { break }
      cache.loadKeys(layer: l, positions: 0..<total, into: Kf)
      cache.loadValues(layer: l, positions: 0..<total, into: Vf)

      var clock = ContinuousClock.now
      func lap(_ name: String) {
        let now = ContinuousClock.now
        prefillTimings[name, default: 0] += (now - clock).seconds
        clock = now
      }
      for kvh in 0..<c.kvHeadCount {
        // Stack the group's query heads: row (hl, i) = head kvh·group + hl at token i.
        for hl in 0..<group {
          let head = kvh * group + hl
          for i in 0..<n { (Qg + (hl * n + i) * hd).update(from: Q + i * qd + head * hd, count: hd) }
        }
        BLAS.sgemm(
          .none, .transposed, m: group * n, n: total, k: hd, alpha: scale, a: Qg, lda: hd,
          b: Kf + kvh * hd, ldb: kvd, c: S, ldc: total)
        lap("attention QK")
        let Sp = SendablePointer(S)
        Parallel.forRanges(count: group * n, pieces: pieces) { rows in
          for r in rows {
            let i = r % n
            let valid = positions[i] + 1
            let row = Sp.pointer + r * total
            VectorMath.softmax(row, count: valid)
            if roundProbabilities { Quantized.roundToHalf(row, count: valid) }
            if valid < total { (row + valid).initialize(repeating: 0, count: total - valid) }
          }
        }
        lap("attention softmax")
        if let tap = attentionTap, tap.layer == l {
          for i in 0..<n where tap.wants(position: positions[i]) {
            for hl in 0..<group {
              tap.record(position: positions[i], rows: S + (hl * n + i) * total, heads: 1, stride: total, length: positions[i] + 1)
            }
          }
        }
        BLAS.sgemm(
          .none, .none, m: group * n, n: hd, k: total, a: S, lda: total, b: Vf + kvh * hd, ldb: kvd,
          c: Og, ldc: hd)
        lap("attention SV")
        for hl in 0..<group {
          let head = kvh * group + hl
          for i in 0..<n { (O + i * qd + head * hd).update(from: Og + (hl * n + i) * hd, count: hd) }
        }
      }
      roundRows(O, qd)
      linear(lw.output, O, X, accumulate: true)
      norm(lw.ffnNorm)
      roundRows(H, d)
      linear(lw.gate, H, G)
      linear(lw.up, H, U)
      let Gp = SendablePointer(G), Up = SendablePointer(U)
      Parallel.forRanges(count: n, pieces: pieces) { rows in
        for i in rows { VectorMath.swiglu(Gp.pointer + i * f, Up.pointer + i * f, count: f) }
      }
      roundRows(G, f)
      linear(lw.down, G, X, accumulate: true)
    }
    cache.count = max(cache.count, total)
    guard !exitsEarly else { return }
    if let tap = scoreTap {
      for i in 0..<n {
        guard let next = tap.targets[positions[i]] else { continue }
        x.update(from: X + i * d, count: d)
        tap.record(position: positions[i], logits: outputLogits(), next: next)
      }
    }
    x.update(from: X + (n - 1) * d, count: d)
  }
}

@inline(__always) func Glibc_cos(_ a: Double) -> Double { cos(a) }
@inline(__always) func Glibc_sin(_ a: Double) -> Double { sin(a) }

/// Collects post-softmax attention rows, summed over heads, at one layer.
final class AttentionTap {
  let layer: Int
  let positions: Set<Int>
  var rows: [Int: [Float]] = [:]

  init(layer: Int, positions: Set<Int>) {
    self.layer = layer
    self.positions = positions
  }

  func wants(position: Int) -> Bool { positions.contains(position) }

  func record(position: Int, rows src: UnsafePointer<Float>, heads: Int, stride: Int, length: Int) {
    var row = rows[position] ?? [Float](repeating: 0, count: length)
    if row.count < length { row += [Float](repeating: 0, count: length - row.count) }
    row.withUnsafeMutableBufferPointer { r in
      for hd in 0..<heads { VectorMath.add(src + hd * stride, to: r.baseAddress.unsafelyUnwrapped, count: length) }
    }
    rows[position] = row
  }
}

/// Collects post-RoPE queries at some layers, of some positions or all.
final class QueryTap {
  struct Key: Hashable {
    var layer: Int
    var position: Int
  }

  let layers: Set<Int>
  /// nil: every position.
  let positions: Set<Int>?
  var queries: [Key: [Float]] = [:]

  init(layers: Set<Int>, positions: Set<Int>? = nil) {
    self.layers = layers
    self.positions = positions
  }

  func record(layer: Int, position: Int, query: UnsafePointer<Float>, count: Int) {
    guard layers.contains(layer), positions?.contains(position) ?? true else { return }
    queries[Key(layer: layer, position: position)] = Array(UnsafeBufferPointer(start: query, count: count))
  }
}

/// Collects the log-probability of chosen next tokens: `targets[p]` is the token that follows
/// position `p`, scored from the logits computed there.
final class ScoreTap {
  let targets: [Int: Int]
  var logProbabilities: [Int: Double] = [:]

  init(targets: [Int: Int]) { self.targets = targets }

  func record(position: Int, logits: [Float], next: Int) {
    logProbabilities[position] = LocalLanguageModel.logSoftmax(logits, at: next)
  }
}

extension Duration {
  var seconds: Double {
    let (s, a) = components
    return Double(s) + Double(a) * 1e-18
  }
}
