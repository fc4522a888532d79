import ArgumentParser
import Foundation
import TomeCore
import TomeKit
import TomeReasoning
import TomeStore

/// `tome ask "question"`: an answer with evidence sentences and checked citations.
struct AskCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ask",
    abstract: "Answer a question from the index, citing the exact lines used.",
    discussion: """
      Retrieves the best chunks (hybrid BM25 + vectors), grows them by neighbouring chunks of the
      same section while the model's context allows, and prints first the 1–3 sentences of the
      sources closest in meaning to the question (verbatim, with path:lines), then the model's
      answer as it is written, then the sources it cited. A [n] that names no passage, or a
      quotation that the cited passage does not hold, is marked unverified; an answer whose words
      are not in the sources is marked unsupported. When nothing related is retrieved the answer is
      "not found in the collection" and the model is not called.

      Passages go to the model best first and second best last, right before the question (the
      edge reordering of Jin et al. 2024); --no-reorder keeps plain rank order.

      Examples:
        tome ask "what does default alive mean"
        tome ask -k 6 --max-tokens 128 "who founded Viaweb"
        tome ask --json "what is a superangel" | jq '.evidence[0]'
      """)

  /// Answering strategies `--strategy` accepts.
  enum Strategy: String, ExpressibleByArgument, CaseIterable {
    case rag
  }

  @Argument(help: "The question.")
  var question: String

  @Option(name: .long, help: "Answering strategy: rag (retrieve, reorder, answer once).")
  var strategy: Strategy = .rag

  @Option(name: .shortAndLong, help: "Chunks to retrieve.")
  var k = 12

  @Option(name: .long, help: ArgumentHelp("GGUF chat model file. Default: SmolLM2-135M-Instruct in the model folder.", valueName: "file"))
  var model: String?

  @Option(name: .long, help: "Most tokens in the answer.")
  var maxTokens = 256

  @Option(name: .long, help: "Sampling temperature (0 = greedy).")
  var temperature = 0.0

  @Option(name: .long, help: ArgumentHelp("Use at most this many tokens of the model's context (default: all of it).", valueName: "n"))
  var context: Int?

  @Flag(name: .long, help: "Keep passages in rank order instead of edge order.")
  var noReorder = false

  @Option(name: .long, help: ArgumentHelp("Folder of prompt templates. Default: $TOME_PROMPTS, else the repository's Prompts/.", valueName: "dir"))
  var prompts: String?

  @OptionGroup var models: ModelOptions
  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func validate() throws {
    guard !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("the question is empty") }
    guard k >= 1 && k <= 200 else { throw ValidationError("-k must be between 1 and 200 (got \(k))") }
    guard maxTokens >= 1 && maxTokens <= 8192 else { throw ValidationError("--max-tokens must be between 1 and 8192 (got \(maxTokens))") }
    guard temperature >= 0 && temperature <= 5 else { throw ValidationError("--temperature must be between 0 and 5 (got \(temperature))") }
    if let context, context < 64 { throw ValidationError("--context must be at least 64 tokens (got \(context))") }
  }

  func run() async throws {
    let collection = try Collection(location: index.location, create: false)
    if try collection.store.totals().chunks == 0 {
      throw CLIError("\(Terminal.displayPath(collection.location.directory.path)): the index is empty; run `tome ingest PATH` first")
    }
    let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    let promptDirectory = prompts.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath, isDirectory: true) }
      ?? PromptLibrary.defaultDirectory(executable: Self.executableURL, workingDirectory: cwd)
    let library = PromptLibrary(directory: promptDirectory)
    for name in ["rag-system.txt", "rag-answer.txt", "rag-passage.txt"] { _ = try library.template(name) }

    let modelURL = model.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
    if let modelURL, !FileManager.default.fileExists(atPath: modelURL.path) {
      throw CLIError("model file \(modelURL.path) does not exist")
    }
    let directory = models.directory
    if modelURL == nil, !FileManager.default.fileExists(atPath: directory.defaultChatModelURL.path) {
      throw CLIError("model file \(directory.defaultChatModelURL.path) does not exist; run Scripts/bootstrap.sh or pass --model FILE")
    }
    let encoder = try directory.loadEncoder()
    let languageModel = try directory.loadChatModel(file: modelURL)
    let retriever = try HybridRetriever(collection: collection, embedder: encoder.embedder)
    var strategyConfiguration = RAGStrategy.Configuration(ordering: noReorder ? .rank : .edge)
    strategyConfiguration.contextTokens = context
    let answerer = Answerer(
      retriever: retriever, embedder: encoder.embedder, model: languageModel,
      strategy: RAGStrategy(configuration: strategyConfiguration), prompts: library,
      configuration: Answerer.Configuration(k: k))
    var parameters = GenerationParameters(maxTokens: maxTokens, temperature: temperature)
    if temperature > 0 { parameters.seed = 42 }

    let tty = Terminal.stdoutIsTTY
    let text = !output.json
    var streamed = false
    for try await event in answerer.answer(question, parameters: parameters) {
      switch event {
      case .evidence(let evidence) where text:
        if !evidence.isEmpty && !output.quiet {
          print(Terminal.bold("Evidence", tty))
          for e in evidence {
            let line = e.text.split(whereSeparator: \.isNewline).joined(separator: " ")
            print("  " + Terminal.cyan(Self.location(e.path, e.firstLine, e.lastLine, e.page), tty) + "  " + line)
          }
          print()
        }
      case .text(let piece) where text:
        if !streamed {
          if !output.quiet { print(Terminal.bold("Answer", tty)) }
          streamed = true
        }
        print(piece, terminator: "")
        fflush(nil)  // all C streams: print() buffers through stdout
      case .finished(let answer):
        if output.json {
          try Terminal.printJSON(AskJSON(answer))
        } else {
          print()
          renderSources(answer, tty: tty)
        }
      default:
        break
      }
    }
  }

  /// The running executable (through /proc on Linux, so a `tome` found on PATH resolves too).
  static var executableURL: URL {
    let proc = URL(fileURLWithPath: "/proc/self/exe")
    if FileManager.default.fileExists(atPath: proc.path) { return proc.resolvingSymlinksInPath() }
    return Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
  }

  static func location(_ path: String, _ first: Int, _ last: Int, _ page: Int?) -> String {
    var s = "\(Terminal.displayPath(path)):\(first == last ? "\(first)" : "\(first)-\(last)")"
    if let page { s += " (p. \(page))" }
    return s
  }

  func renderSources(_ answer: Answer, tty: Bool) {
    if !answer.citations.isEmpty {
      print()
      print(Terminal.bold("Sources", tty))
      for c in answer.citations {
        if let path = c.path, let first = c.firstLine, let last = c.lastLine {
          let mark = c.verified ? "" : "  " + Terminal.highlight("unverified: \(c.problem ?? "")", tty)
          print("  [\(c.number)] " + Terminal.cyan(Self.location(path, first, last, c.page), tty) + mark)
        } else {
          print("  [\(c.number)] " + Terminal.highlight("unverified: \(c.problem ?? "unknown passage")", tty))
        }
      }
    }
    if answer.unsupported {
      Terminal.error("note: the answer is unsupported: its words are not found in the sources (\(answer.unsupportedWords.prefix(8).joined(separator: ", ")))")
    }
    for q in answer.quotes where !q.verified {
      Terminal.error("note: the quotation \"\(q.text)\" is not in the cited passage")
    }
    if !answer.dropped.isEmpty {
      Terminal.error("note: \(answer.dropped.count) retrieved passage(s) did not fit in the model's context and were left out")
    }
    if answer.model == nil && !output.quiet {
      Terminal.error("note: nothing related was retrieved, so the model was not asked")
    }
  }
}

