import Foundation
public import TomeCore

/// How a decision among fixed options was made.
public enum ChoiceMethod: String, Sendable, Hashable, Codable {
  /// Each option scored by the model's log-probability of writing it (`ChoiceScoring`).
  case logprob
  /// The model wrote a short reply and the first option it starts with (or contains) was taken;
  /// for models that cannot score options, such as an endpoint without logprobs.
  case parsed
}

/// A decision among fixed options and how sure the model was.
public struct ScoredChoice: Sendable, Hashable {
  public var options: [String]
  /// Log-probability per option (logsumexp over its spellings); 0 for the parsed pick and −∞
  /// for the rest when parsed.
  public var scores: [Double]
  public var index: Int
  public var method: ChoiceMethod

  public var chosen: String { options[index] }

  /// The chosen option's probability among the options (softmax of the scores).
  public var confidence: Double {
    let peak = scores.max() ?? 0
    guard peak.isFinite else { return 1 }
    let total = scores.reduce(0) { $0 + exp($1 - peak) }
    return exp(scores[index] - peak) / total
  }

  /// Probability of option `i` among the options.
  public func probability(of i: Int) -> Double {
    let peak = scores.max() ?? 0
    guard peak.isFinite else { return i == index ? 1 : 0 }
    let total = scores.reduce(0) { $0 + exp($1 - peak) }
    return exp(scores[i] - peak) / total
  }
}

/// Asks the model to choose among fixed options, never trusting it to write a format.
///
/// With a `ChoiceScoring` model every option is scored by its log-probability after the prompt
/// (written as given, capitalised and lower-cased; the spellings' probabilities are summed);
/// otherwise the model writes up to 8 tokens and the option its reply starts with (else the
/// first it mentions, else `fallback`) is taken. Every decision is recorded in the trace.
public struct Chooser: Sendable {
  public var model: any LanguageModel

  public init(model: any LanguageModel) {
    self.model = model
  }

  /// - Parameter verdict: rewrites the recorded step before it is logged (a caller that
  ///   calibrates the scores records the calibrated pick, not the raw one).
  public func choose(
    _ label: String, messages: [ChatMessage], options: [String], fallback: Int, log: TraceLog,
    verdict: (ScoredChoice, inout TraceStep) -> Void = { _, _ in }
  ) async throws -> ScoredChoice {
    precondition(!options.isEmpty && options.indices.contains(fallback), "a choice needs options and a valid fallback")
    let start = ContinuousClock.now
    let choice: ScoredChoice
    if let scorer = model as? any ChoiceScoring {
      let spellings = options.map(Self.spellings)
      let flat = try await scorer.logProbabilities(of: spellings.flatMap { $0 }, after: messages)
      var scores: [Double] = []
      var offset = 0
      for group in spellings {
        scores.append(Self.logSumExp(Array(flat[offset..<(offset + group.count)])))
        offset += group.count
      }
      let best = scores.indices.max { scores[$0] < scores[$1] } ?? fallback
      choice = ScoredChoice(options: options, scores: scores, index: best, method: .logprob)
    } else {
      let reply = try await model.reply(to: messages, parameters: .greedy(maxTokens: 8))
      let index = Self.parse(reply, options: options) ?? fallback
      choice = ScoredChoice(
        options: options, scores: options.indices.map { $0 == index ? 0 : -.infinity }, index: index, method: .parsed)
    }
    var step = TraceStep(
      kind: .decision, label: label, promptTokens: try? model.promptTokenCount(messages),
      seconds: (ContinuousClock.now - start).seconds, options: options, scores: choice.scores,
      chosen: choice.chosen, method: choice.method.rawValue)
    verdict(choice, &step)
    log.record(step)
    return choice
  }

  /// The option `reply` starts with (longest match first), else the first one it mentions;
  /// whole words only ("I don't know" does not mention "no", "Not sure" does not start with it).
  static func parse(_ reply: String, options: [String]) -> Int? {
    let text = TextAnalysis.normalised(reply)
    let normalisedOptions = options.map { TextAnalysis.normalised($0) }
    let byLength = normalisedOptions.indices.sorted { normalisedOptions[$0].count > normalisedOptions[$1].count }
    let positions = byLength.compactMap { i -> (Int, String.Index)? in
      wholeWord(normalisedOptions[i], in: text).map { (i, $0) }
    }
    // The earliest mention; at the start of the reply, ties go to the longest option.
    return positions.min { $0.1 < $1.1 }?.0
  }

  /// Where `word` first occurs in `text` not inside a longer word.
  static func wholeWord(_ word: String, in text: String) -> String.Index? {
    guard !word.isEmpty else { return nil }
    let isWordCharacter = { (c: Character) in c.isLetter || c.isNumber }
    var from = text.startIndex
    while let found = text.range(of: word, range: from..<text.endIndex) {
      let before = found.lowerBound > text.startIndex && isWordCharacter(text[text.index(before: found.lowerBound)])
      let after = found.upperBound < text.endIndex && isWordCharacter(text[found.upperBound])
      if !before && !after { return found.lowerBound }
      from = text.index(after: found.lowerBound)
    }
    return nil
  }

  static func spellings(_ option: String) -> [String] {
    var out = [option]
    for variant in [option.prefix(1).uppercased() + option.dropFirst(), option.lowercased()] where !out.contains(variant) {
      out.append(variant)
    }
    return out
  }

  static func logSumExp(_ values: [Double]) -> Double {
    guard let peak = values.max(), peak.isFinite else { return -.infinity }
    return peak + log(values.reduce(0) { $0 + exp($1 - peak) })
  }
}
