public import Foundation
public import TomeCore
public import TomeReasoning
import TomeStore

/// One conversation of `tome chat`: rewrites follow-ups into standalone questions, answers them
/// through an `Answerer`, and persists every finished turn in the index (`chats`, `turns`), so
/// a conversation and its sources survive a restart.
///
/// The chat row is created with the first finished turn: an opened and abandoned REPL leaves
/// nothing behind.
public struct ChatSession: Sendable {
  /// A finished question and answer.
  public struct Turn: Sendable {
    public var question: String
    public var standaloneQuestion: String
    public var answer: Answer
  }

  public let collection: Collection
  public var answerer: Answerer
  public var rewriter = FollowUpRewriter()
  /// The stored conversation; nil until the first turn is recorded (and after `clear()`).
  public private(set) var chat: ChatID?
  public private(set) var turns: [Turn] = []

  public init(collection: Collection, answerer: Answerer) {
    self.collection = collection
    self.answerer = answerer
  }

  /// Continues stored conversation `chat`.
  ///
  /// - Throws: `ChatSessionError.unknownChat` when the index has no such chat.
  public static func resume(_ chat: ChatID, collection: Collection, answerer: Answerer) throws -> ChatSession {
    guard try collection.store.chatExists(chat) else { throw ChatSessionError.unknownChat(chat) }
    var session = ChatSession(collection: collection, answerer: answerer)
    session.chat = chat
    let decoder = JSONDecoder()
    session.turns = try collection.store.turns(of: chat).map { record in
      let answer = try decoder.decode(Answer.self, from: record.details)
      return Turn(question: record.question, standaloneQuestion: record.standaloneQuestion, answer: answer)
    }
    return session
  }

  /// The question retrieval should use for `question`, given the turns so far.
  public func standalone(_ question: String) async throws -> (question: String, method: FollowUpRewriter.Method) {
    let history = turns.map { FollowUpRewriter.Turn(question: $0.question, standaloneQuestion: $0.standaloneQuestion, answer: $0.answer.text) }
    return try await rewriter.standalone(question, history: history, model: answerer.model, prompts: answerer.prompts)
  }

  /// Answers `standaloneQuestion`, streaming the answerer's events. Call `record` with the
  /// finished answer to keep it in the conversation.
  public func answer(_ standaloneQuestion: String, parameters: GenerationParameters) -> AsyncThrowingStream<AnswerEvent, any Error> {
    answerer.answer(standaloneQuestion, parameters: parameters)
  }

  /// Appends a finished turn to the conversation and the index (one transaction).
  public mutating func record(question: String, standaloneQuestion: String, answer: Answer) throws {
    let store = collection.store
    let chat = try self.chat ?? store.createChat(title: String(question.prefix(80)))
    self.chat = chat
    let details = try JSONEncoder().encode(answer)
    try store.appendTurn(
      TurnRecord(
        chatID: chat, question: question, standaloneQuestion: standaloneQuestion, strategy: answer.strategy,
        answer: answer.text, details: details))
    turns.append(Turn(question: question, standaloneQuestion: standaloneQuestion, answer: answer))
  }

  /// Forgets the conversation so far: the next question starts a new stored chat (the old one
  /// stays in the index).
  public mutating func clear() {
    chat = nil
    turns = []
  }
}

/// A conversation that cannot be continued.
public enum ChatSessionError: Error, CustomStringConvertible, Sendable, Hashable {
  case unknownChat(ChatID)

  public var description: String {
    switch self {
    case .unknownChat(let id): "no chat \(id) in this index; `tome chat --list` shows the stored ones"
    }
  }
}

extension ChatSession {
  /// The conversations stored in `collection`, most recently updated first.
  public static func stored(in collection: Collection, limit: Int) throws -> [StoredChat] {
    try collection.store.chats(limit: limit).map { StoredChat(id: $0.id, title: $0.title, updated: $0.updated, turnCount: $0.turnCount) }
  }
}

/// A conversation kept in an index: what `tome chat --list` shows and `--chat N` resumes.
public struct StoredChat: Sendable, Hashable {
  public var id: ChatID
  /// The first question, shortened.
  public var title: String
  public var updated: Date
  public var turnCount: Int
}
