public import TomeCore

extension LlamaContext {
  /// Reads `tokens` through layers 0…max(`layers`) in chunks of `batchSize`, stopping at the
  /// deepest requested layer once its keys are stored, and returns each requested layer's
  /// keys and the queries of the last `queryCount` positions (GemFilter's inputs).
  ///
  /// Runs on an empty context made with `cachedLayers` of at least max(`layers`) + 1, so the
  /// cache holds only the layers read. The context length is not enforced: RoPE is defined at
  /// every position, and reading past the window is the point of filtering a long prompt.
  /// - Throws: `ModelError.invalidArgument` for no tokens, a token outside the vocabulary, or
  ///   a layer outside 0..<`layerCount`, or a `queryCount` outside 1…`tokens.count`.
  /// - Complexity: about (r + 1) / L of a full prefill of `tokens` for r = max(`layers`).
  func readEarly(tokens newTokens: [Int], layers: [Int], queryCount: Int) throws(ModelError) -> [LayerReading] {
    let c = model.configuration
    guard !newTokens.isEmpty else { throw ModelError(.invalidArgument, "no tokens to read") }
    for t in newTokens where t < 0 || t >= c.vocabularySize {
      throw ModelError(.invalidArgument, "token id \(t) outside the vocabulary of \(c.vocabularySize)")
    }
    guard let last = layers.max(), let first = layers.min(), first >= 0, last < c.layerCount else {
      throw ModelError(.invalidArgument, "layers \(layers) are not among the model's 0…\(c.layerCount - 1)")
    }
    guard (1...newTokens.count).contains(queryCount) else {
      throw ModelError(.invalidArgument, "\(queryCount) query positions asked of \(newTokens.count) tokens")
    }
    precondition(cache.count == 0 && cache.layerCount > last, "an early read needs an empty context caching layers 0…\(last)")
    let n = newTokens.count
    let queried = (n - queryCount)..<n
    let tap = QueryTap(layers: Set(layers), positions: Set(queried))
    queryTap = tap
    defer { queryTap = nil }
    cache.reserve(n)
    var start = 0
    while start < n {
      let end = min(start + batchSize, n)
      prefill(Array(newTokens[start..<end]), lastLayer: last)
      start = end
    }
    tokens = newTokens
    let hd = c.headDimension
    return layers.map { layer in
      var keys = [Float](repeating: 0, count: c.kvHeadCount * n * hd)
      keys.withUnsafeMutableBufferPointer { out in
        let o = out.baseAddress.unsafelyUnwrapped
        for p in 0..<n {
          let row = cache.key(layer: layer, position: p)
          for h in 0..<c.kvHeadCount {
            for i in 0..<hd { o[(h * n + p) * hd + i] = Float(row[h * hd + i]) }
          }
        }
      }
      let queries = queried.flatMap { tap.queries[QueryTap.Key(layer: layer, position: $0)] ?? [] }
      return LayerReading(
        layer: layer, headCount: c.headCount, kvHeadCount: c.kvHeadCount, headDimension: hd, tokenCount: n,
        queryPositions: queried, queries: queries, keys: keys)
    }
  }
}
