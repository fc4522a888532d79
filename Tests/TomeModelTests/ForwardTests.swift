import Testing
import TomeModel

@Suite("Forward pass against llama.cpp golden logits", .serialized)
struct ForwardTests {
  @Test("configuration from metadata")
  func configuration() throws {
    let c = try Fixtures.model().configuration
    #expect(c.architecture == "llama")
    #expect(c.layerCount == 30)
    #expect(c.hiddenSize == 576)
    #expect(c.feedForwardSize == 1536)
    #expect(c.headCount == 9)
    #expect(c.kvHeadCount == 3)
    #expect(c.headDimension == 64)
    #expect(c.ropeBase == 100_000)
    #expect(c.ropeStyle == .interleaved)
    #expect(c.contextLength == 8192)
    #expect(try Fixtures.model().weights.tiedEmbeddings)
  }

  /// llama.cpp rounds activations to Q8 and the KV cache to f16; `.llamaCpp` numerics mimic
  /// that but cannot reproduce each rounding bit for bit, so logits differ by ~0.2–0.4 (about
  /// 1 %) while the ranking and greedy continuations agree. The difference is a noise floor,
  /// not a bias: a value that lands on the other side of a Q8 rounding boundary moves the
  /// logits by ~0.1–0.2, so 1-ulp changes elsewhere reshuffle the per-prompt maxima. Measured:
  /// worst top-10 |Δ| 0.368 (chat_fact; plain 0.355, code 0.259, chat_passkey 0.228); with
  /// llama.cpp's own 127/max quantisation multiplier and f32 RoPE angle chain, which are more
  /// faithful, 0.374 and 0.445 (plain). The bound allows those realisations and no more.
  static let logitTolerance: Float = 0.45

  /// The mean of |Δlogit| over all four prompts' top-10 is far steadier than the maximum
  /// (0.159 as shipped, 0.160 and 0.161 for the two variants above), so it is the sharper
  /// regression check.
  static let meanTolerance: Float = 0.21

  @Test("prefill: mean |Δlogit| over every prompt's top-10 stays at the rounding-noise level")
  func meanLogitError() throws {
    let model = try Fixtures.model()
    var total: Float = 0
    var n = 0
    for g in try Fixtures.golden().logits {
      let logits = try model.makeContext().evaluate(g.ids)
      for t in g.top10 {
        total += abs(logits[t.id] - t.logit)
        n += 1
      }
    }
    let mean = total / Float(n)
    print("[golden] mean |Δlogit| over \(n) top-10 logits = \(mean)")
    #expect(mean < Self.meanTolerance)
  }

  @Test("prefill: top-1 equal and top-10 logits within tolerance", arguments: ["plain", "code", "chat_passkey", "chat_fact"])
  func prefillLogits(name: String) throws {
    let model = try Fixtures.model()
    let g = try #require(try Fixtures.golden().logits.first { $0.name == name })
    let context = model.makeContext()
    let logits = try context.evaluate(g.ids)
    #expect(argmax(logits) == g.top10[0].id)
    var worst: Float = 0
    for t in g.top10 { worst = max(worst, abs(logits[t.id] - t.logit)) }
    print("[golden] \(name): max |Δlogit| over top-10 = \(worst)")
    #expect(worst < Self.logitTolerance)
  }

  @Test("token-by-token decode gives the same logits as batched prefill")
  func decodeMatchesPrefill() throws {
    let model = try Fixtures.model()
    let g = try #require(try Fixtures.golden().logits.first { $0.name == "plain" })
    let a = model.makeContext()
    a.numerics = .float32
    let batched = try a.evaluate(g.ids)
    let b = model.makeContext()
    b.numerics = .float32
    var stepped: [Float] = []
    for t in g.ids { stepped = try b.evaluate([t]) }
    var worst: Float = 0
    for i in batched.indices { worst = max(worst, abs(batched[i] - stepped[i])) }
    #expect(worst < 0.02, "max difference \(worst)")
  }

  @Test("decoding on a WorkerTeam gives bit-identical logits to Dispatch")
  func workerTeamDecode() throws {
    let model = try Fixtures.model()
    let g = try #require(try Fixtures.golden().logits.first { $0.name == "code" })
    let a = model.makeContext()
    a.usesWorkerTeam = false
    let b = model.makeContext()
    b.usesWorkerTeam = true
    var la: [Float] = [], lb: [Float] = []
    for t in g.ids {
      la = try a.evaluate([t])
      lb = try b.evaluate([t])
    }
    #expect(la == lb)
  }

  /// Greedy decoding follows llama.cpp's 16 tokens. Where our argmax differs, llama.cpp's
  /// token must be a near-tie (within `tieTolerance` of our best logit: the two engines
  /// round differently, ~0.2–0.4 logits); decoding then continues from llama.cpp's token.
  /// At most one such tie is allowed per prompt.
  static let tieTolerance: Float = 0.25

  @Test("first 16 greedy tokens equal llama.cpp's (near-ties excepted)", arguments: ["plain", "code", "chat_passkey", "chat_fact"])
  func greedy(name: String) throws {
    let model = try Fixtures.model()
    let g = try #require(try Fixtures.golden().logits.first { $0.name == name })
    let context = model.makeContext()
    var logits = try context.evaluate(g.ids)
    var out: [Int] = []
    var ties: [String] = []
    let want = Array(g.greedy32.prefix(16))
    for expected in want {
      let t = argmax(logits)
      out.append(t)
      if t != expected {
        let gap = logits[t] - logits[expected]
        ties.append("step \(out.count - 1): ours \(t) vs \(expected), gap \(gap)")
        #expect(gap < Self.tieTolerance, "\(name) diverges at step \(out.count - 1) by \(gap)")
      }
      if expected == model.tokenizer.eosID { break }
      logits = try context.evaluate([expected])
    }
    print("[golden] \(name): greedy \(want.count - ties.count)/\(want.count) identical \(ties)")
    #expect(ties.count <= 1)
  }
}

@Suite("Forward pass input checks")
struct ForwardInputTests {
  @Test("context overflow, bad ids and empty input are typed errors")
  func errors() throws {
    let model = try Fixtures.model()
    let c = model.makeContext()
    #expect(throws: ModelError.self) { try c.evaluate([]) }
    #expect(throws: ModelError.self) { try c.evaluate([-1]) }
    #expect(throws: ModelError.self) { try c.evaluate([model.configuration.vocabularySize]) }
    do {
      try c.evaluate(Array(repeating: 100, count: model.configuration.contextLength + 1))
      Issue.record("overflow accepted")
    } catch {
      #expect(error.kind == .invalidArgument)
    }
    #expect(c.positionCount == 0)
  }
}
