public import Foundation
internal import GRDB
public import TomeCore

/// A conversation of `tome chat`.
public struct ChatRecord: Sendable, Hashable {
  public var id: ChatID
  /// The first question, shortened; what `tome chat --list` shows.
  public var title: String
  public var updated: Date
  public var turnCount: Int
}

/// One question and answer of a conversation.
public struct TurnRecord: Sendable, Hashable {
  public var chatID: ChatID
  /// 1-based position in the conversation.
  public var ordinal: Int
  /// The question as typed.
  public var question: String
  /// The question retrieval used: the typed one, or a follow-up rewritten to stand alone.
  public var standaloneQuestion: String
  public var strategy: String
  public var answer: String
  /// The answer's citations, evidence and passages as JSON, so sources can be shown later.
  public var details: Data

  public init(
    chatID: ChatID, ordinal: Int = 0, question: String, standaloneQuestion: String, strategy: String, answer: String, details: Data
  ) {
    self.chatID = chatID
    self.ordinal = ordinal
    self.question = question
    self.standaloneQuestion = standaloneQuestion
    self.strategy = strategy
    self.answer = answer
    self.details = details
  }
}

extension IndexStore {
  /// Starts a conversation and returns its id.
  public func createChat(title: String) throws -> ChatID {
    try write { db in
      try db.execute(sql: "INSERT INTO chats(title) VALUES (?)", arguments: [title])
      return ChatID(db.lastInsertedRowID)
    }
  }

  /// Conversations, most recently used first.
  public func chats(limit: Int = 50) throws -> [ChatRecord] {
    try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT c.id, c.title, c.updated_at, (SELECT COUNT(*) FROM turns t WHERE t.chat_id = c.id) AS n
          FROM chats c ORDER BY c.updated_at DESC, c.id DESC LIMIT ?
          """, arguments: [limit]
      ).map { row in
        let julian: Double = row["updated_at"]
        return ChatRecord(
          id: ChatID(row["id"]), title: row["title"],
          updated: Date(timeIntervalSince1970: (julian - 2_440_587.5) * 86_400), turnCount: row["n"])
      }
    }
  }

  /// The turns of `chat` in order; empty for an unknown chat.
  public func turns(of chat: ChatID) throws -> [TurnRecord] {
    try read { db in
      try Row.fetchAll(
        db, sql: "SELECT ordinal, question, standalone_question, strategy, answer, details FROM turns WHERE chat_id = ? ORDER BY ordinal",
        arguments: [chat.rawValue]
      ).map { row in
        TurnRecord(
          chatID: chat, ordinal: row["ordinal"], question: row["question"], standaloneQuestion: row["standalone_question"],
          strategy: row["strategy"], answer: row["answer"], details: Data((row["details"] as String).utf8))
      }
    }
  }

  /// Whether `chat` exists.
  public func chatExists(_ chat: ChatID) throws -> Bool {
    try read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM chats WHERE id = ?)", arguments: [chat.rawValue]) ?? false }
  }

  /// Appends `turn` to its chat (its ordinal is assigned here) in one transaction, and returns it.
  ///
  /// - Throws: `StoreError` when the chat does not exist (a foreign key failure).
  @discardableResult
  public func appendTurn(_ turn: TurnRecord) throws -> TurnRecord {
    try write { db in
      let next = (try Int.fetchOne(db, sql: "SELECT MAX(ordinal) FROM turns WHERE chat_id = ?", arguments: [turn.chatID.rawValue]) ?? 0) + 1
      try db.execute(
        sql: "INSERT INTO turns(chat_id, ordinal, question, standalone_question, strategy, answer, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
        arguments: [
          turn.chatID.rawValue, next, turn.question, turn.standaloneQuestion, turn.strategy, turn.answer,
          String(decoding: turn.details, as: UTF8.self),
        ])
      try db.execute(sql: "UPDATE chats SET updated_at = julianday('now') WHERE id = ?", arguments: [turn.chatID.rawValue])
      var stored = turn
      stored.ordinal = next
      return stored
    }
  }

  /// Deletes a conversation and its turns.
  public func deleteChat(_ chat: ChatID) throws {
    try write { db in try db.execute(sql: "DELETE FROM chats WHERE id = ?", arguments: [chat.rawValue]) }
  }
}
