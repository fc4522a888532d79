import Foundation
import Testing
import TomeCore
import TomeStore
import TomeTestSupport

@Suite("Chats")
struct ChatStoreTests {
  func turn(_ chat: ChatID, _ q: String) -> TurnRecord {
    TurnRecord(chatID: chat, question: q, standaloneQuestion: q + " (standalone)", strategy: "rag", answer: "A to " + q, details: Data("{\"n\":1}".utf8))
  }

  @Test("turns are numbered in order, survive reopening, and go with their chat")
  func roundTrip() throws {
    let dir = try TemporaryDirectory()
    let first: ChatID
    do {
      let store = try IndexStore(directory: dir.url, create: true)
      first = try store.createChat(title: "who founded Viaweb")
      let second = try store.createChat(title: "other")
      #expect(try store.appendTurn(turn(first, "q1")).ordinal == 1)
      #expect(try store.appendTurn(turn(second, "x1")).ordinal == 1)
      #expect(try store.appendTurn(turn(first, "q2")).ordinal == 2)
    }
    let store = try IndexStore(directory: dir.url, create: false)
    let turns = try store.turns(of: first)
    #expect(turns.map(\.question) == ["q1", "q2"])
    #expect(turns[1].standaloneQuestion == "q2 (standalone)" && turns[1].details == Data("{\"n\":1}".utf8))
    let chats = try store.chats()
    #expect(chats.count == 2 && chats.first(where: { $0.id == first })?.turnCount == 2)
    try store.deleteChat(first)
    #expect(try store.turns(of: first).isEmpty)
    #expect(try !store.chatExists(first))
  }

  @Test("a turn for a chat that does not exist is refused")
  func orphan() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    #expect(throws: StoreError.self) { try store.appendTurn(turn(ChatID(42), "q")) }
  }
}
