import Foundation
public import TomeCore

/// Turns a follow-up question of a conversation ("when was it sold?") into one that retrieval
/// can use alone ("when was Viaweb sold?").
///
/// A question that names its subject is left alone: only questions with a referring word (it,
/// he, that, …) or too few content words to search with are rewritten. The model's rewrite is
/// accepted only when it looks like a rewrite of this question: one line, not much longer, still a
/// question with the user's question words (how much, when, who…), keeping most of the
/// question's own content words, bringing in at least one word from the conversation, and not
/// repeating an earlier answer (issue 11: "how much do they usually invest?" once became the
/// previous answer, "Super-angels invest in companies that get bought early."). A
/// small model often fails that test (it answers instead, or repeats the example), so the
/// fallback resolves the reference for retrieval by appending the previous standalone question:
/// "when was it sold? (who founded Viaweb?)". Retrieval then sees the subject, and the answer
/// prompt still carries the user's own wording.
public struct FollowUpRewriter: Sendable {
  /// One earlier turn.
  public struct Turn: Sendable, Hashable {
    public var question: String
    public var standaloneQuestion: String
    public var answer: String

    public init(question: String, standaloneQuestion: String, answer: String) {
      self.question = question
      self.standaloneQuestion = standaloneQuestion
      self.answer = answer
    }
  }

  /// How a standalone question was obtained.
  public enum Method: String, Sendable, Hashable, Codable {
    /// The question stands alone (or there is no history).
    case unchanged
    /// The model rewrote it.
    case model
    /// The model's rewrite was rejected; the previous standalone question was appended.
    case appended
  }

  public static let templateName = "chat-rewrite.txt"

  /// Turns shown to the model, most recent last.
  public var historyTurns = 3
  /// Characters of each earlier answer shown to the model.
  public var answerCharacters = 300

  public init() {}

  /// Words that point back into the conversation.
  static let referringWords: Set<String> = [
    "it", "its", "he", "him", "his", "she", "her", "hers", "they", "them", "their", "theirs", "this", "that", "these",
    "those", "there", "then", "former", "latter", "same", "else", "also", "another", "other", "one", "ones",
  ]

  /// Words that make a question what it is; a rewrite must keep every one the user wrote.
  static let questionWords: Set<String> = [
    "how", "what", "when", "where", "which", "who", "whom", "whose", "why", "much", "many", "long", "often", "old", "far",
  ]

  /// Words that can open a yes/no question.
  static let questionOpeners: Set<String> = [
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "should", "has", "have", "had", "may",
    "might", "must", "shall",
  ]

  /// Whether `question` needs the conversation to be understood.
  public static func needsRewrite(_ question: String) -> Bool {
    let words = TextAnalysis.words(question)
    if words.contains(where: referringWords.contains) { return true }
    return TextAnalysis.contentWords(question).count < 2
  }

  /// The standalone form of `question` given `history` (oldest first).
  public func standalone(
    _ question: String, history: [Turn], model: any LanguageModel, prompts: PromptLibrary
  ) async throws -> (question: String, method: Method) {
    let question = question.trimmingCharacters(in: .whitespacesAndNewlines)
    guard let previous = history.last, Self.needsRewrite(question) else { return (question, .unchanged) }
    let recent = history.suffix(historyTurns)
    let lines = recent.map { turn -> String in
      let answer = turn.answer.split(whereSeparator: \.isNewline).joined(separator: " ")
      return "Q: \(turn.standaloneQuestion)\nA: \(answer.prefix(answerCharacters))"
    }
    let prompt = try prompts.template(Self.templateName).render(["history": lines.joined(separator: "\n"), "question": question])
    var parameters = GenerationParameters.greedy(maxTokens: 48)
    parameters.stop = ["\n"]
    let reply = try await model.reply(to: [.user(prompt)], parameters: parameters)
    if let rewrite = Self.accept(reply, for: question, history: Array(recent)) { return (rewrite, .model) }
    return ("\(question) (\(previous.standaloneQuestion))", .appended)
  }

  /// `reply` cleaned up, or nil when it is not a plausible standalone form of `question`.
  static func accept(_ reply: String, for question: String, history: [Turn]) -> String? {
    var text = reply.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    text = text.trimmingCharacters(in: .whitespaces)
    if text.lowercased().hasPrefix("rewritten:") { text = String(text.dropFirst("rewritten:".count)).trimmingCharacters(in: .whitespaces) }
    text = text.trimmingCharacters(in: CharacterSet(charactersIn: "\"'`"))
    guard !text.isEmpty, text.count <= question.count * 3 + 80, !text.contains("[") else { return nil }
    // Still a question: it asks (ends with "?" or opens like one) …
    let textWords = TextAnalysis.words(text)
    let asks = text.hasSuffix("?") || textWords.first.map { questionWords.contains($0) || questionOpeners.contains($0) } == true
    guard asks else { return nil }
    // … what the user asked: every question word of theirs is still there …
    let ownQuestionWords = Set(TextAnalysis.words(question)).intersection(questionWords)
    guard ownQuestionWords.isSubset(of: Set(textWords)) else { return nil }
    // … and it is not an earlier answer repeated.
    let normalised = TextAnalysis.normalised(text)
    guard !history.contains(where: { !$0.answer.isEmpty && TextAnalysis.normalised($0.answer).contains(normalised) }) else { return nil }
    let own = Set(TextAnalysis.contentWords(question).map(TextAnalysis.stem))
    let got = Set(TextAnalysis.contentWords(text).map(TextAnalysis.stem))
    // Keeps (most of) the question's own words…
    guard own.isEmpty || Double(own.intersection(got).count) / Double(own.count) >= 0.5 else { return nil }
    // …brings in something from the conversation…
    let context = Set(history.flatMap { TextAnalysis.contentWords($0.standaloneQuestion + " " + $0.answer) }.map(TextAnalysis.stem))
    guard !got.subtracting(own).intersection(context).isEmpty else { return nil }
    // …and has enough words to search with.
    guard got.count >= 2 else { return nil }
    return text
  }
}
