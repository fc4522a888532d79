public import TomeCore

/// Picks the next token from logits following `GenerationParameters`:
/// repetition penalty → (greedy, or top-k → temperature → top-p → seeded draw).
public struct Sampler: Sendable {
  public let parameters: GenerationParameters
  private var rng: SeededGenerator

  public init(parameters: GenerationParameters) {
    self.parameters = parameters
    var system = SystemRandomNumberGenerator()
    rng = SeededGenerator(seed: parameters.seed ?? system.next())
  }

  /// The next token id given `logits` and the tokens seen so far (`history`).
  public mutating func sample(_ logits: [Float], history: [Int]) -> Int {
    var logits = logits
    let p = parameters
    if p.repetitionPenalty != 1, p.repetitionWindow > 0 {
      let penalty = Float(p.repetitionPenalty)
      var seen = Set<Int>()
      for t in history.suffix(p.repetitionWindow) where t >= 0 && t < logits.count && seen.insert(t).inserted {
        logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty
      }
    }
    if p.temperature <= 0 { return Self.argmax(logits) }

    // Candidates: top-k (or everything within 30 nats of the best, which loses < e^-30 mass).
    let maxLogit = logits.max() ?? 0
    var candidates: [(id: Int, logit: Float)] = []
    candidates.reserveCapacity(256)
    for (i, l) in logits.enumerated() where l > maxLogit - 30 { candidates.append((i, l)) }
    candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
    if p.topK > 0, candidates.count > p.topK { candidates.removeLast(candidates.count - p.topK) }

    let t = Float(p.temperature)
    let top = candidates[0].logit
    var probs = candidates.map { Double(VectorMath_exp(($0.logit - top) / t)) }
    let total = probs.reduce(0, +)
    for i in probs.indices { probs[i] /= total }

    var keep = probs.count
    if p.topP < 1 {
      var cum = 0.0
      for i in probs.indices {
        cum += probs[i]
        if cum >= p.topP {
          keep = i + 1
          break
        }
      }
    }
    let mass = probs[0..<keep].reduce(0, +)
    var r = Double(rng.next() >> 11) / Double(1 << 53) * mass
    for i in 0..<keep {
      r -= probs[i]
      if r < 0 { return candidates[i].id }
    }
    return candidates[keep - 1].id
  }

  static func argmax(_ v: [Float]) -> Int {
    var best = 0
    var bv = -Float.infinity
    for (i, x) in v.enumerated() where x > bv {
      bv = x
      best = i
    }
    return best
  }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func VectorMath_exp(_ x: Float) -> Float { expf(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func VectorMath_exp(_ x: Float) -> Float { expf(x) }
#endif
