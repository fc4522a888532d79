import ArgumentParser
import Foundation
import TomeBench
import TomeKit
import TomeReport

/// `tome bench speed`: ingest throughput, search latency and model speed on this machine.
struct SpeedBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "speed",
    abstract: "Ingest throughput, BM25/dense/hybrid search latency and model prefill/decode speed.",
    discussion: """
      Ingests FOLDER into a fresh temporary index (chunking with the encoder's tokenizer, then \
      embedding) and reports MB/s, chunks/s and tokens/s; runs --queries seeded queries (eight \
      consecutive words of a random chunk) in each retrieval mode and reports p50/p95 latency; \
      then times the in-process model's prefill of --prefill tokens of essay text and a greedy \
      decode of --decode tokens after it. The index is removed afterwards.

      Examples:
        tome bench speed
        tome bench speed ~/notes --queries 200 --json speed.json
        tome bench speed --no-model
      """)

  @Argument(help: ArgumentHelp("Folder to ingest. Default: the Paul Graham essays (as for `tome bench niah`).", valueName: "folder"))
  var folder: String?

  @Option(name: .long, help: "Search queries per mode.")
  var queries = 100

  @Option(name: .long, help: "Chunks retrieved per search.")
  var k = 10

  @Option(name: .long, help: "Seed for the queries.")
  var seed: UInt64 = 42

  @Option(name: .long, help: "Model prefill length in tokens.")
  var prefill = 2000

  @Option(name: .long, help: "Model decode length in tokens.")
  var decode = 128

  @Flag(name: .long, help: "Skip the model measurements.")
  var noModel = false

  @Option(name: .long, help: ArgumentHelp("GGUF chat model file. Default: SmolLM2-135M-Instruct in the model folder.", valueName: "file"))
  var model: String?

  @Option(name: .long, help: ArgumentHelp("Write the results as JSON to this file.", valueName: "file"))
  var json: String?

  @OptionGroup var models: ModelOptions

  func validate() throws {
    guard (1...100_000).contains(queries) else { throw ValidationError("--queries must be between 1 and 100000 (got \(queries))") }
    guard (1...200).contains(k) else { throw ValidationError("-k must be between 1 and 200 (got \(k))") }
    guard (16...32_768).contains(prefill) else { throw ValidationError("--prefill must be between 16 and 32768 (got \(prefill))") }
    guard (1...4096).contains(decode) else { throw ValidationError("--decode must be between 1 and 4096 (got \(decode))") }
  }

  func run() async throws {
    let essays = try? NIAHBenchCommand.essaysFolder(nil)
    let source: URL
    if let folder {
      source = URL(fileURLWithPath: (folder as NSString).expandingTildeInPath)
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory) else {
        throw CLIError("\(source.path): no such file or folder")
      }
    } else {
      source = try NIAHBenchCommand.essaysFolder(nil)
    }
    let encoder = try models.directory.loadEncoder()
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("tome-speed-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: work) }

    Terminal.error("ingesting \(source.path)…")
    let collection = try Collection(location: IndexLocation(directory: work), create: true)
    let ingest = try SpeedBenchmark.ingest(folder: source, into: collection, encoder: encoder) { Terminal.error($0) }
    let retriever = try HybridRetriever(collection: collection, embedder: encoder.embedder)
    let querySet = try SpeedBenchmark.queries(collection: collection, count: queries, seed: seed)
    Terminal.error("searching: \(querySet.count) queries per mode…")
    let searches = try SpeedBenchmark.search(retriever: retriever, queries: querySet, modes: RetrievalMode.allCases, k: k)

    var modelResult: SpeedBenchmark.Model?
    if !noModel {
      let file = model.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
      if let file, !FileManager.default.fileExists(atPath: file.path) { throw CLIError("model file \(file.path) does not exist") }
      let languageModel = try models.directory.loadChatModel(file: file)
      // Prose for the prefill: the essays (the ingested folder may be code or tiny).
      let proseFolder = essays ?? source
      var text = ""
      for name in (try? FileManager.default.contentsOfDirectory(atPath: proseFolder.path).sorted()) ?? [] where text.utf8.count < prefill * 8 {
        text += (try? String(contentsOf: proseFolder.appendingPathComponent(name), encoding: .utf8)) ?? ""
      }
      Terminal.error("model: prefill \(prefill) tokens, decode \(decode)…")
      modelResult = try SpeedBenchmark.model(languageModel, text: text, prefillTokens: prefill, decodeTokens: decode)
    }

    print(SystemReport.kernelSummary)
    print("ingest  \(source.path)")
    print(String(
      format: "  %d files, %@, %d chunks, %d tokens: chunking %.1fs + embedding %.1fs", ingest.files, Terminal.bytes(ingest.bytes),
      ingest.chunks, ingest.tokens, ingest.chunkingSeconds, ingest.embeddingSeconds))
    print(String(
      format: "  %.3f MB/s   %.1f chunks/s   %.0f tokens/s   (embedding alone: %.0f tokens/s)", ingest.megabytesPerSecond,
      ingest.chunksPerSecond, ingest.tokensPerSecond, ingest.embeddedTokensPerSecond))
    print("search  (k = \(k), \(querySet.count) queries)")
    print("  mode      p50 ms   p95 ms   mean ms")
    for s in searches {
      print("  " + s.mode.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0) + String(format: "%8.2f %8.2f %9.2f", s.p50Milliseconds, s.p95Milliseconds, s.meanMilliseconds))
    }
    if let m = modelResult {
      print("model   \(URL(fileURLWithPath: m.model).lastPathComponent)")
      print(String(format: "  prefill %d tokens in %.2fs: %.1f tokens/s", m.prefillTokens, m.prefillSeconds, m.prefillTokensPerSecond))
      print(String(format: "  decode  %d tokens in %.2fs: %.1f tokens/s", m.decodeTokens, m.decodeSeconds, m.decodeTokensPerSecond))
    } else if !noModel {
      print("model   not measured (not an in-process model)")
    }
    if let json {
      let output = SpeedJSON(
        command: Terminal.commandLine(), kernels: SystemReport.kernelSummary, folder: source.path, ingest: ingest,
        search: searches, model: modelResult)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(output).write(to: URL(fileURLWithPath: json))
    }
  }
}

