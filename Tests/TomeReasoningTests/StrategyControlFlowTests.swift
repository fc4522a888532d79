import Foundation
import Testing
import TomeCore
import TomeKit
@testable import TomeReasoning
import TomeTestSupport

/// Distinctive lines of the prompt templates (`Prompts/*.txt`), by which a script tells them apart.
enum TemplateLine {
  /// coc-clarify.txt
  static let clarify = "ask one short question about what you need to know first"
  /// coc-clarify-answer.txt
  static let clarifyAnswer = "Answer this question using only the paragraphs above"
  /// rag-answer.txt and coc-answer.txt (coc's also has a "Notes:" section).
  static let passagesAnswer = "Answer the question using only the passages above"
  /// choice-relevant.txt
  static let relevant = "Does the text above contain information that helps answer the question?"
  /// choice-supported.txt
  static let supported = "Is this answer correct and supported by the passages above?"
  /// agents-extract.txt
  static let extract = "Write down the facts from it that help answer the question"
  /// choice-answerable.txt
  static let answerable = "Can the question be answered from the notes above?"
  /// agents-answer.txt
  static let notesAnswer = "Answer the question using only the notes above"
}

/// Scripts for the strategies' prompts. Scored rules give the content-free input ("N/A") a
/// P(yes) of 0.2, like SmolLM2, so the calibrated threshold is what decides: 0.3 passes
/// (calibrated 0.63) and 0.1 does not (0.31).
enum Scripts {
  typealias Rule = ChatScript.Rule

  /// rag's answer prompt (the passages-answer line without coc's notes).
  static func ragAnswer(_ reply: String) -> Rule {
    Rule(
      "rag-answer", when: { Rule.prompt(contains: TemplateLine.passagesAnswer)($0) && !Rule.prompt(contains: "\nNotes:\n")($0) },
      reply: { _ in reply })
  }

  /// Relevance: 0.2 for the baseline, 0.3 when `relevant(text)`, else 0.1.
  static func relevance(_ relevant: @escaping @Sendable (String) -> Bool) -> Rule {
    .template(
      TemplateLine.relevant, name: "relevant",
      yes: { turn in
        let text = scoredText(turn.prompt)
        return text == "N/A" ? 0.2 : relevant(text) ? 0.3 : 0.1
      })
  }

  /// Every coc prompt: clarifications in turn, relevance by `relevant`, a fixed clarification
  /// answer, the self-check's P(yes) and the answer.
  static func coc(
    clarifications: [String], relevant: @escaping @Sendable (String) -> Bool, selfCheck: Double, answer: String
  ) -> [Rule] {
    [
      .template(TemplateLine.clarify, name: "clarify", replies: clarifications),
      relevance(relevant),
      .template(TemplateLine.clarifyAnswer, name: "clarify-answer", reply: "Immanuel Kant wrote it."),
      Rule(
        "coc-answer", when: { Rule.prompt(contains: TemplateLine.passagesAnswer)($0) && Rule.prompt(contains: "\nNotes:\n")($0) },
        reply: { _ in answer }),
      .template(TemplateLine.supported, name: "supported", yes: { $0.prompt.contains("Answer: N/A\n") ? 0.2 : selfCheck }),
    ]
  }

  /// Every agents prompt: relevance by `relevant`, an extraction naming the window's title,
  /// answerable once the notes hold `answerableFrom` lines (never when nil), and the answer.
  static func agents(relevant: @escaping @Sendable (String) -> Bool, answerableFrom: Int?, answer: String) -> [Rule] {
    [
      relevance(relevant),
      .template(TemplateLine.extract, name: "extract", reply: { "This part is about \(windowTitle($0.prompt))." }),
      .template(
        TemplateLine.answerable, name: "answerable",
        yes: { turn in
          let lines = notes(turn.prompt)
          if lines == ["N/A"] { return 0.2 }
          return answerableFrom.map { lines.count >= $0 } == true ? 0.9 : 0.1
        }),
      .template(TemplateLine.notesAnswer, name: "agents-answer", reply: answer),
    ]
  }

