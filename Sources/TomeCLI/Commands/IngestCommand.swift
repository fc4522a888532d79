import ArgumentParser
import Foundation
import TomeCore
import TomeIngest
import TomeKit

/// `tome ingest PATH...`: build or update an index from files and folders.
struct IngestCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ingest",
    abstract: "Index files and folders (incremental: unchanged files are skipped, deleted ones pruned).",
    discussion: """
      Reads text, Markdown, reStructuredText, HTML, source code and PDF (via pdftotext from \
      poppler-utils). Binary files are skipped with a reason; invalid UTF-8 is decoded with a \
      warning. .git, .build, node_modules and hidden files are ignored unless --include names them.

      Each file is committed on its own, so an interrupted ingest resumes where it stopped when \
      run again. With no PATH, the paths of earlier runs are re-synced.

      Examples:
        tome ingest ~/papers
        tome ingest src docs --include '*.md' --include '*.swift'
        tome ingest --index notes ~/notes --exclude 'archive/**'
      """)

  @Argument(help: ArgumentHelp("Files or folders to index.", valueName: "path"))
  var paths: [String] = []

  @Option(name: .long, help: ArgumentHelp("Only index files matching this glob (repeatable), e.g. '*.md', 'docs/**'.", valueName: "glob"))
  var include: [String] = []

  @Option(name: .long, help: ArgumentHelp("Skip files matching this glob (repeatable).", valueName: "glob"))
  var exclude: [String] = []

  @Option(name: .long, help: "Token budget per chunk.")
  var chunkTokens = 256

  @Option(name: .long, help: "Tokens of overlap between consecutive chunks.")
  var overlap = 32

  @Flag(name: .long, help: "Re-chunk and re-embed every file, even unchanged ones.")
  var force = false

  @Flag(name: .long, help: "Skip the encoder: BM25 search only (chunks are then sized by an estimate of its tokens).")
  var noEmbed = false

  @Flag(
    name: .customLong("kv-pages"),
    help: "Then store each new chunk's keys and values for the default model (see `tome kv --help`; `tome kv build --model FILE` for another model).")
  var kvPages = false

  @Option(
    name: .customLong("drop-root"),
    help: ArgumentHelp("Forget an ingested root (e.g. one deleted since) and remove its documents, then stop.", valueName: "path"))
  var dropRoot: String?

  @OptionGroup var model: ModelOptions

  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func validate() throws {
    for (option, patterns) in [("--include", include), ("--exclude", exclude)] {
      for pattern in patterns {
        if let problem = GlobPattern.problem(in: pattern) { throw ValidationError("\(option) '\(pattern)': \(problem)") }
      }
    }
    guard chunkTokens >= 16 else { throw ValidationError("--chunk-tokens must be at least 16 (got \(chunkTokens))") }
    guard overlap >= 0, overlap < chunkTokens / 2 else {
      throw ValidationError("--overlap must be between 0 and half of --chunk-tokens (got \(overlap))")
    }
  }

  func run() async throws {
    if let dropRoot {
      guard paths.isEmpty else { throw ValidationError("--drop-root takes no other PATH") }
      let collection = try Collection(location: index.location, create: false)
      let pipeline = IngestPipeline(collection: collection)
      let cwd = Terminal.workingDirectory
      let removed = try pipeline.dropRoot(URL(fileURLWithPath: (dropRoot as NSString).expandingTildeInPath, relativeTo: cwd))
      if !output.quiet { print("dropped root \(Terminal.displayPath(dropRoot)): \(removed.count) document(s) removed") }
      return
    }
    let collection = try Collection(location: index.location, create: true)
    let chunker = try Chunker.Configuration(maxTokens: chunkTokens, overlapTokens: overlap)
    let rules = IgnoreRules(include: include, exclude: exclude)
    let encoder = noEmbed ? nil : try model.directory.loadEncoder()
    let cwd = Terminal.workingDirectory
    let roots = paths.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath, relativeTo: cwd) }

    let showProgress = Terminal.stderrIsTTY && !output.quiet && !output.json
    let ingestThrottle = ProgressThrottle()
    let embedThrottle = ProgressThrottle()
    let synced = try collection.sync(
      paths: roots, configuration: .init(chunker: chunker, rules: rules, force: force), encoder: encoder
    ) { (event: SyncProgress) -> Void in
      guard showProgress else { return }
      switch event {
      case .ingest(let p): if ingestThrottle.due(final: p.filesDone == p.filesTotal) { Self.draw(p) }
      case .embed(let p): if embedThrottle.due(final: p.done == p.total) { Self.draw(p) }
      }
    }
    if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    let report = synced.ingest
    let embedding = synced.embedding
    // The graph follows the vectors: caught up (or rebuilt) when one is chosen, built once the
    // index passes GraphStore.autoThreshold.
    if let encoder, try collection.vectors().encoder != nil {
      let quiet = output.quiet || output.json
      _ = try GraphStore(collection: collection).maintain(embedder: encoder.embedder) { if !quiet { Terminal.error("note: \($0)") } }
    }

    if output.json {
      try Terminal.printJSON(IngestSummary(report: report, embedding: embedding, index: collection.location.directory.path))
    } else if !output.quiet {
      print(Self.summary(report, index: collection.location))
      if let embedding, embedding.embedded > 0 {
        let s = embedding.elapsed.seconds
        print(String(
          format: "embedded %d chunks (%d tokens) in %@: %.1f chunks/s, %.0f tokens/s%@", embedding.embedded, embedding.tokens,
          Terminal.duration(s), Double(embedding.embedded) / s, Double(embedding.tokens) / s,
          embedding.reset ? " (vectors of the previous encoder were replaced)" : ""))
      }
    }
    if kvPages {
      try KVCommand.build(collection: collection, model: try model.directory.loadChatModel(), format: .int8, quiet: output.quiet || output.json)
    }

    if !output.json {
      if let reason = report.rechunkReason, !output.quiet { Terminal.error("note: every file was re-chunked: \(reason)") }
      for root in report.missingRoots {
        Terminal.error("warning: \(Terminal.displayPath(root)) (an ingested root) no longer exists; its documents are kept — forget it with: tome ingest --drop-root \(Terminal.displayPath(root))")
      }
      for entry in report.walkSkipped { Terminal.error("warning: \(Terminal.displayPath(entry.path)): \(entry.message)") }
      for entry in report.warnings { Terminal.error("warning: \(Terminal.displayPath(entry.path)): \(entry.message)") }
      if !output.quiet {
        for entry in report.skipped { Terminal.error("skipped: \(Terminal.displayPath(entry.path)): \(entry.message)") }
      }
      for entry in report.failed { Terminal.error("failed: \(Terminal.displayPath(entry.path)): \(entry.message)") }
    }
    if !report.failed.isEmpty { throw ExitCode.failure }
  }

  static func draw(_ p: IngestProgress) {
    let rate = p.bytesPerSecond / 1e6
    let eta = p.remaining.map { " ETA " + Terminal.duration($0.seconds) } ?? ""
    var name = Terminal.displayPath(p.currentPath)
    if name.count > 40 { name = "…" + name.suffix(39) }
    let line = String(format: "\r\u{1B}[K%d/%d files  %.1f MB/s  %d chunks%@  %@", p.filesDone, p.filesTotal, rate, p.chunksWritten, eta, name)
    FileHandle.standardError.write(Data(line.utf8))
  }

  static func draw(_ p: EmbeddingProgress) {
    let rate = p.chunksPerSecond
    let eta = rate > 0 ? " ETA " + Terminal.duration(Double(p.total - p.done) / rate) : ""
    let line = String(format: "\r\u{1B}[Kembedding %d/%d chunks  %.1f chunks/s%@", p.done, p.total, rate, eta)
    FileHandle.standardError.write(Data(line.utf8))
  }

  static func summary(_ r: IngestReport, index: IndexLocation) -> String {
    let seconds = r.elapsed.seconds
    let rate = seconds > 0 ? Double(r.bytes) / seconds / 1e6 : 0
    var parts = ["\(r.indexed.count) indexed", "\(r.unchanged) unchanged"]
    if !r.empty.isEmpty { parts.append("\(r.empty.count) empty") }
    if !r.skipped.isEmpty { parts.append("\(r.skipped.count) skipped") }
    if !r.failed.isEmpty { parts.append("\(r.failed.count) failed") }
    if !r.pruned.isEmpty { parts.append("\(r.pruned.count) removed") }
    let kept = r.vectorsKept > 0 ? " (\(r.vectorsKept) unchanged, their vectors kept)" : ""
    return "\(parts.joined(separator: ", ")); \(r.chunks) chunks\(kept) written in \(Terminal.duration(seconds)) "
      + String(format: "(%.1f MB/s) → %@", rate, Terminal.displayPath(index.directory.path))
  }
}

