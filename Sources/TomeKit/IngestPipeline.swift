public import Foundation
public import TomeCore
public import TomeIngest
import TomeStore

/// Brings an index in line with the files under some roots: new and changed files are chunked
/// and stored, unchanged ones skipped, vanished ones pruned.
///
/// Each file is committed in its own transaction, so an ingest killed half-way keeps every file
/// it finished and the next run picks up the rest: the result equals an uninterrupted run.
/// A file is skipped without reading when its size and modification time match the index;
/// when only the time changed its hash is checked before re-chunking.
public struct IngestPipeline: Sendable {
  public struct Configuration: Sendable {
    public var chunker: Chunker.Configuration
    public var rules: IgnoreRules
    /// Re-chunk every file even when unchanged.
    public var force: Bool

    public init(chunker: Chunker.Configuration = .default, rules: IgnoreRules = .init(), force: Bool = false) {
      self.chunker = chunker
      self.rules = rules
      self.force = force
    }
  }

  public let collection: Collection
  public let configuration: Configuration
  public let tokenCounter: any TokenCounter

  public init(collection: Collection, configuration: Configuration = .init(), tokenCounter: any TokenCounter = IngestPipeline.estimatingTokenCounter) {
    self.collection = collection
    self.configuration = configuration
    self.tokenCounter = tokenCounter
  }

  /// The interim token counter, for indexes built without the encoder (`--no-embed`).
  public static var estimatingTokenCounter: any TokenCounter { HeuristicTokenCounter() }

  /// The chunking settings as recorded in `meta`; a change means every file is re-chunked.
  /// `pages=ff headers=2`: text files are paged at form feeds and chunks carry headers (title,
  /// section, page title, page) that are embedded with them; `tables=labels`: a table is
  /// embedded by its labels (`Chunk.embeddedBody`); `columns`: a chunk that continues a table
  /// carries the table's column headings in its header (`TableColumns`), and tables are cut
  /// between rows. An index made before any of these is re-chunked by its next ingest; chunks
  /// whose text and header did not change keep their vectors (`Chunk.embeddingRules`).
  var chunkerSignature: String {
    "max=\(configuration.chunker.maxTokens) overlap=\(configuration.chunker.overlapTokens) pages=ff headers=2 tables=labels,columns"
  }

