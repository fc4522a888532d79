import ArgumentParser
import Foundation
import Synchronization
import TomeCore
import TomeKit
import TomeReasoning

/// `tome chat`: a conversation over the index, kept in the index.
struct ChatCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "chat",
    abstract: "Ask questions in a conversation; follow-ups may refer to earlier turns.",
    discussion: """
      Each answer is shown as `tome ask` shows it: evidence sentences with path:lines, the \
      streamed answer, then its sources. A follow-up such as "when was it sold?" is first \
      rewritten into a question that stands alone ("when was Viaweb sold?"), and that question \
      is what retrieval sees; the rewrite is shown dimmed. Every turn is stored in the index, so \
      `--resume` continues where you stopped, sources included. Each answer is also kept as a \
      record (`tome records`) unless --no-record; --document PATH (repeatable) answers from \
      those documents only.

      Commands:
        /sources      the passages of the last answer, with path:lines (cited ones marked)
        /open N       the lines of passage N with two lines of context around them
        /strategy [S] show or set the answering strategy (\(StrategyKind.allCases.map(\.rawValue).joined(separator: ", ")))
        /clear        start a new conversation (the old one stays in the index)
        /history      the questions of this conversation
        /help         this list
      Ctrl-C stops the answer being written (not the chat); Ctrl-D or /exit leaves.

      Examples:
        tome chat
        tome chat --resume
        tome chat --list
        printf 'who founded Viaweb?\\nwhen was it sold?\\n' | tome chat -k 6
      """)

  @Flag(name: .long, help: "Continue the most recent conversation.")
  var resume = false

  @Option(name: .long, help: ArgumentHelp("Continue conversation N (see --list).", valueName: "n"))
  var chat: Int64?

  @Flag(name: .long, help: "List the stored conversations and exit.")
  var list = false

  @OptionGroup var answering: AnswerOptions
  @OptionGroup var scope: DocumentOption
  @OptionGroup var recording: RecordOption
  @OptionGroup var models: ModelOptions
  @OptionGroup var index: IndexOptions

  func validate() throws {
    if resume && chat != nil { throw ValidationError("--resume and --chat exclude each other") }
  }

  func run() async throws {
    let collection = try Collection(location: index.location, create: false)
    if list { return try listChats(collection) }
    let documents = try scope.scope(in: collection)
    try answering.checkModelFile(models.directory)
    var answerer = try Answerer.open(collection: collection, models: models.directory, settings: answering.settings,
      environment: ProcessInfo.processInfo.environment, recordOrigin: recording.origin(.chat))
    answerer.recordFailure = RecordOption.warn
    _ = try answerer.prompts.template(FollowUpRewriter.templateName)
    var session = ChatSession(collection: collection, answerer: answerer)
    if let id = try resumedChat(collection) {
      session = try ChatSession.resume(id, collection: collection, answerer: answerer)
    }
    session.documents = documents
    let repl = ChatREPL(session: session, parameters: answering.parameters, interactive: isatty(STDIN_FILENO) == 1, tty: Terminal.stdoutIsTTY)
    try await repl.run(banner: banner(collection, model: answerer.model, session: session))
  }

  private func resumedChat(_ collection: Collection) throws -> ChatID? {
    if let chat { return ChatID(chat) }
    guard resume else { return nil }
    guard let last = try ChatSession.stored(in: collection, limit: 1).first else { throw CLIError("no stored conversation to resume in this index; start one with `tome chat`") }
    return last.id
  }

  private func listChats(_ collection: Collection) throws {
    let chats = try ChatSession.stored(in: collection, limit: 200)
    if chats.isEmpty { return Terminal.error("no conversations yet; start one with `tome chat`") }
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm"
    for c in chats {
      print("\(c.id)\t\(formatter.string(from: c.updated))\t\(c.turnCount) turn\(c.turnCount == 1 ? "" : "s")\t\(Terminal.sanitized(c.title))")
    }
  }

  private func banner(_ collection: Collection, model: any LanguageModel, session: ChatSession) throws -> String {
    let totals = try collection.totals()
    var text = "tome chat · \(Terminal.displayPath(collection.location.directory.path)) (\(totals.documents) files, \(totals.chunks) chunks) · \(model.identifier)"
    if let chat = session.chat { text += "\nresumed conversation \(chat) (\(session.turns.count) turns)" }
    return text + "\n/help for commands, Ctrl-D to leave"
  }
}