  /// The text a choice-relevant prompt asks about.
  static func scoredText(_ prompt: String) -> String {
    guard let start = prompt.range(of: "Text:\n") else { return "" }
    let rest = prompt[start.upperBound...]
    return String(rest[..<(rest.range(of: "\n\nQuestion: ")?.lowerBound ?? rest.endIndex)])
  }

  /// The first line (the file's title) of the window an extraction prompt shows.
  static func windowTitle(_ prompt: String) -> String {
    guard let start = prompt.range(of: "Text:\n") else { return "" }
    return prompt[start.upperBound...].split(separator: "\n").first.map(String.init) ?? ""
  }

  /// The lines of a notes section ("Notes:\n…\n\nQuestion:").
  static func notes(_ prompt: String) -> [String] {
    guard let start = prompt.range(of: "Notes:\n") else { return [] }
    let rest = prompt[start.upperBound...]
    return rest[..<(rest.range(of: "\n\nQuestion:")?.lowerBound ?? rest.endIndex)].split(separator: "\n").map(String.init)
  }
}

extension String {
  fileprivate var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
  fileprivate var wordCount: Int { split(whereSeparator: \.isWhitespace).count }
}

/// The strategies' control flow, with a scripted model over a real index (real SQLite, real
/// encoder, the real `CollectionReader`): which prompts are sent, in what order, and what each
/// decision does with the scores.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct StrategyControlFlowTests {
  static let kantQuestion = "When was Immanuel Kant born?"
  static let cocQuestion = "Where did the author of the Critique of Pure Reason die?"

  @Test("the corpus: seven files, one chunk each")
  func corpus() throws {
    let documents = try StrategyCorpus.load().reader().documents()
    #expect(documents.count == 7)
    #expect(documents.allSatisfy { $0.chunkCount == 1 })
  }

  // MARK: - Chooser and calibration

  @Test("Chooser, logprob path: each option's spellings are summed and the largest sum wins; traced as logprob")
  func chooserLogprob() async throws {
    let model = ScriptedChatModel([
      .template("Is it?", scores: ["yes": log(0.10), "Yes": log(0.30), "no": log(0.35), "No": log(0.02)])
    ])
    let trace = TraceLog()
    let choice = try await Chooser(model: model).choose(
      "is it", messages: [.user("Is it?")], options: ["yes", "no"], fallback: 1, log: trace)
    // "no" is the likeliest single spelling: "yes" wins only because its spellings are summed.
    #expect(choice.chosen == "yes" && choice.method == .logprob)
    #expect(abs(choice.scores[0] - log(0.40)) < 1e-9 && abs(choice.scores[1] - log(0.37)) < 1e-9)
    #expect(model.calls.map(\.kind) == [.score])
    #expect(model.calls.first?.options == ["yes", "Yes", "no", "No"])
    let steps = trace.recorded
    #expect(steps.count == 1)
    let step = try #require(steps.first)
    #expect(step.kind == .decision && step.label == "is it" && step.method == "logprob")
    #expect(step.chosen == "yes" && step.options == ["yes", "no"] && step.scores == choice.scores)
  }

  @Test(
    "Chooser, parsed path: the option the reply starts with, else the first it mentions, else the fallback; traced as parsed",
    arguments: [
      ("No, the text says nothing about it.", "no"),
      ("Yes.", "yes"),
      ("I would say yes rather than no.", "yes"),
      ("It says no rather than yes.", "no"),
      ("Perhaps.", "skip"),
      // Whole words only: "know" does not mention "no", "Not" does not start with it.
      ("I don't know.", "skip"),
      ("Not sure.", "skip"),
    ])
  func chooserParsed(reply: String, expected: String) async throws {
    let model = ScriptedTextModel([.template("Is it?", reply: reply)])
    let trace = TraceLog()
    let options = ["yes", "no", "skip"]
    let choice = try await Chooser(model: model).choose(
      "is it", messages: [.user("Is it?")], options: options, fallback: 2, log: trace)
    #expect(choice.chosen == expected && choice.method == .parsed)
    #expect(model.calls.map(\.kind) == [.generate])
    #expect(model.calls.first?.parameters?.maxTokens == 8)
    let step = try #require(trace.recorded.first)
    #expect(trace.recorded.count == 1)
    #expect(step.kind == .decision && step.method == "parsed" && step.chosen == expected)
    #expect(step.scores == options.map { $0 == expected ? 0 : -.infinity })
  }

  @Test("calibration: P(yes) 0.3 against a baseline of 0.2 passes 0.5, 0.1 does not; no baseline without scores")
  func calibration() async throws {
    #expect(StrategyPrompts.calibrated(0.3, baseline: 0.2) > 0.5)
    #expect(StrategyPrompts.calibrated(0.1, baseline: 0.2) < 0.5)

    let corpus = try StrategyCorpus.load()
    let model = ScriptedChatModel([Scripts.relevance { $0.contains("Kant") }])
    let prompts = try StrategyPrompts(corpus.context(model))
    let trace = TraceLog()
    let question = Self.kantQuestion
    let baseline = try #require(
      try await prompts.baseline("baseline", "choice-relevant.txt", ["question": question, "text": "N/A"], log: trace))
    #expect(abs(baseline - 0.2) < 1e-9)
    let kant = ["question": question, "text": "Kant was born in Königsberg."]
    let bees = ["question": question, "text": "Bees dance."]
    #expect(try await prompts.yes("kant", "choice-relevant.txt", kant, baseline: baseline, log: trace) > 0.5)
    #expect(try await prompts.yes("kant raw", "choice-relevant.txt", kant, log: trace) < 0.5)
    #expect(try await prompts.yes("bees", "choice-relevant.txt", bees, baseline: baseline, log: trace) < 0.5)
    #expect(model.calls.map(\.kind) == [.score, .score, .score, .score])
    #expect(trace.recorded.map(\.method) == ["logprob", "logprob", "logprob", "logprob"])

    // A model that cannot score has no baseline, and asking for one calls nothing.
    let text = ScriptedTextModel([])
    let none = try await StrategyPrompts(corpus.context(text)).baseline(
      "baseline", "choice-relevant.txt", ["question": question, "text": "N/A"], log: trace)
    #expect(none == nil && text.calls.isEmpty)
  }

  // MARK: - rag

  @Test("rag: nothing related retrieved is not found without a model call")
  func ragNotFound() async throws {
    let corpus = try StrategyCorpus.load()
    let model = ScriptedChatModel([])  // any call would fail: no rule answers it
    let answer = try await RAGStrategy().answer(
      question: "What is the boiling point of liquid nitrogen in kelvin?", context: corpus.context(model))
    #expect(model.calls.isEmpty)
    #expect(answer.notFound && answer.model == nil && answer.tokens.calls == 0)
    #expect(answer.trace.contains { $0.kind == .note && $0.label == "not found" })
    #expect(!answer.trace.contains { $0.kind == .modelCall })
  }

  @Test("rag: one generation; the trace has the search and one model_call with its token counts")
  func ragAnswers() async throws {
    let corpus = try StrategyCorpus.load()
    let reply = "Kant was born on 22 April 1724 [1]."
    let model = ScriptedChatModel([Scripts.ragAnswer(reply)])
    let question = Self.kantQuestion
    let answer = try await RAGStrategy().answer(question: question, context: corpus.context(model))

    #expect(model.calls.map(\.kind) == [.generate])
    let call = try #require(model.calls.first)
    #expect(call.prompt.contains("born on 22 April 1724"))
    #expect(answer.text == reply && answer.strategy == "rag" && !answer.notFound)

    let searches = answer.trace.filter { $0.kind == .search }
    #expect(searches.count == 1)
    #expect(searches.first?.label == "passages" && searches.first?.detail == question)
    #expect(searches.first?.results == answer.passages.count + answer.dropped.count)
    let calls = answer.trace.filter { $0.kind == .modelCall }
    #expect(calls.count == 1)
    let step = try #require(calls.first)
    #expect(step.label == "answer")
    #expect(step.promptTokens == call.messages.reduce(0) { $0 + $1.content.wordCount })
    #expect(step.answerTokens == reply.wordCount)
    #expect(answer.tokens.calls == 1 && answer.tokens.prompt == step.promptTokens && answer.tokens.answer == reply.wordCount)

    let citation = try #require(answer.citations.first)
    #expect(citation.number == 1 && citation.verified && citation.path == answer.passages.first?.span.path)
    #expect(citation.path?.hasSuffix("kant.txt") == true)
  }

  // MARK: - coc

  @Test("coc: clarify, point back (search with the clarification, score the prefiltered paragraphs, pin the relevant), answer the clarification, answer; an accepted self-check ends it")
  func cocOneRound() async throws {
    let corpus = try StrategyCorpus.load()
    let clarification = "Who wrote the Critique of Pure Reason?"
    let reply = "Kant died in Königsberg [1]."
    let model = ScriptedChatModel(
      Scripts.coc(clarifications: [clarification], relevant: { $0.contains("Kant") }, selfCheck: 0.9, answer: reply))
    let answer = try await CoCStrategy(configuration: .init(depth: 3, prefilter: 3, keepPool: false))
      .answer(question: Self.cocQuestion, context: corpus.context(model))

    #expect(
      model.calls.map { $0.rule ?? "?" } == [
        "clarify", "relevant", "relevant", "relevant", "relevant", "clarify-answer", "coc-answer", "supported", "supported",
      ])
    let pointback = answer.trace.filter { $0.kind == .search && $0.label == "pointback" }
    #expect(pointback.count == 1 && pointback.first?.detail == clarification)

    // A content-free baseline, then the three prefiltered paragraphs, each with the sub-question.
    let relevance = model.calls.answered(by: "relevant")
    #expect(relevance.allSatisfy { $0.prompt.contains("\nSub-question: \(clarification)") })
    let scored = relevance.map { Scripts.scoredText($0.prompt) }
    #expect(scored.first == "N/A" && scored.count == 4)
    let paragraphs = scored.dropFirst().map(\.trimmed)
    let pinned = paragraphs.filter { $0.contains("Kant") }
    try #require(pinned.count == 1, "the Kant paragraph is among the encoder's three best: \(paragraphs)")

    // The clarification is answered from the pinned paragraph only, and so is the question.
    let clarifying = try #require(model.calls.answered(by: "clarify-answer").first).prompt
    #expect(clarifying.contains("Question: \(clarification)"))
    let final = try #require(model.calls.answered(by: "coc-answer").first).prompt
    #expect(final.contains("- \(clarification) Immanuel Kant wrote it."))
    for p in paragraphs {
      #expect(clarifying.contains(p) == pinned.contains(p))
      #expect(final.contains(p) == pinned.contains(p))
    }
    #expect(answer.passages.map(\.text.trimmed) == pinned)
    #expect(!answer.trace.contains { $0.kind == .note && $0.label == "pointback" }, "pinned by score, not as the encoder's best")
    #expect(answer.strategy == "coc" && answer.text == reply && !answer.notFound)
    #expect(answer.trace.contains { $0.kind == .decision && $0.label == "self-check 1" && $0.chosen == "yes" })
    #expect(answer.tokens.calls == model.calls.count)
  }

  @Test("coc: a self-check that says no runs another round, which shows the pinned paragraphs first; the chain stops at depth")
  func cocSecondRound() async throws {
    let corpus = try StrategyCorpus.load()
    let clarifications = ["Who wrote the Critique of Pure Reason?", "Which river runs through Königsberg?"]
    let model = ScriptedChatModel(
      Scripts.coc(
        clarifications: clarifications, relevant: { $0.contains("Kant") || $0.contains("Pregel") }, selfCheck: 0.1,
        answer: "He died in Königsberg [1]."))
    let answer = try await CoCStrategy(configuration: .init(depth: 2, prefilter: 3, keepPool: false))
      .answer(question: Self.cocQuestion, context: corpus.context(model))

    let round = ["clarify", "relevant", "relevant", "relevant", "relevant", "clarify-answer", "coc-answer"]
    #expect(model.calls.map { $0.rule ?? "?" } == round + ["supported", "supported"] + round)
    #expect(
      answer.trace.filter { $0.kind == .modelCall }.map(\.label) == [
        "clarify 1", "answer clarification 1", "answer 1", "clarify 2", "answer clarification 2", "answer 2",
      ])
    let decisions = answer.trace.filter { $0.kind == .decision }.map(\.label)
    #expect(decisions.contains("self-check 1") && !decisions.contains("self-check 2"))
    #expect(answer.trace.filter { $0.label == "pointback" && $0.kind == .search }.compactMap(\.detail) == clarifications)

    // What each round pinned: the paragraphs scored relevant, else the encoder's best.
    let relevance = model.calls.answered(by: "relevant").map { Scripts.scoredText($0.prompt).trimmed }
    let first = Array(relevance[1..<4])
    let second = Array(relevance[5..<8])
    let isRelevant = { (p: String) in p.contains("Kant") || p.contains("Pregel") }
    let pinnedFirst = first.filter(isRelevant)
    try #require(!pinnedFirst.isEmpty)
    let pinnedSecond = second.contains(where: isRelevant) ? second.filter(isRelevant) : [second[0]]
    // Round 2 does not score what round 1 pinned, and its clarifying prompt shows it first.
    #expect(Set(second).isDisjoint(with: pinnedFirst))
    let clarify2 = model.calls.answered(by: "clarify")[1].prompt
    #expect(clarify2.contains("Paragraphs:\n\n[1] \(pinnedFirst[0])"))
    // The last answer reads both notes and every pinned paragraph; they are its passages.
    let final = model.calls.answered(by: "coc-answer")[1].prompt
    #expect(clarifications.allSatisfy { final.contains("- \($0) Immanuel Kant wrote it.") })
    #expect(Set(answer.passages.map(\.text.trimmed)) == Set(pinnedFirst + pinnedSecond))
    #expect(answer.passages.count == pinnedFirst.count + pinnedSecond.count)
    #expect(answer.text == "He died in Königsberg [1]." && !answer.notFound)
  }

  @Test("coc: when no paragraph scores relevant the encoder's best is pinned, with a note")
  func cocEncoderBest() async throws {
    let corpus = try StrategyCorpus.load()
    let model = ScriptedChatModel(
      Scripts.coc(
        clarifications: ["Who wrote the Critique of Pure Reason?"], relevant: { _ in false }, selfCheck: 0.9,
        answer: "Kant died in Königsberg [1]."))
    let answer = try await CoCStrategy(configuration: .init(depth: 1, prefilter: 3, keepPool: false))
      .answer(question: Self.cocQuestion, context: corpus.context(model))
    // Depth 1: the only round is the last, so there is no self-check.
    #expect(
      model.calls.map { $0.rule ?? "?" } == [
        "clarify", "relevant", "relevant", "relevant", "relevant", "clarify-answer", "coc-answer",
      ])
    let best = Scripts.scoredText(model.calls.answered(by: "relevant")[1].prompt).trimmed
    #expect(answer.passages.map(\.text.trimmed) == [best])
    #expect(answer.trace.contains { $0.kind == .note && $0.label == "pointback" })
  }

  @Test("coc by default: the final answer reads the pinned paragraphs first, then rag's passages while they fit")
  func cocKeepsPool() async throws {
    let corpus = try StrategyCorpus.load()
    let model = ScriptedChatModel(
      Scripts.coc(
        clarifications: ["Who wrote the Critique of Pure Reason?"], relevant: { $0.contains("Kant") }, selfCheck: 0.9,
        answer: "Kant died in Königsberg [1]."))
    let answer = try await CoCStrategy(configuration: .init(depth: 1, prefilter: 3, keepPool: true), rag: .init(ordering: .rank))
      .answer(question: Self.cocQuestion, context: corpus.context(model))
    let pinned = model.calls.answered(by: "relevant").dropFirst().map { Scripts.scoredText($0.prompt).trimmed }
      .filter { $0.contains("Kant") }
    try #require(pinned.count == 1)
    // Rank order (no edge reordering): the pinned paragraph first, then more than it alone.
    #expect(answer.passages.first.map(\.text.trimmed) == pinned[0])
    #expect(answer.passages.count > 1)
    let final = try #require(model.calls.answered(by: "coc-answer").first).prompt
    #expect(answer.passages.allSatisfy { final.contains($0.text.trimmed) })
    let ids = answer.passages.flatMap(\.chunkIDs)
    #expect(Set(ids).count == ids.count, "no paragraph twice")
  }

  @Test("coc: \u{201C}not found\u{201D} ends the chain at once")
  func cocNotFound() async throws {
    let corpus = try StrategyCorpus.load()
    let model = ScriptedChatModel(
      Scripts.coc(
        clarifications: ["Who wrote the Critique of Pure Reason?"], relevant: { $0.contains("Kant") }, selfCheck: 0.1,
        answer: "Not found in the collection."))
    let answer = try await CoCStrategy(configuration: .init(depth: 3, prefilter: 3, keepPool: false))
      .answer(question: Self.cocQuestion, context: corpus.context(model))
    #expect(
      model.calls.map { $0.rule ?? "?" } == [
        "clarify", "relevant", "relevant", "relevant", "relevant", "clarify-answer", "coc-answer",
      ])
    #expect(answer.notFound && answer.strategy == "coc")
    #expect(!answer.trace.contains { $0.label.hasPrefix("clarify 2") || $0.label.hasPrefix("self-check") })
  }

  // MARK: - agents

  /// The texts of the first five documents the broad search finds, in hit order: what agents
  /// with 3 windows of 256 words should read (five 139–151-word files fit in 768 words, six do not).
  static func topDocuments(_ question: String, corpus: StrategyCorpus) throws -> [String] {
    let reader = corpus.reader()
    var order: [DocumentID] = []
    for hit in try reader.search(question, k: 24, documents: nil) {
      if let document = hit.document, !order.contains(document) { order.append(document) }
    }
    let texts = try order.map { try reader.chunks(of: $0).map(\.text.trimmed).joined(separator: "\n\n") }
    #expect(texts.count == 7)
    #expect(texts.prefix(5).reduce(0) { $0 + $1.wordCount } <= 768 && texts.prefix(6).reduce(0) { $0 + $1.wordCount } > 768)
    return Array(texts.prefix(5))
  }

  @Test("agents: windows are the top documents; an irrelevant window gets no extraction; the reasoner tries top 1, 2, 4; the answer cites the extractions' chunks")
  func agentsAnswer() async throws {
    let corpus = try StrategyCorpus.load()
    let question = Self.kantQuestion
    let windows = try Self.topDocuments(question, corpus: corpus)
    let titles = windows.map { String($0.split(separator: "\n")[0]) }
    let skipped = titles[1]
    let model = ScriptedChatModel(
      Scripts.agents(relevant: { !$0.hasPrefix(skipped) }, answerableFrom: 4, answer: "Kant was born in 1724 [1]."))
    let strategy = AgentsStrategy(configuration: .init(agents: 3, windowTokens: 256, rounds: 2, parallel: 1))
    let answer = try await strategy.answer(question: question, context: corpus.context(model))

    #expect(answer.trace.contains { $0.kind == .note && $0.label == "agents" && $0.detail == "5 windows of up to 256 tokens" })
    let scored = model.calls.answered(by: "relevant").map { Scripts.scoredText($0.prompt) }
    #expect(scored == ["N/A"] + windows)
    let extractions = model.calls.answered(by: "extract")
    #expect(extractions.map { Scripts.windowTitle($0.prompt) } == titles.filter { $0 != skipped })
    #expect(!extractions.contains { $0.prompt.contains("Already known") })

    let decisions = answer.trace.filter { $0.kind == .decision && $0.label.hasPrefix("answerable") }.map(\.label)
    #expect(decisions == ["answerable baseline", "answerable from top 1", "answerable from top 2", "answerable from top 4"])
    let final = try #require(model.calls.answered(by: "agents-answer").first)
    #expect(model.calls.answered(by: "agents-answer").count == 1)
    let notes = Scripts.notes(final.prompt)
    #expect(notes.count == 4)
    // Note [n] is passage n: the chunk of the window its extraction came from.
    #expect(answer.passages.count == notes.count)
    for (note, passage) in zip(notes, answer.passages) {
      let title = String(passage.text.trimmed.split(separator: "\n")[0])
      #expect(note.hasSuffix("This part is about \(title)."), "\(note) / \(title)")
      #expect(windows.contains(passage.text.trimmed))
    }
    let citation = try #require(answer.citations.first)
    #expect(citation.verified && citation.path == answer.passages.first?.span.path)
    #expect(answer.strategy == "agents" && !answer.notFound)
  }

  @Test("agents: when nothing is answerable the next round's extraction prompts carry the scratchpad")
  func agentsScratchpad() async throws {
    let corpus = try StrategyCorpus.load()
    let question = Self.kantQuestion
    let windows = try Self.topDocuments(question, corpus: corpus)
    let skipped = String(windows[1].split(separator: "\n")[0])
    let model = ScriptedChatModel(
      Scripts.agents(relevant: { !$0.hasPrefix(skipped) }, answerableFrom: nil, answer: "Kant was born in 1724."))
    let strategy = AgentsStrategy(configuration: .init(agents: 3, windowTokens: 256, rounds: 2, parallel: 1))
    let answer = try await strategy.answer(question: question, context: corpus.context(model))

    let extractions = model.calls.answered(by: "extract")
    #expect(extractions.count == 8)
    let first = extractions.prefix(4)
    let second = extractions.dropFirst(4)
    #expect(!first.contains { $0.prompt.contains("Already known") })
    for call in second {
      #expect(call.prompt.contains("Already known from other parts of the text:\n- "))
      for earlier in first { #expect(call.prompt.contains("- \(earlier.reply ?? "?")\n")) }
    }
    // Round 2 found nothing new, so its reasoner had to answer from every extraction.
    #expect(answer.trace.contains { $0.kind == .note && $0.label == "round 2" })
    #expect(model.calls.answered(by: "agents-answer").count == 1)
    #expect(answer.passages.count == 4)
  }

  // MARK: - auto

  @Test("auto: a lookup question routes to rag")
  func autoLookup() async throws {
    let corpus = try StrategyCorpus.load()
    let model = ScriptedChatModel([Scripts.ragAnswer("Kant was born on 22 April 1724 [1].")])
    let answer = try await AutoStrategy().answer(question: Self.kantQuestion, context: corpus.context(model))
    #expect(answer.strategy == "auto→rag")
    let notes = answer.trace.filter { $0.kind == .note }
    #expect(notes.first?.label == "route → rag" && notes.first?.detail?.hasPrefix("lookup") == true)
    #expect(!notes.contains { $0.label.hasPrefix("escalate") })
    #expect(model.calls.map { $0.rule ?? "?" } == ["rag-answer"])
  }

  @Test(
    "auto: a comparison routes to coc when the top documents fit the window, else to agents",
    arguments: [(2_048, "coc"), (512, "agents")])
  func autoComparison(contextLength: Int, expected: String) async throws {
    let corpus = try StrategyCorpus.load()
    let german = { @Sendable (text: String) in text.contains("German") }
    let rules =
      expected == "coc"
      ? Scripts.coc(clarifications: ["What nationality was Bach?"], relevant: german, selfCheck: 0.9, answer: "Both were German [1].")
      : Scripts.agents(relevant: german, answerableFrom: 1, answer: "Both were German [1].")
    let model = ScriptedChatModel(contextLength: contextLength, rules)
    let question = "Were Bach and Handel of the same nationality?"
    #expect(AutoStrategy.form(of: question).0 == .comparison)
    let answer = try await AutoStrategy().answer(question: question, context: corpus.context(model))
    #expect(answer.strategy == "auto→\(expected)")
    let route = try #require(answer.trace.first { $0.kind == .note && $0.label.hasPrefix("route") })
    #expect(route.label == "route → \(expected)" && route.detail?.hasPrefix("comparison") == true)
    #expect(answer.trace.contains { $0.kind == .search && $0.label == "size of the evidence" })
    #expect(!answer.notFound && answer.text == "Both were German [1].")
  }

  @Test("auto: rag's \u{201C}not found\u{201D} escalates to coc; the strategy reads auto→coc")
  func autoEscalates() async throws {
    let corpus = try StrategyCorpus.load()
    let model = ScriptedChatModel(
      [Scripts.ragAnswer("Not found in the collection.")]
        + Scripts.coc(
          clarifications: ["Who is Immanuel Kant?"], relevant: { $0.contains("Kant") }, selfCheck: 0.9,
          answer: "Kant was born in 1724 [1]."))
    let answer = try await AutoStrategy(coc: CoCStrategy(configuration: .init(prefilter: 3)))
      .answer(question: Self.kantQuestion, context: corpus.context(model))
    #expect(answer.strategy == "auto→coc" && !answer.notFound && answer.text == "Kant was born in 1724 [1].")
    #expect(answer.trace.filter { $0.kind == .note && ($0.label.hasPrefix("route") || $0.label.hasPrefix("escalate")) }
      .map(\.label) == ["route → rag", "escalate → coc"])
    #expect(model.calls.first?.rule == "rag-answer" && model.calls.dropFirst().first?.rule == "clarify")
    #expect(answer.trace.filter { $0.kind == .modelCall }.first?.label == "answer")
  }

  // MARK: - Finishing

  @Test("finisher: an unmarked sentence is attributed to the exact lines of its source sentence; an unrelated one is unsupported; a marked one is not attributed again")
  func attribution() async throws {
    let corpus = try StrategyCorpus.load()
    let passage = try #require(try corpus.reader().search(Self.kantQuestion, k: 1, documents: nil).first)
    #expect(passage.span.path.hasSuffix("kant.txt"))
    let text = "Kant was born on 22 April 1724 in Königsberg. Volcanoes on Mars erupt molten basalt. Kant wrote the Critique of Pure Reason [1]."
    let answer = try AnswerFinisher().finish(
      AnswerDraft(question: Self.kantQuestion, strategy: "test", text: text, passages: [passage]),
      context: corpus.context(ScriptedChatModel([])), log: TraceLog())

    #expect(answer.attributions.count == 1)
    let attribution = try #require(answer.attributions.first)
    #expect(attribution.sentence == "Kant was born on 22 April 1724 in Königsberg.")
    #expect(attribution.path == passage.span.path && attribution.chunkID == passage.id)
    // "He was born on 22 April 1724 in Königsberg, …, for his whole life." runs from line 3 to line 5.
    #expect(attribution.firstLine == 3 && attribution.lastLine == 5)
    let lines = try StrategyCorpus.lines(attribution.path, attribution.firstLine, attribution.lastLine)
    #expect(lines.first?.hasSuffix("He was") == true && lines.last == "lived in that city for his whole life.")
    #expect(lines.joined(separator: " ").contains("He was born on 22 April 1724 in Königsberg, in the Kingdom of Prussia"))

    #expect(answer.unsupportedSentences == ["Volcanoes on Mars erupt molten basalt."])
    let citation = try #require(answer.citations.first)
    #expect(answer.citations.count == 1 && citation.number == 1 && citation.verified && citation.path == passage.span.path)
    #expect(!answer.attributions.contains { $0.sentence.contains("[1]") })
  }
}