  /// Ingests `roots` (files or folders). With no roots, re-syncs the roots of earlier runs.
  ///
  /// - Parameters:
  ///   - roots: file URLs; a relative one resolves against its base URL (the CLI makes them
  ///     relative to its working directory, so errors name the path as it was typed).
  ///   - progress: called after each file (from the calling thread).
  /// - Returns: what happened to each file.
  /// - Throws: `IngestPipelineError` when a root does not exist; `StoreError` when the index
  ///   cannot be written. Problems with single files are reported in the result, not thrown.
  public func run(roots: [URL], progress: (IngestProgress) -> Void = { _ in }) throws -> IngestReport {
    let store = collection.store
    let lock = try IndexWriterLock(directory: collection.location.directory, purpose: "tome ingest")
    defer { withExtendedLifetime(lock) {} }
    var report = IngestReport()
    let absoluteRoots: [String]
    if roots.isEmpty {
      // Re-sync: a root that has vanished (deleted, unmounted) must not block the others.
      // Its documents are kept, and the report names it so the caller can say how to drop it.
      let stored = try store.roots()
      absoluteRoots = stored.filter { FileManager.default.fileExists(atPath: $0) }
      report.missingRoots = stored.filter { !FileManager.default.fileExists(atPath: $0) }
      if absoluteRoots.isEmpty, let first = report.missingRoots.first { throw IngestPipelineError.missingRoot(first) }
    } else {
      absoluteRoots = try resolve(roots)
    }
    if absoluteRoots.isEmpty { throw IngestPipelineError.nothingToIngest }
    let started = ContinuousClock.now

    let previousCounter = try store.meta(.tokenCounter)
    let previousChunker = try store.meta(.chunker)
    if let previousCounter, previousCounter != tokenCounter.identifier {
      report.rechunkReason = "the index was chunked with another token counter (\(previousCounter), now \(tokenCounter.identifier))"
    } else if let previousChunker, previousChunker != chunkerSignature {
      report.rechunkReason = "the index was chunked by other rules (\(previousChunker); now \(chunkerSignature))"
    }
    let rechunkAll = configuration.force || report.rechunkReason != nil
    // Vectors of unchanged chunks survive a re-chunk when they were made under today's rules
    // (not with --force, which asks for everything anew).
    let storedRules = try store.meta(.embeddingRules) ?? previousChunker.flatMap(Self.embeddingRules(ofChunker:))
    let keepVectors = !configuration.force && storedRules == Chunk.embeddingRules
    try store.addRoots(absoluteRoots)

    var walk = FileWalker(roots: absoluteRoots, rules: configuration.rules).walk()
    // The index's own folder may lie inside an ingested folder: never ingest its database.
    let indexFolder = collection.location.directory.standardizedFileURL.resolvingSymlinksInPath().path + "/"
    walk.files.removeAll { file in
      let resolved = URL(fileURLWithPath: file.path).resolvingSymlinksInPath().path
      return resolved.hasPrefix(indexFolder) || file.path.hasPrefix(indexFolder)
    }
    report.walkSkipped = walk.skipped.map { IngestReport.Entry(path: $0.path, message: "\($0.reason)") }

    let known = Dictionary(try store.documents().map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    let chunker = Chunker(configuration: configuration.chunker, counter: tokenCounter)
    var state = IngestProgress(filesTotal: walk.files.count, bytesTotal: walk.files.reduce(0) { $0 + $1.size }, started: started)

    for file in walk.files {
      state.currentPath = file.path
      let outcome = try ingest(
        file, prior: rechunkAll ? nil : known[file.path], chunker: chunker, store: store, keepVectors: keepVectors)
      report.record(outcome, path: file.path)
      state.filesDone += 1
      state.bytesDone += file.size
      state.chunksWritten += outcome.chunks
      progress(state)
    }

    // Prune documents under these roots that the walk no longer found.
    let seen = Set(walk.files.map(\.path))
    let vanished = known.keys.filter { path in
      !seen.contains(path) && absoluteRoots.contains { Self.path(path, isUnder: $0) }
    }.sorted()
    try store.removeDocuments(paths: vanished)
    report.pruned = vanished
    // Recorded once every file of every root is done: a run stopped half-way, or one given
    // some of the roots, leaves the rest to the next run (which re-chunks cheaply, as unchanged
    // chunks keep their vectors) instead of leaving files under the older rules for good.
    // (A root that no longer exists cannot be re-chunked; it does not hold the record back.)
    let storedRoots = try store.roots().filter { !report.missingRoots.contains($0) }
    let everyRoot = storedRoots.allSatisfy { stored in absoluteRoots.contains { Self.path(stored, isUnder: $0) } }
    if everyRoot {
      try store.setMeta(.tokenCounter, tokenCounter.identifier)
      try store.setMeta(.chunker, chunkerSignature)
      try store.setMeta(.embeddingRules, Chunk.embeddingRules)
    } else if let reason = report.rechunkReason {
      report.rechunkReason = reason + "; the other roots follow when `tome ingest` runs without a path"
    }
    let termsRecorded = try store.meta(.commonTerms) != nil && store.meta(.commonHeaderTerms) != nil
    if report.unchanged < walk.files.count || !vanished.isEmpty || !termsRecorded {
      try Self.recordCommonTerms(store)
    }
    report.elapsed = ContinuousClock.now - started
    report.bytes = state.bytesDone
    return report
  }

  /// Forgets the ingest root `root` and removes the documents under it, so a root that was
  /// deleted or moved stops being re-synced (issue 11).
  ///
  /// - Parameter root: a file URL; a relative one resolves against its base URL, and errors
  ///   name it as given.
  /// - Returns: the paths of the documents removed.
  /// - Throws: `IngestPipelineError.notARoot` (listing the roots) when `root` is not one.
  public func dropRoot(_ root: URL) throws -> [String] {
    let store = collection.store
    let lock = try IndexWriterLock(directory: collection.location.directory, purpose: "tome ingest --drop-root")
    defer { withExtendedLifetime(lock) {} }
    let absolute = root.standardizedFileURL.path
    let roots = try store.roots()
    guard let match = roots.first(where: { $0 == absolute || $0 == root.relativePath }) else {
      throw IngestPipelineError.notARoot(root.relativePath, roots: roots)
    }
    let prefix = match.hasSuffix("/") ? match : match + "/"
    // Documents that another remaining root also covers stay.
    let others = roots.filter { $0 != match }.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
    let doomed = try store.documents().map(\.path).filter { p in
      (p == match || p.hasPrefix(prefix)) && !others.contains { p.hasPrefix($0) || p + "/" == $0 }
    }
    try store.removeDocuments(paths: doomed)
    try store.removeRoot(match)
    try Self.recordCommonTerms(store)
    return doomed
  }

  private func resolve(_ roots: [URL]) throws -> [String] {
    try roots.map { root in
      let path = root.standardizedFileURL.path
      guard FileManager.default.fileExists(atPath: path) else { throw IngestPipelineError.missingRoot(root.relativePath) }
      return path
    }
  }

  /// True when `path` is `root` or lies under it.
  static func path(_ path: String, isUnder root: String) -> Bool {
    path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
  }

  /// Records the words that searches leave out (`IndexStore.commonTerms`) for the chunks as
  /// they now are.
  static func recordCommonTerms(_ store: IndexStore) throws {
    try store.setMeta(.commonTerms, try store.commonTerms(in: .chunk).joined(separator: " "))
    try store.setMeta(.commonHeaderTerms, try store.commonTerms(in: .header).joined(separator: " "))
  }

  /// The embedding rules of an index that predates their record: those of chunker signatures
  /// with `tables=labels` are today's first rules; older ones are unknown (nil: re-embed).
  static func embeddingRules(ofChunker signature: String) -> String? {
    signature.split(separator: " ").contains { $0.hasPrefix("tables=labels") } ? "header+blank+body tables=labels" : nil
  }

  private func ingest(
    _ file: DiscoveredFile, prior: DocumentRecord?, chunker: Chunker, store: IndexStore, keepVectors: Bool
  ) throws -> FileOutcome {
    if let prior, prior.status != .failed, prior.size == file.size {
      if prior.modificationTime == file.modificationTime { return .unchanged }
      // Same size, new time: hash before deciding (a `touch` must not cost a re-chunk).
      if let hash = try? SHA256.hex(of: file), hash == prior.sha256 {
        try store.touchDocument(path: file.path, size: file.size, modificationTime: file.modificationTime)
        return .unchanged
      }
    }
    var kind: DocumentKind?
    do {
      let detected = try chunker.detectKind(of: file)
      kind = detected
      var stream = try chunker.chunks(of: file, kind: detected)
      var kept = 0
      let record = try store.replaceDocument(path: file.path, keepingVectors: keepVectors) { writer in
        while let chunk = try stream.next() { try writer.insert(chunk) }
        kept = writer.keptVectorCount
        return DocumentRecord(
          path: file.path, kind: detected, sha256: stream.sha256, size: stream.byteCount, modificationTime: file.modificationTime,
          status: writer.chunkCount == 0 ? .empty : .indexed,
          reason: stream.warnings.isEmpty ? nil : stream.warnings.map(\.message).joined(separator: "; "),
          chunkCount: writer.chunkCount, tokenCount: writer.tokenCount)
      }
      return .indexed(
        chunks: record.chunkCount, keptVectors: kept, warnings: stream.warnings.map(\.message), empty: record.status == .empty)
    } catch let error as IngestError {
      let status: DocumentStatus = error.isSkip ? .skipped : .failed
      try store.recordDocument(
        DocumentRecord(
          path: file.path, kind: kind, sha256: "", size: file.size, modificationTime: file.modificationTime, status: status,
          reason: Self.cause(of: error)))
      return error.isSkip ? .skipped(Self.cause(of: error)) : .failed(Self.cause(of: error))
    }
  }
}

extension IngestPipeline {
  /// The error's one-line message without the leading path (reports print the path themselves).
  static func cause(of error: IngestError) -> String {
    let text = error.description
    let prefix = error.path + ": "
    return !error.path.isEmpty && text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text
  }
}

/// Why an ingest could not start.
public enum IngestPipelineError: Error, CustomStringConvertible, Sendable {
  /// A root that does not exist, as the caller gave it.
  case missingRoot(String)
  case nothingToIngest
  case notARoot(String, roots: [String])