/// The read-answer loop of `tome chat`. Runs each answer in its own task so Ctrl-C can cancel
/// it; SIGINT is ignored by the process and delivered through a dispatch source instead.
struct ChatREPL {
  var session: ChatSession
  var parameters: GenerationParameters
  /// Standard input is a terminal: show the prompt and the banner.
  var interactive: Bool
  var tty: Bool

  /// The answer being written, if any: what Ctrl-C cancels.
  private let running = RunningAnswer()

  init(session: ChatSession, parameters: GenerationParameters, interactive: Bool, tty: Bool) {
    self.session = session
    self.parameters = parameters
    self.interactive = interactive
    self.tty = tty
  }

  func run(banner: String) async throws {
    var state = self
    try await state.loop(banner: banner)
  }

  private mutating func loop(banner: String) async throws {
    signal(SIGINT, SIG_IGN)
    let interrupts = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "tome.chat.interrupt"))
    let running = self.running
    let interactive = self.interactive
    interrupts.setEventHandler {
      if !running.cancel() && interactive {
        FileHandle.standardOutput.write(Data("\n(Ctrl-D or /exit to leave)\n> ".utf8))
      }
    }
    interrupts.resume()
    defer {
      interrupts.cancel()
      signal(SIGINT, SIG_DFL)
    }

    if interactive { print(Terminal.dim(banner, tty)) }
    while true {
      if interactive {
        print("> ", terminator: "")
        fflush(nil)
      }
      guard let line = await Self.readLine() else {
        if interactive { print() }
        return
      }
      let input = line.trimmingCharacters(in: .whitespacesAndNewlines)
      if input.isEmpty { continue }
      if input.hasPrefix("/") {
        let outcome = try command(input)
        fflush(nil)
        if outcome == .exit { return }
        continue
      }
      await ask(input)
    }
  }

  /// A line of standard input, read off the cooperative pool; nil at end of input.
  private static func readLine() async -> String? {
    await withCheckedContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(returning: Swift.readLine(strippingNewline: true)) }
    }
  }

  /// How one answer ended.
  private enum Ending: Sendable {
    case finished(standalone: String, answer: Answer)
    case stopped
    case failed(String)
  }

  /// Answers `question`; an error is printed and the conversation goes on.
  private mutating func ask(_ question: String) async {
    let session = self.session
    let parameters = self.parameters
    let tty = self.tty
    let task = Task { () -> Ending in
      do {
        let (standalone, method) = try await session.standalone(question)
        if method != .unchanged { print(Terminal.dim("→ \(Terminal.sanitized(standalone))", tty)) }
        var printer = AnswerPrinter(tty: tty, quiet: false)
        defer { printer.end() }
        var ending = Ending.stopped
        for try await event in session.answer(standalone, parameters: parameters) {
          printer.show(event)
          if case .finished(let answer) = event { ending = .finished(standalone: standalone, answer: answer) }
        }
        // A strategy whose model stream was cut by Ctrl-C may still finish with the partial
        // text; that is a stopped answer, not a turn to keep.
        return Task.isCancelled ? .stopped : ending
      } catch is CancellationError {
        return .stopped
      } catch {
        return .failed(Self.describe(error))
      }
    }
    running.set { task.cancel() }
    let ending = await task.value
    running.set(nil)
    switch ending {
    case .failed(let message):
      Terminal.error("error: \(message)")
    case .stopped:
      print()
      print(Terminal.dim("[stopped]", tty))
    case .finished(let standalone, let answer):
      do {
        try self.session.record(question: question, standaloneQuestion: standalone, answer: answer)
      } catch {
        Terminal.error("error: the turn could not be saved: \(Self.describe(error))")
      }
      print()
    }
  }

  enum Outcome { case next, exit }

  private mutating func command(_ input: String) throws -> Outcome {
    let parts = input.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    switch parts[0] {
    case "/exit", "/quit":
      return .exit
    case "/help":
      print(Self.help)
    case "/clear":
      session.clear()
      print(Terminal.dim("new conversation; earlier turns stay in the index (tome chat --list)", tty))
    case "/history":
      if session.turns.isEmpty { print("no questions yet") }
      for (i, turn) in session.turns.enumerated() {
        print("\(i + 1). \(Terminal.sanitized(turn.question))" + (turn.standaloneQuestion == turn.question ? "" : Terminal.dim("  → \(Terminal.sanitized(turn.standaloneQuestion))", tty)))
      }
    case "/strategy":
      let available = StrategyKind.allCases.map(\.rawValue).joined(separator: ", ")
      if parts.count == 1 {
        print("strategy: \(session.answerer.defaultStrategy.rawValue) (available: \(available))")
      } else if let chosen = StrategyKind(rawValue: parts[1]) {
        session.answerer.defaultStrategy = chosen
        print("strategy: \(chosen.rawValue) (\(chosen.summary))")
      } else {
        Terminal.error("unknown strategy \(parts[1]); available: \(available)")
      }
    case "/sources":
      showSources()
    case "/open":
      guard parts.count == 2, let n = Int(parts[1]) else {
        Terminal.error("usage: /open N (N is a passage number from /sources)")
        return .next
      }
      open(n)
    default:
      Terminal.error("unknown command \(parts[0]); /help lists the commands")
    }
    return .next
  }

  static let help = """
    /sources      the passages of the last answer, with path:lines (cited ones marked *)
    /open N       the lines of passage N with two lines of context
    /strategy [S] show or set the answering strategy
    /clear        start a new conversation
    /history      the questions of this conversation
    /exit         leave (or Ctrl-D); Ctrl-C stops an answer being written
    """

  /// The last turn's record; nil (with the reason printed) when there is none to show.
  private func lastRecord() -> AnswerRecord? {
    guard let last = session.turns.last else {
      print("no answer yet; ask a question first")
      return nil
    }
    guard let record = last.record else {
      print("the last answer was stored by an older Tome, without its sources")
      return nil
    }
    return record
  }

  private func showSources() {
    guard let last = lastRecord() else { return }
    if last.passages.isEmpty { return print("the last answer used no passages") }
    let cited = Set(last.citations.map(\.n))
    for p in last.passages {
      let mark = cited.contains(p.n) ? "*" : " "
      print("\(mark)[\(p.n)] " + Terminal.cyan(AnswerPrinter.location(p.path, p.firstLine, p.lastLine, p.page), tty))
    }
  }

  /// Prints passage `n`'s lines from the file on disk, with context, or the stored text when the
  /// file changed or is a PDF.
  private func open(_ n: Int) {
    guard let last = lastRecord() else { return }
    guard n >= 1, n <= last.passages.count else {
      return Terminal.error("no passage \(n); the last answer has \(last.passages.count) (see /sources)")
    }
    let passage: Passage
    do {
      guard let found = try session.passage(n, of: last) else {
        return Terminal.error("passage \(n) is no longer in the index (its file was re-indexed since this answer)")
      }
      passage = found
    } catch {
      return Terminal.error("error: \(Self.describe(error))")
    }
    let excerpt = SourceExcerpt(passage: passage, context: 2)
    let span = excerpt.span
    print(Terminal.bold(AnswerPrinter.location(span.path, span.firstLine, span.lastLine, span.page), tty))
    switch excerpt.content {
    case .indexedText(let text, let stale):
      if stale { Terminal.error("note: \(Terminal.displayPath(span.path)) changed or is gone since it was indexed; showing the indexed text") }
      print(Terminal.sanitized(text, keepNewlines: true))
    case .lines(let lines):
      let width = String(lines.last?.number ?? 0).count
      for line in lines {
        let gutter = String(repeating: " ", count: width - String(line.number).count) + "\(line.number)" + (line.cited ? " │ " : " ┆ ")
        let text = Terminal.sanitized(line.text)
        print(line.cited ? gutter + text : Terminal.dim(gutter + text, tty))
      }
    }
  }

  static func describe(_ error: any Error) -> String {
    String(describing: error)
  }
}

/// The cancel action of the answer being written, shared with the SIGINT handler.
private final class RunningAnswer: Sendable {
  private let cancelAction = Mutex<(@Sendable () -> Void)?>(nil)

  func set(_ action: (@Sendable () -> Void)?) {
    cancelAction.withLock { $0 = action }
  }

  /// Cancels the running answer; false when none is running.
  func cancel() -> Bool {
    guard let action = cancelAction.withLock({ $0 }) else { return false }
    action()
    return true
  }
}
