import Foundation
public import TomeCore

/// Routes a question to the strategy its form and the collection's size call for, and
/// escalates when the answer is "not found" (METHODS-ORCHESTRATION.md, "How these compose").
///
/// A lookup goes to `rag`. A multi-hop question (a comparison of two named things, or a
/// bridge: a thing described through another) goes to `coc` when the documents a broad search
/// finds fit in one window, else to `agents`. A global question ("summarise", "main themes",
/// "overall") goes to `infty` when the reader sees one document and to `gor` over a
/// collection. "Not found" escalates rag → coc → agents. Every route and its reason is a trace
/// note, and the answer's strategy reads `auto→coc`.
public struct AutoStrategy: AnsweringStrategy {
  public var rag: RAGStrategy
  public var coc: CoCStrategy
  public var agents: AgentsStrategy
  public var gor: GoRStrategy
  public var infty: InftyStrategy
  public var kind: StrategyKind { .auto }

  public init(
    rag: RAGStrategy = .init(), coc: CoCStrategy = .init(), agents: AgentsStrategy = .init(), gor: GoRStrategy = .init(),
    infty: InftyStrategy = .init()
  ) {
    self.rag = rag
    self.coc = coc
    self.agents = agents
    self.gor = gor
    self.infty = infty
  }

  /// What a question's form suggests.
  public enum QuestionForm: String, Sendable, Hashable {
    case lookup, comparison, bridge
    /// About a whole document or collection: a summary, its themes, an overview.
    case global
  }

  public func run(question: String, context: AnsweringContext, log: TraceLog) async throws -> Answer {
    let (form, reason) = Self.form(of: question)
    var route: [any AnsweringStrategy]
    var why = "\(form.rawValue): \(reason)"
    if form == .lookup {
      route = [rag, coc, agents]
    } else if form == .global {
      let documents = try context.reader.documents().count
      route = documents == 1 ? [infty] : [gor]
      why += documents == 1 ? "; one document" : "; \(documents) documents"
    } else {
      let hits = try log.timed(.search, "size of the evidence", detail: question, count: \.count) {
        try context.reader.search(question, k: agents.configuration.searchDepth, documents: nil)
      }
      let documents = try context.reader.documents(of: hits).prefix(agents.configuration.agents)
      // Document sizes are in the chunker's (encoder's) tokens, the window in the model's; on
      // English text the two counts are within about a fifth of each other.
      let tokens = documents.reduce(0) { $0 + $1.tokens }
      let window = min(context.model.contextLength, rag.configuration.contextTokens ?? .max)
      if tokens > window {
        route = [agents]
        why += "; the top \(documents.count) documents hold \(tokens) tokens, more than the \(window)-token window"
      } else {
        route = [coc, agents]
        why += "; the top \(documents.count) documents hold \(tokens) tokens, within the \(window)-token window"
      }
    }
    log.record(TraceStep(kind: .note, label: "route → \(route[0].name)", detail: why))
    var answer: Answer?
    for (i, strategy) in route.enumerated() {
      if i > 0 {
        log.record(TraceStep(kind: .note, label: "escalate → \(strategy.name)", detail: "\(route[i - 1].name) found no answer"))
      }
      var a = try await strategy.run(question: question, context: context, log: log)
      a.strategy = "auto→\(strategy.name)"
      answer = a
      if !a.notFound { break }
    }
    guard var answer else { throw CancellationError() }
    answer.trace = log.recorded
    return answer
  }

  /// The question's form and why, by its wording.
  ///
  /// Comparison: "both", "same", "which … first", "older", "or" between two names.
  /// Bridge: two or more named things (capitalised words after the first), or a thing
  /// described by a clause ("the director of the film that …").
  public static func form(of question: String) -> (QuestionForm, String) {
    let words = question.split(whereSeparator: { $0.isWhitespace }).map { String($0) }
    let lower = words.map { $0.lowercased().trimmingCharacters(in: .punctuationCharacters) }
    if let cue = globalCue(lower) { return (.global, "\u{201C}\(cue)\u{201D} asks about the whole text") }
    let cues: Set<String> = [
      "both", "same", "either", "neither", "older", "younger", "earlier", "later", "first", "larger", "smaller",
      "longer", "shorter", "taller", "more", "fewer", "compare", "difference", "between",
    ]
    let names = nameSpans(words)
    if let cue = lower.first(where: cues.contains), names >= 2 || lower.contains("or") {
      return (.comparison, "\u{201C}\(cue)\u{201D} with \(names) named things")
    }
    if names >= 2 { return (.bridge, "\(names) named things") }
    let clause = zip(lower, lower.dropFirst()).contains { a, b in ["of", "by", "whose"].contains(a) && b == "the" }
    if clause && lower.contains(where: ["who", "that", "which", "whose"].contains) {
      return (.bridge, "a thing described through another")
    }
    return (.lookup, names == 1 ? "one named thing" : "no second thing named")
  }

  /// The words that make a question global: a summary, themes, an overview, "compare all".
  static func globalCue(_ lower: [String]) -> String? {
    let single: Set<String> = [
      "summarise", "summarize", "summary", "summarising", "summarizing", "overview", "themes", "overall", "outline",
    ]
    if let cue = lower.first(where: single.contains) { return cue }
    let pairs: [(String, String)] = [
      ("main", "points"), ("main", "arguments"), ("main", "ideas"), ("main", "topics"), ("key", "points"),
      ("key", "themes"), ("compare", "all"), ("key", "arguments"), ("main", "theme"),
    ]
    for (a, b) in zip(lower, lower.dropFirst()) where pairs.contains(where: { $0 == (a, b) }) { return "\(a) \(b)" }
    let joined = lower.joined(separator: " ")
    for phrase in ["what is this document about", "what is the document about", "what is this text about", "what are these documents about"]
    where joined.contains(phrase) { return phrase }
    return nil
  }

  /// Runs of capitalised words after the first word (a name, a title).
  static func nameSpans(_ words: [String]) -> Int {
    var count = 0
    var inside = false
    for (i, word) in words.enumerated() {
      let capital = i > 0 && (word.first?.isUppercase ?? false)
      if capital && !inside { count += 1 }
      inside = capital
    }
    return count
  }
}