  public var description: String {
    switch self {
    case .missingRoot(let path):
      return "\(path): no such file or directory (to forget an ingested root that is gone: tome ingest --drop-root \(path))"
    case .nothingToIngest: return "nothing to ingest: give one or more paths (tome ingest PATH...)"
    case .notARoot(let path, let roots):
      return "\(path) is not an ingested root (roots: \(roots.isEmpty ? "none" : roots.joined(separator: ", ")))"
    }
  }
}

/// Live counters for progress display.
public struct IngestProgress: Sendable {
  public var filesDone = 0
  public var filesTotal: Int
  public var bytesDone = 0
  public var bytesTotal: Int
  public var chunksWritten = 0
  public var currentPath = ""
  public var started: ContinuousClock.Instant

  /// Bytes per second so far.
  public var bytesPerSecond: Double {
    let seconds = (ContinuousClock.now - started).seconds
    return seconds > 0 ? Double(bytesDone) / seconds : 0
  }

  /// Estimated time left, from the byte rate so far.
  public var remaining: Duration? {
    let rate = bytesPerSecond
    guard rate > 0, bytesDone > 0 else { return nil }
    return .seconds(Double(bytesTotal - bytesDone) / rate)
  }
}

enum FileOutcome {
  case unchanged
  case indexed(chunks: Int, keptVectors: Int, warnings: [String], empty: Bool)
  case skipped(String)
  case failed(String)

