public import ArgumentParser
import Foundation
public import TomeCore
import TomeKit

extension KVPageFormat: ExpressibleByArgument {
  public init?(argument: String) {
    switch argument {
    case "int8": self = .int8
    case "f16", "float16": self = .float16
    default: return nil
    }
  }

  public static var allValueStrings: [String] { ["int8", "f16"] }
}

/// `tome kv build | status | drop`: each chunk's keys and values, stored for the in-process model.
struct KVCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kv",
    abstract: "Build, check or drop stored KV pages (each chunk's keys and values for the in-process model).",
    discussion: """
      With pages, a prompt that shows a chunk imports the chunk's keys and values instead of \
      running the model over its text, so the time to the first token of an answer is spent on \
      the question and the template only. A page is computed for the chunk on its own: it never \
      attends to the question or to the other passages, which may cost some answer quality \
      (compare with `tome ask --no-kv-pages`). Pages take about 11.5 KB per token for \
      SmolLM2-135M in int8, twice that in f16; they live in kvpages/ beside tome.sqlite, and go \
      with their chunk when a file changes.

        tome kv build                    # pages for the default model (int8)
        tome kv build --model other.gguf # another model's (the first model's are dropped)
        tome kv status                   # pages, tokens, bytes, dead bytes in the files
        tome kv drop                     # delete every page
      """,
    subcommands: [KVBuildCommand.self, KVStatusCommand.self, KVDropCommand.self])

  /// Builds the missing pages with progress on a terminal, and says what was done (unless
  /// `quiet`: the summary line goes to stdout, which `--json` keeps for JSON).
  static func build(collection: Collection, model: any LanguageModel, format: KVPageFormat, quiet: Bool) throws {
    let showProgress = Terminal.stderrIsTTY && !quiet
    let throttle = ProgressThrottle()
    let started = ContinuousClock.now
    let report = try KVPageStore(collection: collection).build(model: model, format: format) { done, total in
      guard showProgress, throttle.due(final: done == total) else { return }
      let seconds = (ContinuousClock.now - started).seconds
      let rate = seconds > 0 ? Double(done) / seconds : 0
      let eta = rate > 0 ? " ETA " + Terminal.duration(Double(total - done) / rate) : ""
      FileHandle.standardError.write(Data(String(format: "\r\u{1B}[KKV pages %d/%d chunks  %.1f chunks/s%@", done, total, rate, eta).utf8))
    }
    if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    guard !quiet else { return }
    var line = "KV pages: \(report.built) built (\(report.tokens) tokens, "
      + ByteCountFormatter.string(fromByteCount: report.bytes, countStyle: .file)
      + ") for \(model.identifier) in \(Terminal.duration(report.seconds))"
    if report.skipped > 0 { line += "; \(report.skipped) chunks longer than the model's window are read as text" }
    print(line)
  }
}

struct KVBuildCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "build", abstract: "Compute the KV pages of every chunk that has none (resumable: a killed build keeps what it recorded).")

  @Option(name: .long, help: ArgumentHelp("GGUF chat model file. Default: SmolLM2-135M-Instruct in the model folder.", valueName: "file"))
  var model: String?

  @Option(name: .long, help: "Storage of keys and values: int8 (1 byte a value, a scale per row) or f16 (exact).")
  var format: KVPageFormat = .int8

  @OptionGroup var chatTemplate: ChatTemplateOption
  @OptionGroup var models: ModelOptions
  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func run() async throws {
    let collection = try Collection(location: index.location, create: false)
    let file = model.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath, relativeTo: Terminal.workingDirectory) }
    let languageModel = try LanguageModelSource.local(file: file, template: chatTemplate.format).load(models: models.directory, environment: [:])
    try KVCommand.build(collection: collection, model: languageModel, format: format, quiet: output.quiet || output.json)
  }
}

struct KVStatusCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the stored pages: model, chunks, tokens and bytes.")

  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func run() async throws {
    let collection = try Collection(location: index.location, create: false)
    let statuses = try KVPageStore(collection: collection).status()
    let chunks = try collection.totals().chunks
    if output.json {
      try Terminal.printJSON(statuses.map { KVStatusJSON(status: $0, chunks: chunks) })
      return
    }
    guard !statuses.isEmpty else {
      print("KV pages: none (build them with `tome kv build`)")
      return
    }
    for s in statuses {
      let dead = s.fileBytes - s.bytes
      var line = "\(s.model): \(s.pages) of \(chunks) chunks, \(s.tokens) tokens, "
        + ByteCountFormatter.string(fromByteCount: s.bytes, countStyle: .file)
        + " (\(s.tokens > 0 ? s.bytes / Int64(s.tokens) : 0) bytes per token) in kvpages/\(s.file)"
      if dead > 0 {
        line += "; \(ByteCountFormatter.string(fromByteCount: dead, countStyle: .file)) of the file is pages of changed or deleted chunks (`tome kv drop` and `build` to reclaim)"
      }
      print(line)
    }
  }
}

struct KVDropCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "drop", abstract: "Delete every stored page; prompts read every passage again.")

  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func run() async throws {
    let collection = try Collection(location: index.location, create: false)
    let freed = try KVPageStore(collection: collection).drop()
    if !output.quiet { print("dropped the KV pages (\(ByteCountFormatter.string(fromByteCount: freed, countStyle: .file)) freed)") }
  }
}

/// JSON shape of one model's pages in `tome kv status --json`.
struct KVStatusJSON: Encodable {
  var model: String
  var file: String
  var pages: Int
  var chunks: Int
  var tokens: Int
  var bytes: Int64
  var fileBytes: Int64

  init(status s: KVPageStore.Status, chunks: Int) {
    model = s.model
    file = s.file
    pages = s.pages
    self.chunks = chunks
    tokens = s.tokens
    bytes = s.bytes
    fileBytes = s.fileBytes
  }
}
