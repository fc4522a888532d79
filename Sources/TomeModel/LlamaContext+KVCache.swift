public import TomeCore
import TomeLinalg

extension LlamaContext: KVCacheAccess {
  public var cachedTokens: [Int] { tokens }
  public var positionCount: Int { cache.count }

  public func append(tokens newTokens: [Int]) throws {
    guard !newTokens.isEmpty else { return }
    try evaluate(newTokens, logits: .none)
  }

  public func truncate(to count: Int) {
    let n = max(0, min(count, cache.count))
    cache.truncate(to: n)
    tokens.removeLast(tokens.count - n)
  }

  public func copySequence() -> LlamaContext {
    let c = LlamaContext(model: model)
    c.numerics = numerics
    c.rounding = rounding
    c.pieces = pieces
    c.batchSize = batchSize
    c.cache.reserve(cache.count)
    let n = cache.count * cache.kvDimension
    for l in 0..<cache.layerCount {
      c.cache.keys[l].update(from: cache.keys[l], count: n)
      c.cache.values[l].update(from: cache.values[l], count: n)
    }
    c.cache.count = cache.count
    c.tokens = tokens
    return c
  }

  public func exportPage(positions: Range<Int>, format: KVPageFormat) -> KVPage {
    precondition(positions.lowerBound >= 0 && positions.upperBound <= cache.count, "positions \(positions) outside 0..<\(cache.count)")
    let d = cache.kvDimension
    let n = positions.count
    var payload: [UInt8] = []
    var scales: [Float] = []
    payload.reserveCapacity(cache.layerCount * 2 * n * d * (format == .float16 ? 2 : 1))
    var row = [Float](repeating: 0, count: d)
    for l in 0..<cache.layerCount {
      for base in [cache.keys[l], cache.values[l]] {
        let start = base + positions.lowerBound * d
        switch format {
        case .float16:
          // The cache is f16 already: copy its bytes (little-endian on every supported CPU).
          payload.append(contentsOf: UnsafeRawBufferPointer(start: start, count: n * d * 2))
        case .int8:
          for p in 0..<n {
            row.withUnsafeMutableBufferPointer { Quantized.fromHalf(start + p * d, $0.baseAddress.unsafelyUnwrapped, count: d) }
            var amax: Float = 0
            for i in 0..<d { amax = max(amax, abs(row[i])) }
            let scale = amax / 127
            let inv: Float = scale > 0 ? 1 / scale : 0
            scales.append(scale)
            for i in 0..<d { payload.append(UInt8(bitPattern: Int8((row[i] * inv).rounded()))) }
          }
        }
      }
    }
    return KVPage(
      format: format, modelIdentifier: model.identifier, layerCount: cache.layerCount, kvDimension: d,
      tokens: Array(tokens[positions]), startPosition: positions.lowerBound, payload: payload, scales: scales)
  }

  public func appendScoring(tokens newTokens: [Int], scoredFrom first: Int) throws -> [Double] {
    precondition(first >= 1 && first <= newTokens.count, "scored tokens start at 1...\(newTokens.count), not \(first)")
    let p0 = cache.count
    var targets: [Int: Int] = [:]
    for j in first..<newTokens.count { targets[p0 + j - 1] = newTokens[j] }
    let tap = ScoreTap(targets: targets)
    scoreTap = tap
    defer { scoreTap = nil }
    try evaluate(newTokens, logits: .none)
    return (first..<newTokens.count).map { tap.logProbabilities[p0 + $0 - 1] ?? -.infinity }
  }

  public func importPage(_ page: KVPage) throws {
    let p0 = cache.count
    try check(page, at: p0)
    cache.reserve(p0 + page.tokens.count)
    write(page, at: p0)
    cache.count = p0 + page.tokens.count
    tokens += page.tokens
  }

