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
    /// The answer's text.
    public var answer: String
    /// The answer's citations, evidence and passages; nil for a turn stored by a Tome from
    /// before the record, whose details are not read (its question and text still are).
    public var record: AnswerRecord?
  }

  public let collection: Collection
  public var answerer: Answerer
  public var rewriter = FollowUpRewriter()
  /// The documents every answer is read from (nil: the whole collection).
  public var documents: Set<DocumentID>?
  /// The stored conversation; nil until the first turn is recorded (and after `clear()`).
  public private(set) var chat: ChatID?
  public private(set) var turns: [Turn] = []

  public init(collection: Collection, answerer: Answerer) {
    self.collection = collection
    self.answerer = answerer
  }

  /// Continues stored conversation `chat`.
  ///
  /// A turn whose details are not an `AnswerRecord` (older Tomes stored `Answer`'s own JSON)
  /// resumes with its question and answer text and no sources: one unreadable turn must not
  /// lose the whole conversation.
  ///
  /// - Throws: `ChatSessionError.unknownChat` when the index has no such chat.
  public static func resume(_ chat: ChatID, collection: Collection, answerer: Answerer) throws -> ChatSession {
    guard try collection.store.chatExists(chat) else { throw ChatSessionError.unknownChat(chat) }
    var session = ChatSession(collection: collection, answerer: answerer)
    session.chat = chat
    let decoder = JSONDecoder()
    session.turns = try collection.store.turns(of: chat).map { stored in
      Turn(
        question: stored.question, standaloneQuestion: stored.standaloneQuestion, answer: stored.answer,
        record: try? decoder.decode(AnswerRecord.self, from: stored.details))
    }
    return session
  }

  /// The question retrieval should use for `question`, given the turns so far.
  public func standalone(_ question: String) async throws -> (question: String, method: FollowUpRewriter.Method) {
    let history = turns.map { FollowUpRewriter.Turn(question: $0.question, standaloneQuestion: $0.standaloneQuestion, answer: $0.answer) }
    return try await rewriter.standalone(question, history: history, model: answerer.model, prompts: answerer.prompts)
  }

  /// Answers `standaloneQuestion` within `documents`, streaming the answerer's events. Call
  /// `record` with the finished answer to keep it in the conversation.
  public func answer(_ standaloneQuestion: String, parameters: GenerationParameters) -> AsyncThrowingStream<AnswerEvent, any Error> {
    answerer.answer(standaloneQuestion, parameters: parameters, documents: documents)
  }

  /// Appends a finished turn to the conversation and the index (one transaction).
  public mutating func record(question: String, standaloneQuestion: String, answer: Answer) throws {
    let store = collection.store
    let chat = try self.chat ?? store.createChat(title: String(question.prefix(80)))
    self.chat = chat
    let record = AnswerRecord(answer)
    try store.appendTurn(
      TurnRecord(
        chatID: chat, question: question, standaloneQuestion: standaloneQuestion, strategy: answer.strategy,
        answer: answer.text, details: try JSONEncoder().encode(record)))
    turns.append(Turn(question: question, standaloneQuestion: standaloneQuestion, answer: answer.text, record: record))
  }

  /// Passage `n` (1-based, as `[n]`) of `record`, with its text read back from the index: its
  /// chunks joined by their lines, as retrieval joined them. The record keeps only where the
  /// passage is, so `/open` works the same for a turn of this run and a resumed one.
  ///
  /// - Returns: nil when `n` names no passage, or when a chunk is gone or no longer sits on
  ///   the recorded lines (the file was re-indexed since the answer).
  public func passage(_ n: Int, of record: AnswerRecord) throws -> Passage? {
    guard let recorded = record.passages.first(where: { $0.n == n }) else { return nil }
    let ids = recorded.chunkIDs.map(ChunkID.init)
    let stored = try collection.store.chunks(ids: ids).sorted { $0.chunk.ordinal < $1.chunk.ordinal }
    guard stored.count == ids.count, var joined = stored.first.map({ (text: $0.chunk.text, span: $0.chunk.span) }) else { return nil }
    for next in stored.dropFirst() {
      guard let grown = CollectionReader.joinLines(joined.text, joined.span, next.chunk.text, next.chunk.span) else { return nil }
      joined = grown
    }
    guard joined.span.path == recorded.path, joined.span.firstLine == recorded.firstLine, joined.span.lastLine == recorded.lastLine,
      joined.span.page == recorded.page, let retrieved = stored.first(where: { $0.id == ids[0] })
    else { return nil }
    return Passage(
      id: retrieved.id, text: joined.text, span: joined.span, score: 0, section: retrieved.chunk.section,
      mergedIDs: Array(ids.dropFirst()), document: retrieved.documentID)
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