/// `--json` output of `tome bench speed` (rates included, not only the raw counts).
struct SpeedJSON: Encodable {
  var command: String
  /// The BLAS and SIMD kernels the figures were measured with.
  var kernels: String
  var folder: String
  var ingest: SpeedBenchmark.Ingest
  var search: [SpeedBenchmark.Search]
  var model: SpeedBenchmark.Model?

  enum CodingKeys: String, CodingKey { case command, kernels, folder, ingest, search, model, rates }
  struct Rates: Encodable {
    var ingestMegabytesPerSecond: Double
    var ingestChunksPerSecond: Double
    var ingestTokensPerSecond: Double
    var embeddingTokensPerSecond: Double
    var prefillTokensPerSecond: Double?
    var decodeTokensPerSecond: Double?
  }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(command, forKey: .command)
    try c.encode(kernels, forKey: .kernels)
    try c.encode(folder, forKey: .folder)
    try c.encode(ingest, forKey: .ingest)
    try c.encode(search, forKey: .search)
    try c.encodeIfPresent(model, forKey: .model)
    try c.encode(
      Rates(
        ingestMegabytesPerSecond: ingest.megabytesPerSecond, ingestChunksPerSecond: ingest.chunksPerSecond,
        ingestTokensPerSecond: ingest.tokensPerSecond, embeddingTokensPerSecond: ingest.embeddedTokensPerSecond,
        prefillTokensPerSecond: model?.prefillTokensPerSecond, decodeTokensPerSecond: model?.decodeTokensPerSecond),
      forKey: .rates)
  }
}