  /// Appends a sequence of stored pages and token runs in two steps: every page is written at
  /// its position (keys re-rotated), then all the runs go through one batched prefill in which
  /// each token attends to every position before its own, the pages and the runs' earlier
  /// tokens. The runs are computed exactly as in a plain prefill; only the pages lack what lies
  /// outside them. One pass matters on a small model: each prefill first unpacks every weight
  /// matrix (~0.1 s on SmolLM2-135M), so reading the few tokens between pages (passage labels,
  /// blank lines) run by run, or token by token, cost as much as the pages saved.
  /// - Throws: `ModelError.invalidArgument` when a page belongs to another model or is damaged,
  ///   or the sequence would not fit the context.
  func append(segments: [PromptSegment]) throws {
    var at = cache.count
    var pages: [(page: KVPage, position: Int)] = []
    var runTokens: [Int] = []
    var runPositions: [Int] = []
    var sequence: [Int] = []
    for segment in segments {
      switch segment {
      case .page(let page):
        try check(page, at: at)
        pages.append((page, at))
        sequence += page.tokens
        at += page.tokens.count
      case .tokens(let run):
        for t in run where t < 0 || t >= model.configuration.vocabularySize {
          throw ModelError(.invalidArgument, "token id \(t) outside the vocabulary of \(model.configuration.vocabularySize)")
        }
        runTokens += run
        runPositions += at..<(at + run.count)
        sequence += run
        at += run.count
      }
    }
    guard at <= model.configuration.contextLength else {
      throw ModelError(.invalidArgument, "\(at) tokens exceed the context length of \(model.configuration.contextLength)")
    }
    cache.reserve(at)
    for (page, position) in pages { write(page, at: position) }
    var start = 0
    while start < runTokens.count {
      let end = min(start + batchSize, runTokens.count)
      prefill(Array(runTokens[start..<end]), positions: Array(runPositions[start..<end]))
      start = end
    }
    cache.count = at
    tokens += sequence
  }

  /// Throws unless `page` belongs to this model, is whole, and fits the context at `p0`.
  private func check(_ page: KVPage, at p0: Int) throws(ModelError) {
    let d = cache.kvDimension
    let n = page.tokens.count
    guard page.modelIdentifier == model.identifier, page.layerCount == cache.layerCount, page.kvDimension == d else {
      throw ModelError(.invalidArgument, "KV page from model '\(page.modelIdentifier)' does not fit '\(model.identifier)'")
    }
    let bytesPerValue = page.format == .float16 ? 2 : 1
    guard page.payload.count == cache.layerCount * 2 * n * d * bytesPerValue,
      page.format == .float16 || page.scales.count == cache.layerCount * 2 * n
    else {
      throw ModelError(.invalidArgument, "KV page payload has the wrong size for \(n) tokens")
    }
    guard p0 + n <= model.configuration.contextLength else {
      throw ModelError(.invalidArgument, "KV page of \(n) tokens does not fit the context after \(p0) tokens")
    }
  }

  /// Writes a checked page's keys and values at positions `p0…`, keys re-rotated from the
  /// page's own start; capacity must be reserved. Leaves `count` and `tokens` to the caller.
  private func write(_ page: KVPage, at p0: Int) {
    let d = cache.kvDimension
    let n = page.tokens.count
    page.payload.withUnsafeBytes { bytes in
      var part = 0
      for l in 0..<cache.layerCount {
        for base in [cache.keys[l], cache.values[l]] {
          let dst = base + p0 * d
          switch page.format {
          case .float16:
            UnsafeMutableRawPointer(dst).copyMemory(from: bytes.baseAddress.unsafelyUnwrapped + part * n * d * 2, byteCount: n * d * 2)
          case .int8:
            for t in 0..<n {
              let row = part * n + t
              let s = page.scales[row]
              for i in 0..<d {
                dst[t * d + i] = Float16(Float(Int8(bitPattern: bytes[row * d + i])) * s)
              }
            }
          }
          part += 1
        }
      }
    }
    let delta = p0 - page.startPosition
    if delta != 0 { shiftKeys(positions: p0..<(p0 + n), by: delta) }
  }

