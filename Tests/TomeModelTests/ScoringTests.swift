import Foundation
import Testing
import TomeCore
@testable import TomeModel

/// `appendScoring` on the real SmolLM2: the same log-probabilities as scoring token by token.
@Suite(.serialized) struct ScoringTests {
  @Test("appendScoring gives each token's log-probability after what precedes it, in one batched pass")
  func matchesStepwise() throws {
    let lm = try LocalLanguageModel(path: try Fixtures.requireModelPath())
    let tokens = lm.tokenize("The harbour master keeps the tide tables in a green ledger by the door.")
    // Plain float activations: llama.cpp's Q8 rounding of activations turns the last-bit
    // differences of batches of other sizes into differences of a few hundredths.
    let batched = lm.makeSequence()
    batched.rounding = []
    let scores = try batched.appendScoring(tokens: tokens, scoredFrom: 3)
    #expect(scores.count == tokens.count - 3)
    #expect(batched.cachedTokens == tokens)

    // Reference: the prefix up to each token, run as a batch (the same prefill path), with the
    // logits after its last token. (Single-token decoding differs by up to ~0.15 under llama.cpp's rounding.)
    for j in 3..<tokens.count {
      let prefix = lm.makeSequence()
      prefix.rounding = []
      let logits = try prefix.evaluate(Array(tokens.prefix(j)))
      let expected = LocalLanguageModel.logSoftmax(logits, at: tokens[j])
      #expect(abs(scores[j - 3] - expected) < 1e-3, "token \(j): \(scores[j - 3]) vs \(expected)")
    }
    // A likely continuation scores higher than an unlikely one.
    #expect(scores.allSatisfy { $0 <= 0 && $0.isFinite })
  }
}
