public import Foundation
public import TomeCore
public import TomeReasoning
public import TomeKit
public import TomeStore

/// Needle in a haystack over real text and a real index, RULER-style: for each context length a
/// haystack of that many encoder tokens is written as files (one per essay or document) and
/// ingested once; for each depth and needle kind the needle goes into the one file at that
/// depth, that file alone is re-ingested, and the question goes through the answerer.
///
/// Work folder layout (kept between runs, so a re-run reuses every built index):
/// `<work>/vectors.sqlite` (the `VectorCache` shared by all lengths: text common to two lengths
/// is embedded once), `<work>/<length>/docs/` (the haystack files) and `<work>/<length>/index/`.
/// A cell restores its file afterwards, and each length starts by rewriting any file that
/// differs from the haystack, so an interrupted run leaves nothing behind that matters.
public struct NIAHBenchmark: Sendable {
  public struct Configuration: Sendable {
    /// Haystack lengths in encoder tokens.
    public var lengths: [Int]
    /// Needle depths in percent (0 = start, 100 = end).
    public var depths: [Int]
    public var kinds: [NeedleKind]
    public var seed: UInt64
    /// Work folder (indexes, haystack files, vector cache).
    public var work: URL
    /// Source folders in order: the essays first, then further collections.
    public var sources: [URL]
    public var settings: AnswererSettings
    public var parameters: GenerationParameters

    public init(
      lengths: [Int], depths: [Int], kinds: [NeedleKind], seed: UInt64, work: URL, sources: [URL], settings: AnswererSettings,
      parameters: GenerationParameters
    ) {
      self.lengths = lengths
      self.depths = depths
      self.kinds = kinds
      self.seed = seed
      self.work = work
      self.sources = sources
      self.settings = settings
      self.parameters = parameters
    }
  }

  /// What the runner reports while it works.
  public enum Event: Sendable {
    case status(String)
    case ingest(length: Int, IngestProgress)
    case embed(length: Int, EmbeddingProgress)
    case built(NIAHIndexBuild)
    case cell(NIAHCell)
  }

  public let configuration: Configuration
  public let encoder: SentenceEncoder
  public let model: any LanguageModel

  public init(configuration: Configuration, encoder: SentenceEncoder, model: any LanguageModel) {
    self.configuration = configuration
    self.encoder = encoder
    self.model = model
  }

  /// Runs every cell; lengths in increasing order, so the shorter ones report first.
  /// - Throws: `DatasetError` when the sources hold fewer tokens than the longest length;
  ///   store, encoder and model errors.
  public func run(progress: (Event) -> Void = { _ in }) async throws -> NIAHReport {
    let counter = encoder.tokenCounter
    let lengths = configuration.lengths.sorted()
    guard let longest = lengths.last else { return report(indexes: [], cells: []) }
    progress(.status("reading haystack text (\(NIAHBenchmark.label(longest)) tokens)…"))
    let files = try Haystack.sourceFiles(folders: configuration.sources)
    let full = Haystack.load(files: files, tokens: longest, counter: counter)
    if full.tokens < longest {
      throw DatasetError(
        path: configuration.sources.map(\.path).joined(separator: ", "),
        reason: "holds \(full.tokens) tokens of text, fewer than \(longest); add a folder with --haystack DIR")
    }
    let cache = try VectorCache(url: configuration.work.appendingPathComponent("vectors.sqlite"))
    let library = PromptLibrary(directory: configuration.settings.prompts)
    for name in StrategyFactory.templates(for: configuration.settings.strategy) { _ = try library.template(name) }

    var indexes: [NIAHIndexBuild] = []
    var cells: [NIAHCell] = []
    for length in lengths {
      let haystack = full.prefix(tokens: length, counter: counter)
      let folder = configuration.work.appendingPathComponent(NIAHBenchmark.label(length))
      let docs = folder.appendingPathComponent("docs")
      progress(.status("\(NIAHBenchmark.label(length)): \(haystack.documents.count) documents, \(haystack.tokens) tokens; indexing…"))
      let started = ContinuousClock.now
      let rewritten = try Self.write(haystack, to: docs)
      let collection = try Collection(location: IndexLocation(directory: folder.appendingPathComponent("index")), create: true)
      let synced = try collection.sync(paths: [docs], encoder: encoder, cache: cache) { event in
        switch event {
        case .ingest(let p): progress(.ingest(length: length, p))
        case .embed(let p): progress(.embed(length: length, p))
        }
      }
      let ingest = synced.ingest
      let totals = try collection.store.totals()
      let build = NIAHIndexBuild(
        length: length, tokens: haystack.tokens, documents: haystack.documents.count, chunks: totals.chunks,
        filesWritten: rewritten, filesIngested: ingest.indexed.count + ingest.empty.count, chunksEmbedded: synced.embedding?.embedded ?? 0,
        chunksFromCache: synced.embedding?.cached ?? 0, seconds: (ContinuousClock.now - started).seconds)
      indexes.append(build)
      progress(.built(build))

      for depth in configuration.depths {
        for kind in configuration.kinds {
          let cell = try await runCell(
            kind: kind, length: length, depth: depth, haystack: haystack, docs: docs, collection: collection, cache: cache,
            library: library, progress: progress)
          cells.append(cell)
          progress(.cell(cell))
        }
      }
    }
    return report(indexes: indexes, cells: cells)
  }

