import Foundation
import Testing
import TomeCore
import TomeStore
import TomeTestSupport

/// `tome chat` as a person uses it: piped, and in a real terminal (tmux).
@Suite(.serialized, .timeLimit(.minutes(15))) struct ChatCLITests {
  /// A folder with three essays (two about Viaweb) ingested into `ix`.
  static func collection() throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory()
    let essays = dir.url.appendingPathComponent("essays")
    try FileManager.default.createDirectory(at: essays, withIntermediateDirectories: true)
    for name in ["avg.txt", "vw.txt", "superangels.txt"] {
      try FileManager.default.copyItem(at: SharedData.data("paul_graham_essays/essays/\(name)"), to: essays.appendingPathComponent(name))
    }
    let ingest = try TomeBinary.run(["ingest", "essays", "--index", "./ix", "--quiet"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    return dir
  }

  @Test("piped: a follow-up is rewritten with its subject, /sources and /open show the lines, turns persist and resume")
  func piped() throws {
    let dir = try Self.collection()
    let input = "who founded Viaweb?\nwhen was it sold?\n/sources\n/open 1\n/open 99\n/nonsense\n"
    let chat = try TomeBinary.run(["chat", "--index", "./ix", "-k", "4", "--max-tokens", "24"], in: dir.url, input: input)
    #expect(chat.status == 0, "\(chat.stderr)")
    #expect(chat.stdout.components(separatedBy: "Evidence\n").count == 3, "\(chat.stdout)")
    // The follow-up went to retrieval with its subject.
    let rewrite = try #require(chat.stdout.split(separator: "\n").first { $0.hasPrefix("→ ") })
    #expect(rewrite.lowercased().contains("viaweb"))
    // /sources lists numbered passages with path:lines; /open 1 prints numbered file lines.
    #expect(chat.stdout.contains("[1] ") && chat.stdout.contains(".txt:"))
    #expect(chat.stdout.contains(" │ "), "\(chat.stdout)")
    #expect(chat.stderr.contains("no passage 99"))
    #expect(chat.stderr.contains("unknown command /nonsense"))

    let store = try IndexStore(directory: dir.url.appendingPathComponent("ix"), create: false)
    let chats = try store.chats()
    #expect(chats.count == 1 && chats[0].title == "who founded Viaweb?")
    let turns = try store.turns(of: chats[0].id)
    #expect(turns.map(\.question) == ["who founded Viaweb?", "when was it sold?"])
    #expect(turns[1].standaloneQuestion.lowercased().contains("viaweb"))

    let resumed = try TomeBinary.run(["chat", "--index", "./ix", "--resume"], in: dir.url, input: "/history\n/sources\n/open 1\n")
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stdout.contains("1. who founded Viaweb?") && resumed.stdout.contains("2. when was it sold?"))
    #expect(resumed.stdout.contains("[1] "))
    // The stored record keeps where passage 1 is; /open reads its lines back (from the index and the file).
    #expect(resumed.stdout.contains(" │ "), "\(resumed.stdout)\n\(resumed.stderr)")
    let list = try TomeBinary.run(["chat", "--index", "./ix", "--list"], in: dir.url)
    #expect(list.stdout.contains("2 turns\twho founded Viaweb?"))
    let missing = try TomeBinary.run(["chat", "--index", "./ix", "--chat", "77"], in: dir.url, input: "")
    #expect(missing.status == 1 && missing.stderr.contains("no chat 77"))
  }

  /// What `ChatSession.record` stored before the answer record: `Answer`'s own JSON
  /// (camelCase keys, `text` for the answer, passages with their text).
  static let legacyDetails = #"""
    {"question":"who founded Viaweb?","strategy":"rag","model":"SmolLM2-360M-Instruct-Q8_0","evidence":[{"text":"Viaweb was founded by Paul Graham.","path":"/old/vw.txt","firstLine":3,"lastLine":3,"score":0.8,"chunkID":{"rawValue":1}}],"text":"Paul Graham and Robert Morris [1].","citations":[{"number":1,"path":"/old/vw.txt","firstLine":3,"lastLine":4,"chunkIDs":[{"rawValue":1}],"verified":true}],"attributions":[],"unsupportedSentences":[],"quotes":[],"unsupported":false,"unsupportedWords":[],"notFound":false,"passages":[{"id":{"rawValue":1},"mergedIDs":[],"text":"Viaweb was founded by Paul Graham.\nand Robert Morris.","span":{"path":"/old/vw.txt","firstLine":3,"lastLine":4,"byteRange":[0,52]},"score":1.2}],"dropped":[],"tokens":{"prompt":412,"answer":9,"calls":1},"timings":{"retrieval":0.1,"evidence":0.05,"timeToFirstToken":0.8,"total":1.9},"trace":[]}
    """#

  @Test("a conversation stored by an older Tome resumes: its questions and answers, no sources")
  func legacyTurns() throws {
    let dir = try TemporaryDirectory()
    try dir.write("docs/vw.txt", "Viaweb was founded by Paul Graham and Robert Morris in 1995.\nYahoo bought it in 1998.\n")
    let ingest = try TomeBinary.run(["ingest", "docs", "--index", "./ix", "--quiet"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    let store = try IndexStore(directory: dir.url.appendingPathComponent("ix"), create: false)
    let chat = try store.createChat(title: "who founded Viaweb?")
    try store.appendTurn(
      TurnRecord(
        chatID: chat, question: "who founded Viaweb?", standaloneQuestion: "who founded Viaweb?", strategy: "rag",
        answer: "Paul Graham and Robert Morris [1].", details: Data(Self.legacyDetails.utf8)))
    try store.appendTurn(
      TurnRecord(
        chatID: chat, question: "and then?", standaloneQuestion: "what happened to Viaweb then?", strategy: "rag",
        answer: "Yahoo bought it.", details: Data("not JSON at all".utf8)))

    let resumed = try TomeBinary.run(["chat", "--index", "./ix", "--chat", "\(chat)"], in: dir.url, input: "/history\n/sources\n/open 1\n")
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stdout.contains("1. who founded Viaweb?") && resumed.stdout.contains("2. and then?"))
    #expect(resumed.stdout.components(separatedBy: "stored by an older Tome").count == 3, "\(resumed.stdout)")
  }

  @Test("in a terminal: prompt, answer, Ctrl-C stops the answer but not the chat, Ctrl-D leaves", .enabled(if: Tmux.available))
  func terminal() throws {
    let dir = try Self.collection()
    let tmux = try Tmux(directory: dir.url, command: [TomeBinary.url.path, "chat", "--index", "./ix", "-k", "4", "--max-tokens", "400"])
    defer { tmux.kill() }
    try tmux.waitFor("Ctrl-D to leave")
    try tmux.waitForPrompt()

    tmux.send(literal: "what is a super-angel?")
    tmux.send(keys: "Enter")
    // Stop it once the evidence is shown, while the model reads the passages (seconds) or writes;
    // waiting for the answer's first words instead would race a short answer to its end.
    try tmux.waitFor("Evidence", timeout: 240)
    tmux.send(keys: "C-c")
    try tmux.waitFor("[stopped]", timeout: 60)
    #expect(tmux.isAlive)

    tmux.send(literal: "/help")
    tmux.send(keys: "Enter")
    try tmux.waitFor("/open N")
    // Ctrl-C at the prompt does not leave either.
    tmux.send(keys: "C-c")
    try tmux.waitFor("(Ctrl-D or /exit to leave)")
    #expect(tmux.isAlive)
    tmux.send(keys: "C-d")
    try tmux.waitForExit()
  }
}

/// A detached tmux session running one command, read through capture-pane. It has a server of
/// its own (a socket in the test's folder), started through `CleanSpawn` so that the server gets
/// the signals it needs, and stopped with the session.
struct Tmux {
  static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") }

  let name = "tome-test"
  let socket: String
  /// Printed by the pane's shell, with the exit status, when `tome` has exited.
  static let exitMarker = "TOME-EXITED"

  init(directory: URL, command: [String]) throws {
    socket = directory.appendingPathComponent("tmux.sock").path
    let quoted = command.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    let started = try run(["new-session", "-d", "-s", name, "-x", "160", "-y", "50", "-c", directory.path, "env -u TOME_INDEX TERM=xterm \(quoted); echo \(Self.exitMarker) $?; sleep 30"], capture: false)
    try #require(started.status == 0, "tmux new-session exited with \(started.status)")
  }

  @discardableResult
  func run(_ arguments: [String], capture: Bool = true) throws -> CleanSpawn.Outcome {
    try CleanSpawn.run("/usr/bin/tmux", ["-S", socket, "-f", "/dev/null"] + arguments, captureOutput: capture)
  }

  func send(literal text: String) { _ = try? run(["send-keys", "-t", name, "-l", text]) }
  func send(keys: String) { _ = try? run(["send-keys", "-t", name, keys]) }
  func capture() -> String { (try? run(["capture-pane", "-p", "-t", name, "-S", "-200"]).stdout) ?? "" }

  /// Whether `tome` still runs in the pane.
  var isAlive: Bool { !capture().contains(Self.exitMarker) }

  func waitFor(_ text: String, timeout: Double = 120) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if capture().contains(text) { return }
      Thread.sleep(forTimeInterval: 0.2)
    }
    Issue.record("timed out waiting for \"\(text)\"; screen:\n\(capture())")
    throw CancellationError()
  }

  /// Waits for an empty prompt line (capture-pane drops the space after ">").
  func waitForPrompt(timeout: Double = 60) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if capture().split(separator: "\n").contains(where: { $0.trimmingCharacters(in: .whitespaces) == ">" }) { return }
      Thread.sleep(forTimeInterval: 0.2)
    }
    Issue.record("timed out waiting for the prompt; screen:\n\(capture())")
    throw CancellationError()
  }

  /// Waits for `tome` to exit with status 0.
  func waitForExit(timeout: Double = 30) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if capture().contains("\(Self.exitMarker) 0") { return }
      Thread.sleep(forTimeInterval: 0.2)
    }
    Issue.record("tome did not exit; screen:\n\(capture())")
  }

  func kill() { _ = try? run(["kill-server"]) }
}
