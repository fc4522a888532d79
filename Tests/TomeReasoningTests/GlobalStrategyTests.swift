import Foundation
import Testing
import TomeCore
import TomeKit
@testable import TomeReasoning
import TomeTestSupport

/// Distinctive lines of the global strategies' templates.
enum GlobalLine {
  /// gor-question.txt
  static let simulate = "Write one question that the text above answers completely"
  /// gor-answer.txt
  static let gorAnswer = "Using the notes and the passages above, answer the question"
  /// infty-read.txt
  static let read = "Rewrite the summary so far as a list of short points"
  /// infty-answer.txt
  static let inftyAnswer = "Answer the question using the summary and the passages above"
  /// mapreduce-map.txt
  static let map = "Summarise what it says that helps answer the question"
  /// mapreduce-reduce.txt
  static let reduce = "Merge the summaries above into one summary"
}

/// `gor`, `infty` and `mapreduce` with a scripted model over the real seven-file index
/// (`StrategyCorpus`: one chunk per file, a word is a token).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct GlobalStrategyTests {
  typealias Rule = ChatScript.Rule

  /// The title (first line) of the text a `Text:` prompt shows.
  static func title(_ prompt: String) -> String {
    guard let start = prompt.range(of: "Text:\n") else { return "" }
    return prompt[start.upperBound...].split(separator: "\n").first.map(String.init) ?? ""
  }

  /// Every gor prompt: a question naming the chunk's title (or, for `statement` titles, a
  /// statement), rag's answer citing [1], and the final answer.
  static func gorRules(statementFor: Set<String> = [], answer: String = "The collection is about philosophers, composers, cities and bees [1].") -> [Rule] {
    [
      .template(GlobalLine.simulate, name: "simulate", reply: { turn in
        let t = title(turn.prompt)
        return statementFor.contains(t) ? "\(t) is described here." : "What does the text tell us about \(t)?"
      }),
      Scripts.ragAnswer("This part describes its subject [1]."),
      .template(GlobalLine.gorAnswer, name: "gor-answer", reply: answer),
    ]
  }

  @Test("gor: Q strata, one simulated question and rag answer each, stored as records; the answer reads them as notes and cites chunks")
  func gorBuildsRecords() async throws {
    let corpus = try StrategyCorpus.load()
    let memory = TransientRecords()
    let model = ScriptedChatModel(Self.gorRules())
    var context = corpus.context(model)
    context.records = memory
    let strategy = GoRStrategy(configuration: .init(questions: 4, nodes: 6))
    let answer = try await strategy.answer(question: "What are the main themes of these texts?", context: context)

    #expect(model.calls.answered(by: "simulate").count == 4)
    #expect(model.calls.answered(by: "rag-answer").count == 4)
    #expect(model.calls.answered(by: "gor-answer").count == 1)
    #expect(answer.trace.contains { $0.label == "records" && $0.detail?.hasSuffix("0 of 4 strata covered, 4 to simulate") == true })
    let records = try memory.records(linkedTo: nil)
    #expect(records.count == 4)
    #expect(records.allSatisfy { $0.origin == .simulated && $0.strategy == "gor" && !$0.shown.isEmpty && $0.vector.count == 384 })
    // Each stratum's middle chunk is its record's first edge: four different chunks.
    #expect(Set(records.compactMap(\.shown.first)).count == 4)
    // The simulated questions are the model's, first line up to the question mark.
    #expect(records.allSatisfy { $0.question.hasPrefix("What does the text tell us about ") && $0.question.hasSuffix("?") })

    let final = try #require(model.calls.answered(by: "gor-answer").first)
    let notes = final.prompt.components(separatedBy: "\n").filter { $0.hasPrefix("- What does the text tell us about") }
    #expect(!notes.isEmpty)
    #expect(notes.allSatisfy { $0.contains("(see [") })
    // Records are notes, never sources: every passage is a chunk of the index.
    let chunkTexts = Set(try corpus.reader().documents().flatMap { try corpus.reader().chunks(of: $0.id).map(\.text) })
    #expect(!answer.passages.isEmpty && answer.passages.allSatisfy { chunkTexts.contains($0.text) })
    #expect(answer.strategy == "gor" && answer.citations.first?.verified == true)
    #expect(answer.trace.contains { $0.kind == .note && $0.label == "graph" })
  }

  @Test("gor: a second global question over the same text reuses every record and makes one model call")
  func gorReusesRecords() async throws {
    let corpus = try StrategyCorpus.load()
    let memory = TransientRecords()
    var context = corpus.context(ScriptedChatModel(Self.gorRules()))
    context.records = memory
    let strategy = GoRStrategy(configuration: .init(questions: 3))
    _ = try await strategy.answer(question: "Summarise the collection.", context: context)
    #expect(try memory.records(linkedTo: nil).count == 3)

    let second = ScriptedChatModel(Self.gorRules())
    context.model = second
    let answer = try await strategy.answer(question: "What are the key points of these texts?", context: context)
    #expect(second.calls.map { $0.rule ?? "?" } == ["gor-answer"])
    #expect(answer.trace.contains { $0.label == "records" && $0.detail == "3 records on this text; 3 of 3 strata covered, 0 to simulate" })
    #expect(try memory.records(linkedTo: nil).count == 3)
  }

  @Test("gor: a reply that is not a question is replaced by one made from the chunk's key words, with a note")
  func gorKeywordQuestion() async throws {
    let corpus = try StrategyCorpus.load()
    let documents = try corpus.reader().documents()
    let kant = try #require(documents.first { $0.path.hasSuffix("kant.txt") })
    let memory = TransientRecords()
    var context = corpus.context(ScriptedChatModel(Self.gorRules(statementFor: ["Immanuel Kant"])))
    context.reader = corpus.reader().scoped(to: [kant.id])
    context.records = memory
    let answer = try await GoRStrategy(configuration: .init(questions: 4)).answer(question: "Summarise this document.", context: context)
    // One document of one chunk: one stratum.
    let records = try memory.records(linkedTo: nil)
    #expect(records.count == 1)
    #expect(records.first?.question.hasPrefix("What does the text say about ") == true)
    #expect(records.first?.question.lowercased().contains("kant") == true)
    #expect(answer.trace.contains { $0.label == "question 1 made from key words" })
    #expect(answer.passages.allSatisfy { $0.span.path.hasSuffix("kant.txt") })
  }

  @Test("gor helpers: strata are contiguous and cover everything; a question is the first line up to its mark")
  func gorHelpers() {
    #expect(GoRStrategy.strata(count: 7, parts: 3) == [0..<2, 2..<4, 4..<7])
    #expect(GoRStrategy.strata(count: 2, parts: 12) == [0..<1, 1..<2])
    #expect(GoRStrategy.strata(count: 0, parts: 4).isEmpty)
    #expect(GoRStrategy.question(in: "Question: Who wrote the Critique of Pure Reason? It was Kant.") == "Who wrote the Critique of Pure Reason?")
    #expect(GoRStrategy.question(in: "Kant wrote it.\nWhy walk?") == nil)
    #expect(GoRStrategy.question(in: "Kant wrote it.\nWhy did Kant walk daily?") == "Why did Kant walk daily?")
    #expect(GoRStrategy.keywordQuestion(for: "Bees make honey. Bees dance. Honey is sweet; hives hold honey.") == "What does the text say about honey, bees and dance?")
  }

  // MARK: - infty

  /// infty's prompts: each round's reply is `summary(round)`; the answerable score by `answerable`.
  static func inftyRules(
    summary: @escaping @Sendable (Int) -> String = { "* point from segment \($0 + 1)" }, answerable: Double = 0.1,
    point: Bool = false,
    answer: String = "Kant was born in 1724 [1]."
  ) -> [Rule] {
    [
      .template(GlobalLine.read, name: "read", reply: { turn in
        // With `point`, the new point names the segment's first title (what evidence pins by).
        guard point, let start = turn.prompt.range(of: "Next part of the text:\n") else { return summary(turn.occurrence) }
        let title = turn.prompt[start.upperBound...].split(separator: "\n").first.map(String.init) ?? ""
        return summary(turn.occurrence) + "\n* \(title) was born in the eighteenth century"
      }),
      .template(TemplateLine.answerable, name: "answerable", yes: { $0.prompt.contains("Notes:\nN/A\n") ? 0.2 : answerable }),
      .template(GlobalLine.inftyAnswer, name: "infty-answer", reply: answer),
    ]
  }

  @Test("infty: segments in order, each prompt holds the question, the last summary, the pinned evidence and one segment; the prompt stays flat")
  func inftyReads() async throws {
    let corpus = try StrategyCorpus.load()
    let model = ScriptedChatModel(Self.inftyRules(point: true))
    let strategy = InftyStrategy(configuration: .init(segmentTokens: 320, summaryTokens: 60, evidenceTokens: 120, searchDepth: 7))
    let answer = try await strategy.answer(question: "Summarise what these texts say about their subjects.", context: corpus.context(model))

    let reads = model.calls.answered(by: "read")
    // Seven chunks of 139–151 words, two per 320-token segment: four segments.
    #expect(reads.count == 4)
    for (i, call) in reads.enumerated() {
      #expect(call.prompt.hasPrefix("Question: Summarise what these texts say about their subjects."))
      #expect(call.prompt.contains(i == 0 ? "Summary so far:\n(nothing yet)" : "Summary so far:\n* point from segment \(i)\n* "))
      #expect(call.parameters?.maxTokens == 60)
    }
    #expect(reads.dropFirst().allSatisfy { $0.prompt.contains("Evidence kept so far:\n[1] ") })
    // Global question: never asked whether it can stop.
    #expect(model.calls.answered(by: "answerable").isEmpty)
    let sizes = answer.trace.filter { $0.kind == .modelCall && $0.label.hasPrefix("segment") }.compactMap(\.promptTokens)
    #expect(sizes.count == 4 && sizes.max()! <= 320 + 60 + 120 + 80)
    let final = try #require(model.calls.answered(by: "infty-answer").first)
    #expect(final.prompt.contains("Summary of the text:\n* point from segment 4"))
    // The answer cites the pinned evidence sentences, each a span of its file.
    #expect(!answer.passages.isEmpty && answer.evidence.count == answer.passages.count)
    let citation = try #require(answer.citations.first)
    #expect(citation.verified && citation.path == answer.passages[0].span.path)
    let lines = try StrategyCorpus.lines(answer.passages[0].span.path, answer.passages[0].span.firstLine, answer.passages[0].span.lastLine)
    #expect(lines.joined(separator: "\n").contains(answer.passages[0].text.split(separator: "\n")[0]))
  }

  @Test("infty: a lookup stops reading once the notes score answerable; FINAL ANSWER: stops it too")
  func inftyStops() async throws {
    let corpus = try StrategyCorpus.load()
    let config = InftyStrategy.Configuration(segmentTokens: 320, summaryTokens: 60, searchDepth: 7)
    let answerable = ScriptedChatModel(Self.inftyRules(answerable: 0.9))
    let first = try await InftyStrategy(configuration: config).answer(question: StrategyControlFlowTests.kantQuestion, context: corpus.context(answerable))
    #expect(answerable.calls.answered(by: "read").count == 1)
    #expect(first.trace.contains { $0.label == "stop" && $0.detail?.hasPrefix("answerable") == true })

    let marked = ScriptedChatModel(Self.inftyRules(summary: { $0 == 1 ? "* Kant was born in 1724.\nFINAL ANSWER: 1724" : "* nothing yet" }))
    let second = try await InftyStrategy(configuration: config).answer(question: StrategyControlFlowTests.kantQuestion, context: corpus.context(marked))
    #expect(marked.calls.answered(by: "read").count == 2)
    #expect(second.trace.contains { $0.label == "stop" && $0.detail == "the model wrote FINAL ANSWER:" })
    #expect(marked.calls.answered(by: "infty-answer").first?.prompt.contains("* Kant was born in 1724.\n* 1724") == true)
  }

  @Test("infty over one document reads its chunks, not a search; a window too small is a clear error")
  func inftyDocument() async throws {
    let corpus = try StrategyCorpus.load()
    let bees = try #require(try corpus.reader().documents().first { $0.path.hasSuffix("bees.txt") })
    let model = ScriptedChatModel(Self.inftyRules())
    var context = corpus.context(model)
    context.reader = corpus.reader().scoped(to: [bees.id])
    let answer = try await InftyStrategy(configuration: .init(segmentTokens: 320)).answer(question: "Summarise this text.", context: context)
    #expect(answer.trace.contains { $0.kind == .read && $0.label.hasSuffix("bees.txt") })
    #expect(!answer.trace.contains { $0.kind == .search })
    #expect(model.calls.answered(by: "read").count == 1)

    let tiny = ScriptedChatModel(contextLength: 400, Self.inftyRules())
    await #expect(throws: ReasoningError.self) {
      _ = try await InftyStrategy().answer(question: "Summarise this text.", context: corpus.context(tiny))
    }
  }

  @Test("a repeated line ends a generation and is dropped from a summary; list markers and case do not hide a repeat")
  func repeatedLines() {
    #expect(!ModelCall.repeatsALine("1. Bees make honey.\n2. Bees dance."))
    #expect(!ModelCall.repeatsALine("1. Bees make honey.\n2. Bees dance.\n"))
    #expect(ModelCall.repeatsALine("1. Bees make honey.\n2. Bees dance.\n3. bees make honey.\n"))
    #expect(ModelCall.repeatsALine("1. Bees make honey.\n2. Bees make honey.\n3"))
    #expect(!ModelCall.repeatsALine("1. Bees make honey.\n2. Bees make honey"))
    #expect(ModelCall.withoutRepeatedLines("* a point\n* another\n* A point\n\n* another") == "* a point\n* another\n")
  }

  @Test("reading plan: a chunk's lines repeated from the one before are read once")
  func overlapRemoved() {
    func passage(_ id: Int64, _ first: Int, _ lines: [String]) -> Passage {
      Passage(id: ChunkID(id), text: lines.joined(separator: "\n"), span: SourceSpan(path: "a.txt", firstLine: first, lastLine: first + lines.count - 1, byteRange: 0..<0), score: 0)
    }
    let out = ReadingPlan.withoutOverlap([passage(1, 1, ["a", "b", "c"]), passage(2, 3, ["c", "d"]), passage(3, 4, ["d"])])
    #expect(out.map(\.text) == ["a\nb\nc", "d"])
    #expect(out[1].span.firstLine == 4 && out[1].span.lastLine == 4)
  }

  // MARK: - mapreduce and auto

  @Test("mapreduce: one summary per window, merged level by level while they do not fit, then one answer citing the windows' chunks")
  func mapReduce() async throws {
    let corpus = try StrategyCorpus.load()
    let long = Array(repeating: "detail", count: 90).joined(separator: " ")
    let model = ScriptedChatModel([
      .template(GlobalLine.map, name: "map", reply: { "\(Self.title($0.prompt)) matters: \(long)." }),
      .template(GlobalLine.reduce, name: "reduce", reply: { turn in "Merged \(turn.occurrence + 1): several subjects matter." }),
      .template(TemplateLine.notesAnswer, name: "answer", reply: "They cover several subjects [1]."),
    ])
    let strategy = MapReduceStrategy(
      configuration: .init(windowTokens: 160, summaryTokens: 96, searchDepth: 7), rag: .init(contextTokens: 600))
    let answer = try await strategy.answer(question: "Summarise these texts.", context: corpus.context(model))
    #expect(model.calls.answered(by: "map").count == 7)
    #expect(!model.calls.answered(by: "reduce").isEmpty)
    #expect(model.calls.answered(by: "answer").count == 1)
    #expect(answer.passages.count < 7 && answer.citations.first?.verified == true)
  }

  @Test("auto: a global question goes to gor over a collection and to infty over one document")
  func autoGlobal() async throws {
    #expect(AutoStrategy.form(of: "Summarise the meeting.").0 == .global)
    #expect(AutoStrategy.form(of: "What are the main arguments about fundraising?").0 == .global)
    #expect(AutoStrategy.form(of: "When was Immanuel Kant born?").0 == .lookup)
    let corpus = try StrategyCorpus.load()
    let model = ScriptedChatModel(Self.gorRules() + Self.inftyRules())
    let auto = AutoStrategy(gor: GoRStrategy(configuration: .init(questions: 2)), infty: InftyStrategy(configuration: .init(segmentTokens: 320)))
    let collection = try await auto.answer(question: "What are the main themes here?", context: corpus.context(model))
    #expect(collection.strategy == "auto→gor")
    let bees = try #require(try corpus.reader().documents().first { $0.path.hasSuffix("bees.txt") })
    var context = corpus.context(model)
    context.reader = corpus.reader().scoped(to: [bees.id])
    let document = try await auto.answer(question: "What are the main themes here?", context: context)
    #expect(document.strategy == "auto→infty")
  }
}