  public func shiftKeys(positions: Range<Int>, by delta: Int) {
    guard delta != 0, !positions.isEmpty else { return }
    let c = model.configuration
    let half = c.ropeDimensions / 2
    let d = cache.kvDimension
    var cs = [Float](repeating: 0, count: max(half, 1))
    var sn = [Float](repeating: 0, count: max(half, 1))
    var row = [Float](repeating: 0, count: d)
    cs.withUnsafeMutableBufferPointer { cp in
      sn.withUnsafeMutableBufferPointer { sp in
        row.withUnsafeMutableBufferPointer { rp in
          let cpb = cp.baseAddress.unsafelyUnwrapped, spb = sp.baseAddress.unsafelyUnwrapped
          let r = rp.baseAddress.unsafelyUnwrapped
          ropeTable(position: delta, cos: cpb, sin: spb)
          for l in 0..<cache.layerCount {
            for p in positions {
              let stored = cache.key(layer: l, position: p)
              Quantized.fromHalf(stored, r, count: d)
              applyRope(r, heads: c.kvHeadCount, cos: cpb, sin: spb)
              Quantized.toHalf(r, stored, count: d)
            }
          }
        }
      }
    }
  }

  public func generateContinuation(
    prompt: [Int], parameters: GenerationParameters, onText: (String) -> Bool
  ) throws -> String {
    let result = try generate(prompt: prompt, parameters: parameters, stopTokens: nil, onText: onText)
    // Keep the last generated token in the cache so the sequence is complete.
    // Except after a stop token, the loop ends before evaluating the last sampled token.
    switch result.finishReason {
    case .maxTokens, .stopString, .cancelled:
      if let last = result.tokens.last, position < model.configuration.contextLength {
        try evaluate([last], logits: .none)
      }
    case .stopToken, .contextFull: break
    }
    return result.text
  }
}

extension LlamaContext: AttentionProbing {
  public var layerCount: Int { model.configuration.layerCount }

  public func appendCapturingAttention(tokens newTokens: [Int], layer: Int, queryPositions: [Int]) throws -> [Int: [Float]] {
    precondition(layer >= 0 && layer < model.configuration.layerCount, "layer \(layer) out of range")
    let tap = AttentionTap(layer: layer, positions: Set(queryPositions))
    attentionTap = tap
    defer { attentionTap = nil }
    try evaluate(newTokens, logits: .none)
    return tap.rows
  }

  public func appendCapturingQueries(tokens newTokens: [Int], layer: Int) throws -> [Float] {
    precondition(layer >= 0 && layer < model.configuration.layerCount, "layer \(layer) out of range")
    let p0 = cache.count
    let tap = QueryTap(layers: [layer])
    queryTap = tap
    defer { queryTap = nil }
    try evaluate(newTokens, logits: .none)
    let c = model.configuration
    let n = newTokens.count
    var out = [Float](repeating: 0, count: c.headCount * n * c.headDimension)
    for t in 0..<n {
      guard let q = tap.queries[QueryTap.Key(layer: layer, position: p0 + t)] else { continue }
      for h in 0..<c.headCount {
        for i in 0..<c.headDimension { out[(h * n + t) * c.headDimension + i] = q[h * c.headDimension + i] }
      }
    }
    return out
  }

  public func keys(layer: Int, positions: Range<Int>) -> [Float] {
    precondition(positions.lowerBound >= 0 && positions.upperBound <= cache.count, "positions out of range")
    let c = model.configuration
    let n = positions.count
    var out = [Float](repeating: 0, count: c.kvHeadCount * n * c.headDimension)
    for (t, p) in positions.enumerated() {
      let row = cache.key(layer: layer, position: p)
      for h in 0..<c.kvHeadCount {
        for i in 0..<c.headDimension { out[(h * n + t) * c.headDimension + i] = Float(row[h * c.headDimension + i]) }
      }
    }
    return out
  }
}
