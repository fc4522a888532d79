import Foundation
import Testing
import TomeCore
import TomeKit
@testable import TomeReasoning
import TomeTestSupport

@Suite struct FollowUpRewriterTests {
  let history = [
    FollowUpRewriter.Turn(
      question: "who founded Viaweb?", standaloneQuestion: "who founded Viaweb?",
      answer: "Paul Graham and Robert Morris started Viaweb in 1995.")
  ]

  @Test("only questions that lean on the conversation are rewritten")
  func needsRewrite() {
    #expect(FollowUpRewriter.needsRewrite("when was it sold?"))
    #expect(FollowUpRewriter.needsRewrite("and his partner?"))
    #expect(FollowUpRewriter.needsRewrite("why?"))
    #expect(!FollowUpRewriter.needsRewrite("who founded Viaweb?"))
    #expect(!FollowUpRewriter.needsRewrite("when did Yahoo buy Viaweb?"))
  }

  @Test("a rewrite is accepted only when it keeps the question and brings in the conversation's subject")
  func accept() {
    #expect(FollowUpRewriter.accept("When was Viaweb sold?", for: "when was it sold?", history: history) == "When was Viaweb sold?")
    #expect(FollowUpRewriter.accept(" Rewritten: \"When was Viaweb sold?\"\nQ: more", for: "when was it sold?", history: history) == "When was Viaweb sold?")
    // An answer instead of a question: the question's own word "sold" is gone.
    #expect(FollowUpRewriter.accept("Paul Graham founded it in 1995.", for: "when was it sold?", history: history) == nil)
    // Nothing from the conversation came in.
    #expect(FollowUpRewriter.accept("When was it sold?", for: "when was it sold?", history: history) == nil)
    // Citation markers or a rambling reply are not questions.
    #expect(FollowUpRewriter.accept("Viaweb was sold [1]", for: "when was it sold?", history: history) == nil)
    #expect(FollowUpRewriter.accept(String(repeating: "Viaweb sold ", count: 40), for: "when was it sold?", history: history) == nil)
    #expect(FollowUpRewriter.accept("", for: "when was it sold?", history: history) == nil)
  }

  /// Real follow-up pairs (issue 11): an earlier question and answer, and a follow-up whose
  /// question words and own words any standalone form must keep.
  static let pairs: [(question: String, answer: String, followUp: String, keep: [String])] = [
    ("What do super-angels invest in?", "Super-angels invest in companies that get bought early.",
     "how much do they usually invest?", ["how", "much", "invest"]),
    ("Who founded Viaweb?", "Paul Graham and Robert Morris founded Viaweb.", "when was it sold?", ["when", "sold"]),
    ("What is a super-angel?", "A super-angel is an angel investor who invests professionally, like a VC.",
     "who do they compete with?", ["who", "compete"]),
    ("Why do startups die?", "Most startups die because the founders give up.", "how can they avoid that?", ["how", "avoid"]),
  ]

  @Test("a rewrite that drops the user's question words, or repeats an answer, is refused")
  func keepsQuestionWords() {
    let angels = [
      FollowUpRewriter.Turn(
        question: "What do super-angels invest in?", standaloneQuestion: "What do super-angels invest in?",
        answer: "Super-angels invest in companies that get bought early.")
    ]
    let followUp = "how much do they usually invest?"
    // What the model once produced: the previous answer, which keeps "invest" but not "how much".
    #expect(FollowUpRewriter.accept("Super-angels invest in companies that get bought early.", for: followUp, history: angels) == nil)
    #expect(FollowUpRewriter.accept("What do super-angels usually invest?", for: followUp, history: angels) == nil)
    #expect(FollowUpRewriter.accept("Super-angels usually invest how much", for: followUp, history: angels) == nil)
    #expect(
      FollowUpRewriter.accept("How much do super-angels usually invest?", for: followUp, history: angels)
        == "How much do super-angels usually invest?")
  }

  @Test("real follow-up pairs on the real model keep what the user asked")
  func realPairs() async throws {
    let model = try ModelDirectory(url: SharedData.models).loadChatModel()
    let prompts = PromptLibrary(directory: SharedData.repositoryRoot.appendingPathComponent("Prompts"))
    for pair in Self.pairs {
      let history = [FollowUpRewriter.Turn(question: pair.question, standaloneQuestion: pair.question, answer: pair.answer)]
      let result = try await FollowUpRewriter().standalone(pair.followUp, history: history, model: model, prompts: prompts)
      let words = Set(TextAnalysis.words(result.question))
      #expect(result.method != .unchanged)
      for w in pair.keep { #expect(words.contains(w) || words.contains(TextAnalysis.stem(w)), "\(w) lost in \(result)") }
      #expect(TextAnalysis.normalised(result.question) != TextAnalysis.normalised(pair.answer), "\(result)")
    }
  }

  @Test("without history, or for a question that stands alone, the model is not asked")
  func unchanged() async throws {
    let models = ModelDirectory(url: SharedData.models)
    let model = try models.loadChatModel()
    let prompts = PromptLibrary(directory: SharedData.repositoryRoot.appendingPathComponent("Prompts"))
    let first = try await FollowUpRewriter().standalone("when was it sold?", history: [], model: model, prompts: prompts)
    #expect(first.method == .unchanged && first.question == "when was it sold?")
    let alone = try await FollowUpRewriter().standalone("when did Yahoo buy Viaweb?", history: history, model: model, prompts: prompts)
    #expect(alone.method == .unchanged)
    // With the real model: whichever way it resolves the reference, the subject is in the question.
    let follow = try await FollowUpRewriter().standalone("when was it sold?", history: history, model: model, prompts: prompts)
    #expect(follow.method != .unchanged)
    #expect(follow.question.lowercased().contains("viaweb"), "\(follow)")
  }
}

@Suite(.serialized, .timeLimit(.minutes(15))) struct ChatSessionTests {
  @Test("a recorded turn is stored with its answer's sources; resuming brings the conversation back")
  func recordAndResume() async throws {
    let essays = try EssayCollection()
    var session = ChatSession(collection: essays.collection, answerer: try essays.answerer(k: 3))
    let question = "What is a super-angel?"
    let (standalone, method) = try await session.standalone(question)
    #expect(method == .unchanged && standalone == question)
    var answer: Answer?
    for try await event in session.answer(standalone, parameters: .greedy(maxTokens: 24)) {
      if case .finished(let a) = event { answer = a }
    }
    let finished = try #require(answer)
    try session.record(question: question, standaloneQuestion: standalone, answer: finished)
    let chat = try #require(session.chat)

    let resumed = try ChatSession.resume(chat, collection: essays.collection, answerer: try essays.answerer(k: 3))
    #expect(resumed.turns.count == 1)
    #expect(resumed.turns[0].answer == finished.text)
    let record = try #require(resumed.turns[0].record)
    #expect(record == AnswerRecord(finished))
    // `/open`: each passage's text is read back from the index as retrieval joined it.
    for (i, passage) in finished.passages.enumerated() {
      let read = try #require(try resumed.passage(i + 1, of: record))
      #expect(read.text == passage.text && read.span == passage.span && read.chunkIDs == passage.chunkIDs)
    }
    #expect(try resumed.passage(finished.passages.count + 1, of: record) == nil)

    session.clear()
    #expect(session.chat == nil && session.turns.isEmpty)
    #expect(throws: ChatSessionError.self) { try ChatSession.resume(ChatID(999), collection: essays.collection, answerer: try essays.answerer()) }
  }
}