/// JSON shape of `tome ask --json`.
struct AskJSON: Encodable {
  struct EvidenceJSON: Encodable {
    var text: String
    var path: String
    var firstLine: Int
    var lastLine: Int
    var page: Int?
    var score: Double
    var chunkID: Int64
  }
  struct CitationJSON: Encodable {
    var n: Int
    var path: String?
    var firstLine: Int?
    var lastLine: Int?
    var page: Int?
    var verified: Bool
    var problem: String?
    var chunkIDs: [Int64]
  }
  struct PassageJSON: Encodable {
    var n: Int
    var chunkIDs: [Int64]
    var path: String
    var firstLine: Int
    var lastLine: Int
    var page: Int?
  }
  var question: String
  var strategy: String
  var model: String?
  var answer: String
  var notFound: Bool
  var unsupported: Bool
  var unsupportedWords: [String]
  var evidence: [EvidenceJSON]
  var citations: [CitationJSON]
  var quotes: [QuoteCheck]
  var passages: [PassageJSON]
  var retrievedChunkIDs: [Int64]
  var droppedChunkIDs: [Int64]
  var tokens: TokenCounts
  var timings: AnswerTimings

  init(_ a: Answer) {
    question = a.question
    strategy = a.strategy
    model = a.model
    answer = a.text
    notFound = a.notFound
    unsupported = a.unsupported
    unsupportedWords = a.unsupportedWords
    evidence = a.evidence.map {
      EvidenceJSON(text: $0.text, path: $0.path, firstLine: $0.firstLine, lastLine: $0.lastLine, page: $0.page, score: $0.score, chunkID: $0.chunkID.rawValue)
    }
    citations = a.citations.map {
      CitationJSON(
        n: $0.number, path: $0.path, firstLine: $0.firstLine, lastLine: $0.lastLine, page: $0.page, verified: $0.verified,
        problem: $0.problem, chunkIDs: $0.chunkIDs.map(\.rawValue))
    }
    quotes = a.quotes
    passages = a.passages.enumerated().map { i, p in
      PassageJSON(n: i + 1, chunkIDs: p.chunkIDs.map(\.rawValue), path: p.span.path, firstLine: p.span.firstLine, lastLine: p.span.lastLine, page: p.span.page)
    }
    retrievedChunkIDs = a.passages.flatMap(\.chunkIDs).map(\.rawValue)
    droppedChunkIDs = a.dropped.flatMap(\.chunkIDs).map(\.rawValue)
    tokens = a.tokens
    timings = a.timings
  }
}