/// JSON shape of `tome ingest --json`.
struct IngestSummary: Encodable {
  var index: String
  /// Why every file was re-chunked, when the index was built by other rules.
  var rechunkReason: String?
  /// Re-chunked chunks whose text and header did not change: their vectors were kept.
  var vectorsKept: Int
  var indexed: [String]
  var empty: [String]
  var unchanged: Int
  var skipped: [IngestReport.Entry]
  var failed: [IngestReport.Entry]
  var warnings: [IngestReport.Entry]
  var walkSkipped: [IngestReport.Entry]
  var pruned: [String]
  var chunks: Int
  var bytes: Int
  var seconds: Double
  var embedded: Int
  var embeddedTokens: Int
  var embedSeconds: Double

  init(report r: IngestReport, embedding: EmbeddingReport?, index: String) {
    embedded = embedding?.embedded ?? 0
    embeddedTokens = embedding?.tokens ?? 0
    embedSeconds = embedding?.elapsed.seconds ?? 0
    self.index = index
    rechunkReason = r.rechunkReason
    vectorsKept = r.vectorsKept
    indexed = r.indexed
    empty = r.empty
    unchanged = r.unchanged
    skipped = r.skipped
    failed = r.failed
    warnings = r.warnings
    walkSkipped = r.walkSkipped
    pruned = r.pruned
    chunks = r.chunks
    bytes = r.bytes
    seconds = r.elapsed.seconds
  }
}