  var chunks: Int {
    if case .indexed(let chunks, _, _, _) = self { return chunks }
    return 0
  }
}

/// What an ingest did, file by file.
public struct IngestReport: Sendable {
  /// A path and a one-line message.
  public struct Entry: Sendable, Hashable, Codable {
    public var path: String
    public var message: String
  }

  public var indexed: [String] = []
  public var empty: [String] = []
  public var unchanged = 0
  public var skipped: [Entry] = []
  public var failed: [Entry] = []
  public var warnings: [Entry] = []
  /// Paths the walk could not follow (symlink loops, unreadable folders).
  public var walkSkipped: [Entry] = []
  public var pruned: [String] = []
  /// Roots of earlier runs that no longer exist; re-syncing skipped them and kept their
  /// documents (`tome ingest --drop-root PATH` forgets one).
  public var missingRoots: [String] = []
  /// Why every file was re-chunked though its content did not change (chunks that came out
  /// the same keep their vectors: `vectorsKept`):
  /// the index was built with another token counter or by other chunking rules; nil otherwise
  /// (and for `force`, which the caller asked for).
  public var rechunkReason: String?
  /// Re-chunked chunks that kept their vector, their text and header being unchanged (not
  /// embedded again).
  public var vectorsKept = 0
  public var chunks = 0
  public var bytes = 0
  public var elapsed: Duration = .zero

  mutating func record(_ outcome: FileOutcome, path: String) {
    switch outcome {
    case .unchanged: unchanged += 1
    case .indexed(let n, let kept, let w, let isEmpty):
      if isEmpty { empty.append(path) } else { indexed.append(path) }
      chunks += n
      vectorsKept += kept
      warnings += w.map { Entry(path: path, message: $0) }
    case .skipped(let message): skipped.append(Entry(path: path, message: message))
    case .failed(let message): failed.append(Entry(path: path, message: message))
    }
  }
}

extension Duration {
  /// The duration in seconds as a `Double`.
  public var seconds: Double {
    let (s, atto) = components
    return Double(s) + Double(atto) / 1e18
  }
}