  /// The report over what has run so far (the CLI rewrites its files after every cell, so
  /// a run stopped early still leaves its finished cells).
  public func report(indexes: [NIAHIndexBuild], cells: [NIAHCell]) -> NIAHReport {
    NIAHReport(
      seed: configuration.seed, kinds: configuration.kinds, lengths: configuration.lengths.sorted(), depths: configuration.depths,
      strategy: configuration.settings.strategy.rawValue, model: model.identifier, encoder: encoder.embedder.identifier, tokenCounter: encoder.tokenCounter.identifier,
      sources: configuration.sources.map(\.path), indexes: indexes, cells: cells)
  }

  /// The needle of one cell (seeded by the cell's coordinates, not by run order).
  public static func needle(kind: NeedleKind, length: Int, depth: Int, seed: UInt64) -> Needle {
    let k = NeedleKind.allCases.firstIndex(of: kind) ?? 0
    var rng = SeededGenerator(seed: seed, mixing: [k, length, depth])
    return Needle.make(kind, using: &rng)
  }

  private func runCell(
    kind: NeedleKind, length: Int, depth: Int, haystack: Haystack, docs: URL, collection: Collection, cache: VectorCache,
    library: PromptLibrary, progress: (Event) -> Void
  ) async throws -> NIAHCell {
    let started = ContinuousClock.now
    let counter = encoder.tokenCounter
    let needle = Self.needle(kind: kind, length: length, depth: depth, seed: configuration.seed)
    let (texts, placements) = haystack.insert(
      [(needle.text, Double(depth))] + needle.companions.map { ($0.text, $0.depth) }, counter: counter)
    let placement = placements[0]
    func write(_ text: String, of document: Int) throws {
      try Data(text.utf8).write(to: docs.appendingPathComponent(haystack.documents[document].name))
    }
    func restore() throws {
      for document in texts.keys { try write(haystack.documents[document].text, of: document) }
    }
    for (document, text) in texts { try write(text, of: document) }
    // Put the files back however the cell ends; the next cell's ingest (or the next run)
    // re-indexes them.
    defer { try? restore() }
    try collection.sync(paths: [docs], encoder: encoder, cache: cache)
    let indexSeconds = (ContinuousClock.now - started).seconds

    let answerer = Answerer(
      retriever: try HybridRetriever(collection: collection, embedder: encoder.embedder), embedder: encoder.embedder, model: model,
      strategies: configuration.settings.strategies, defaultStrategy: configuration.settings.strategy, prompts: library,
      configuration: configuration.settings.retrieval)
    let answerStarted = ContinuousClock.now
    let answer = try await answerer.answer(needle.question, parameters: configuration.parameters)
    let answerSeconds = (ContinuousClock.now - answerStarted).seconds
    // Multi-needle kinds spread their sentences, so these look at the passages (and the first
    // evidence sentences, one per expected string) together.
    let retrieved = needle.isFound(in: answer.passages.map(\.text).joined(separator: "\n"))
    let evidence = needle.isFound(in: answer.evidence.prefix(needle.expected.count).map(\.text).joined(separator: "\n"))

    // Re-index the clean files now, so the index is whole between cells.
    try restore()
    try collection.sync(paths: [docs], encoder: encoder, cache: cache)

    return NIAHCell(
      kind: kind, length: length, haystackTokens: haystack.tokens, depth: depth,
      actualDepth: 100 * Double(placement.tokensBefore) / Double(max(haystack.tokens, 1)),
      document: haystack.documents[placement.document].name,
      question: needle.question, expected: needle.expected, answer: answer.text, correct: needle.isFound(in: answer.text),
      inRetrievedPassages: retrieved, inTopEvidence: evidence, promptTokens: answer.tokens.prompt,
      indexSeconds: indexSeconds, answerSeconds: answerSeconds, seconds: (ContinuousClock.now - started).seconds)
  }

