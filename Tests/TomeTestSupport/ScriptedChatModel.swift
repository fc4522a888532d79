package import Foundation
import Synchronization
package import TomeCore

/// What a scripted model was asked, in order: how tests check a strategy's control flow.
package struct ScriptedCall: Sendable, Hashable {
  package enum Kind: String, Sendable, Hashable {
    /// `stream` (a generation, including `Chooser`'s parsed path).
    case generate
    /// `logProbabilities(of:after:)` (a scored choice).
    case score
  }

  package var kind: Kind
  package var messages: [ChatMessage]
  /// The options scored (empty for a generation).
  package var options: [String]
  /// The parameters of a generation (nil for a score).
  package var parameters: GenerationParameters?
  /// The name of the rule that answered, nil when none matched (the call then threw).
  package var rule: String?
  /// What the model replied (after stop strings and `maxTokens`), for a generation.
  package var reply: String?
  /// The log-probability per option, for a score.
  package var scores: [Double]?

  /// The last user message: the rendered template.
  package var prompt: String { messages.last { $0.role == .user }?.content ?? "" }
}

/// The rules a scripted model plays from and the record of every call it answered.
///
/// Rules are tried in order; the first whose matcher accepts the messages and which can answer
/// the kind of call (a `reply` for a generation, `scores` for a scored choice) answers it. A
/// call no rule answers is recorded and fails with `ChatScript.Unscripted`, so a test never
/// passes on a prompt it did not expect.
package final class ChatScript: Sendable {
  /// What a rule sees when it answers.
  package struct Turn: Sendable {
    package var messages: [ChatMessage]
    /// The last user message.
    package var prompt: String
    /// The options being scored (empty for a generation).
    package var options: [String]
    /// How many earlier calls of the same kind this rule answered (0 for the first).
    package var occurrence: Int
  }

  /// Matches prompts to a reply (for `stream`) and/or per-option log-probabilities (for
  /// `logProbabilities`).
  package struct Rule: Sendable {
    package var name: String
    package var matches: @Sendable ([ChatMessage]) -> Bool
    package var reply: (@Sendable (Turn) -> String)?
    /// Log-probability by option text; an option missing from the dictionary scores −∞.
    package var scores: (@Sendable (Turn) -> [String: Double])?

    package init(
      _ name: String, when matches: @escaping @Sendable ([ChatMessage]) -> Bool,
      reply: (@Sendable (Turn) -> String)? = nil, scores: (@Sendable (Turn) -> [String: Double])? = nil
    ) {
      self.name = name
      self.matches = matches
      self.reply = reply
      self.scores = scores
    }

    /// True when the last user message contains `marker` (a distinctive line of a template).
    package static func prompt(contains marker: String) -> @Sendable ([ChatMessage]) -> Bool {
      { messages in messages.last { $0.role == .user }?.content.contains(marker) ?? false }
    }

    /// Replies with `text` to prompts containing `marker`.
    package static func template(_ marker: String, name: String? = nil, reply text: String) -> Rule {
      Rule(name ?? marker, when: prompt(contains: marker), reply: { _ in text })
    }

    /// Replies with `texts` in turn to prompts containing `marker`; the last repeats.
    package static func template(_ marker: String, name: String? = nil, replies texts: [String]) -> Rule {
      precondition(!texts.isEmpty, "a rule needs at least one reply")
      return Rule(name ?? marker, when: prompt(contains: marker), reply: { texts[min($0.occurrence, texts.count - 1)] })
    }

    /// Replies with what `reply` computes from the turn to prompts containing `marker`.
    package static func template(
      _ marker: String, name: String? = nil, reply: @escaping @Sendable (Turn) -> String
    ) -> Rule {
      Rule(name ?? marker, when: prompt(contains: marker), reply: reply)
    }

    /// Scores options of prompts containing `marker` with `scores` (log-probabilities).
    package static func template(_ marker: String, name: String? = nil, scores: [String: Double]) -> Rule {
      Rule(name ?? marker, when: prompt(contains: marker), scores: { _ in scores })
    }

    /// Scores "yes" with log(p) and "no" with log(1 − p), p computed from the turn, for
    /// prompts containing `marker`. Other spellings ("Yes", "No") score −∞, so `Chooser`'s sum
    /// over spellings leaves p unchanged.
    package static func template(
      _ marker: String, name: String? = nil, yes p: @escaping @Sendable (Turn) -> Double
    ) -> Rule {
      Rule(name ?? marker, when: prompt(contains: marker), scores: { yesNo(p($0)) })
    }

    /// `template(_:yes:)` with a fixed probability.
    package static func template(_ marker: String, name: String? = nil, yes p: Double) -> Rule {
      template(marker, name: name, yes: { _ in p })
    }

    /// Log-probabilities giving "yes" probability `p` against "no".
    package static func yesNo(_ p: Double) -> [String: Double] {
      ["yes": Foundation.log(p), "no": Foundation.log(1 - p)]
    }
  }

  /// A call no rule answers.
  package struct Unscripted: Error, CustomStringConvertible {
    package var kind: ScriptedCall.Kind
    package var prompt: String
    package var description: String { "no rule answers this \(kind.rawValue) call: \(prompt.prefix(300))" }
  }

  private let rules: [Rule]
  private let state = Mutex<(calls: [ScriptedCall], answered: [String: Int])>(([], [:]))

  package init(_ rules: [Rule]) {
    self.rules = rules
  }

  /// Every call so far, in order.
  package var calls: [ScriptedCall] { state.withLock { $0.calls } }

  func answer(_ kind: ScriptedCall.Kind, messages: [ChatMessage], options: [String], parameters: GenerationParameters?)
    throws -> ScriptedCall
  {
    try state.withLock { state in
      let prompt = messages.last { $0.role == .user }?.content ?? ""
      var call = ScriptedCall(kind: kind, messages: messages, options: options, parameters: parameters)
      let usable = rules.enumerated().first { _, rule in
        (kind == .generate ? rule.reply != nil : rule.scores != nil) && rule.matches(messages)
      }
      guard let usable else {
        state.calls.append(call)
        throw Unscripted(kind: kind, prompt: prompt)
      }
      let (index, rule) = (usable.offset, usable.element)
      let key = "\(kind.rawValue) \(index)"
      let turn = Turn(messages: messages, prompt: prompt, options: options, occurrence: state.answered[key, default: 0])
      state.answered[key, default: 0] += 1
      call.rule = rule.name
      if kind == .generate, let reply = rule.reply {
        call.reply = Self.truncated(reply(turn), parameters: parameters ?? .greedy())
      } else if let scores = rule.scores {
        let table = scores(turn)
        call.scores = options.map { table[$0] ?? -.infinity }
      }
      state.calls.append(call)
      return call
    }
  }

  /// `text` cut before the first stop string, then to `maxTokens` words, as a real model stops.
  static func truncated(_ text: String, parameters: GenerationParameters) -> String {
    var out = text
    if let stop = parameters.stop.compactMap({ out.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
      out = String(out[..<stop.lowerBound])
    }
    var words = 0
    var end = out.startIndex
    var index = out.startIndex
    while index < out.endIndex {
      while index < out.endIndex, out[index].isWhitespace { index = out.index(after: index) }
      guard index < out.endIndex else { break }
      if words == parameters.maxTokens { return String(out[..<end]) }
      while index < out.endIndex, !out[index].isWhitespace { index = out.index(after: index) }
      words += 1
      end = index
    }
    return out
  }

  /// `text` as pieces of one word each, with the whitespace before it.
  static func pieces(_ text: String) -> [String] {
    var out: [String] = []
    var current = ""
    var inWord = false
    for ch in text {
      if !ch.isWhitespace { inWord = true } else if inWord {
        out.append(current)
        current = ""
        inWord = false
      }
      current.append(ch)
    }
    if !current.isEmpty { out.append(current) }
    return out
  }

  func stream(_ messages: [ChatMessage], parameters: GenerationParameters) -> AsyncThrowingStream<String, any Error> {
    let result = Result { try answer(.generate, messages: messages, options: [], parameters: parameters) }
    return AsyncThrowingStream { continuation in
      switch result {
      case .success(let call):
        for piece in Self.pieces(call.reply ?? "") { continuation.yield(piece) }
        continuation.finish()
      case .failure(let error):
        continuation.finish(throwing: error)
      }
    }
  }

  /// Whitespace-separated words: the scripted models' token counter.
  static func words(_ text: String) -> Int { text.split(whereSeparator: \.isWhitespace).count }
}

/// A test double for `LanguageModel` and `ChoiceScoring` that plays from a script.
///
/// Strategies decide what to do from the model's replies and scores; a script makes those
/// replies exact, so a test can assert which prompts were sent, how many and in what order
/// (`calls`). The real model is tested in TomeModelTests and end to end.
///
/// Tokens are whitespace-separated words: `tokenCount` counts the words of a text and
/// `promptTokenCount` the words of all messages' contents (no template overhead). A reply is
/// cut before the first of `parameters.stop` and to `parameters.maxTokens` words, and streamed
/// one word (with its leading whitespace) per piece.
///
///     let model = ScriptedChatModel([
///       .template("ask one short question", reply: "Where was Kant born?"),
///       .template("Does the text above contain information", yes: 0.8),
///     ])
package struct ScriptedChatModel: ScriptedModel, ChoiceScoring {
  package let script: ChatScript
  package var identifier: String
  package var contextLength: Int

  package init(identifier: String = "scripted", contextLength: Int = 2_048, _ rules: [ChatScript.Rule]) {
    self.script = ChatScript(rules)
    self.identifier = identifier
    self.contextLength = contextLength
  }

  package func logProbabilities(of options: [String], after messages: [ChatMessage]) async throws -> [Double] {
    try script.answer(.score, messages: messages, options: options, parameters: nil).scores ?? []
  }
}

/// `ScriptedChatModel` without `ChoiceScoring`: a model that can only write text, like an
/// endpoint without logprobs, so decisions take `Chooser`'s parsed path.
package struct ScriptedTextModel: ScriptedModel {
  package let script: ChatScript
  package var identifier: String
  package var contextLength: Int

  package init(identifier: String = "scripted-text", contextLength: Int = 2_048, _ rules: [ChatScript.Rule]) {
    self.script = ChatScript(rules)
    self.identifier = identifier
    self.contextLength = contextLength
  }
}

/// What the two scripted models share: a script that answers and records every call, and
/// tokens counted as whitespace-separated words.
package protocol ScriptedModel: LanguageModel {
  var script: ChatScript { get }
}

extension ScriptedModel {
  /// Every call so far, in order.
  package var calls: [ScriptedCall] { script.calls }

  package func tokenCount(_ text: String) throws -> Int { ChatScript.words(text) }

  package func promptTokenCount(_ messages: [ChatMessage]) throws -> Int {
    messages.reduce(0) { $0 + ChatScript.words($1.content) }
  }

  package func stream(_ messages: [ChatMessage], parameters: GenerationParameters) -> AsyncThrowingStream<String, any Error> {
    script.stream(messages, parameters: parameters)
  }
}

extension [ScriptedCall] {
  /// The generations.
  package var generations: [ScriptedCall] { filter { $0.kind == .generate } }
  /// The scored choices.
  package var scorings: [ScriptedCall] { filter { $0.kind == .score } }
  /// The calls answered by the rule named `name`.
  package func answered(by name: String) -> [ScriptedCall] { filter { $0.rule == name } }
}