  /// Makes `docs` hold exactly the haystack's files; returns how many were (re)written.
  static func write(_ haystack: Haystack, to docs: URL) throws -> Int {
    let fm = FileManager.default
    try fm.createDirectory(at: docs, withIntermediateDirectories: true)
    let wanted = Set(haystack.documents.map(\.name))
    for name in try fm.contentsOfDirectory(atPath: docs.path) where !wanted.contains(name) {
      try fm.removeItem(at: docs.appendingPathComponent(name))
    }
    var written = 0
    for document in haystack.documents {
      let url = docs.appendingPathComponent(document.name)
      let data = Data(document.text.utf8)
      if let existing = try? Data(contentsOf: url), existing == data { continue }
      try data.write(to: url)
      written += 1
    }
    return written
  }

  /// "4k", "128k", "1m" for powers of two; the number otherwise.
  public static func label(_ tokens: Int) -> String {
    if tokens >= 1 << 20, tokens % (1 << 20) == 0 { return "\(tokens >> 20)m" }
    if tokens >= 1 << 10, tokens % (1 << 10) == 0 { return "\(tokens >> 10)k" }
    return "\(tokens)"
  }

  /// Parses "4k" (4,096), "1m" (1,048,576) or a plain number of tokens; nil when invalid.
  public static func parseLength(_ text: String) -> Int? {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    guard let last = t.last else { return nil }
    let multiplier = last == "k" ? 1 << 10 : last == "m" ? 1 << 20 : 1
    let digits = multiplier == 1 ? t : String(t.dropLast())
    guard let n = Int(digits), n > 0, n <= (1 << 30) / multiplier else { return nil }
    return n * multiplier
  }
}

/// One index built for a length.
public struct NIAHIndexBuild: Sendable, Hashable, Codable {
  public var length: Int
  public var tokens: Int
  public var documents: Int
  public var chunks: Int
  /// Haystack files that had to be (re)written this run (0 when a previous run left them).
  public var filesWritten: Int
  public var filesIngested: Int
  public var chunksEmbedded: Int
  public var chunksFromCache: Int
  public var seconds: Double
}

/// One cell: a needle kind at a length and depth, and how the answer did.
public struct NIAHCell: Sendable, Hashable, Codable {
  public var kind: NeedleKind
  public var length: Int
  public var haystackTokens: Int
  public var depth: Int
  /// Where the needle really went (percent of haystack tokens before it).
  public var actualDepth: Double
  /// The file that held the needle (its sentence at the cell's depth).
  public var document: String
  public var question: String
  public var expected: [String]
  public var answer: String
  /// The answer contains every expected value.
  public var correct: Bool
  /// The passages shown to the model contain every expected value between them.
  public var inRetrievedPassages: Bool
  /// The top evidence sentences (one per expected value) contain every expected value.
  public var inTopEvidence: Bool
  public var promptTokens: Int
  /// Re-indexing the needle's files.
  public var indexSeconds: Double
  public var answerSeconds: Double
  /// The whole cell (index the needle, answer, restore).
  public var seconds: Double
}

/// Everything `tome bench niah` measured.
public struct NIAHReport: Sendable, Hashable, Codable {
  public var seed: UInt64
  public var kinds: [NeedleKind]
  public var lengths: [Int]
  public var depths: [Int]
  public var strategy: String
  public var model: String
  public var encoder: String
  public var tokenCounter: String
  public var sources: [String]
  public var indexes: [NIAHIndexBuild]
  public var cells: [NIAHCell]

  /// Share of correct answers per (depth, length) over `kinds` (nil where no cell ran);
  /// `values[depth index][length index]`.
  public func accuracy(kinds: [NeedleKind]? = nil, metric: (NIAHCell) -> Bool = \.correct) -> [[Double?]] {
    let wanted = Set(kinds ?? self.kinds)
    return depths.map { depth in
      lengths.map { length in
        let matching = cells.filter { $0.depth == depth && $0.length == length && wanted.contains($0.kind) }
        guard !matching.isEmpty else { return nil }
        return Double(matching.filter(metric).count) / Double(matching.count)
      }
    }
  }
}
