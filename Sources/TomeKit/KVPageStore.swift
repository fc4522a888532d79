public import Foundation
public import TomeCore
import TomeStore

/// The stored KV pages of an index: each chunk's keys and values for the in-process model,
/// computed once (`tome kv build`, `tome ingest --kv-pages`) so that a prompt showing the chunk
/// imports them instead of running the model over its text.
///
/// A chunk's page holds the tokens of `KVPage.text(ofChunk:)`, computed right after the chat
/// template's user-message head (so the page's first tokens see the attention sink a prompt
/// has, as they will in the prompt) and read on its own: a page never attends to another chunk
/// or to the question. Pages are appended to one file per model under `kvpages/`, flushed to
/// disk, and only then recorded in SQLite (`kv_pages`), in one transaction per batch: a killed
/// build leaves unreferenced bytes at the file's end, never a row pointing at a torn page.
/// Rows go with their chunk (cascade), and building for another model forgets the first
/// model's pages and deletes its file. Builds and drops hold the index's writer lock. Every page read is checked (layout, checksum, tokens
/// against the text it is used for) and skipped, not trusted, when it fails.
public struct KVPageStore: KVPageSource {
  public let collection: Collection

  public init(collection: Collection) {
    self.collection = collection
  }

  /// The folder of page files.
  public var directory: URL { collection.location.directory.appendingPathComponent("kvpages", isDirectory: true) }

  public func pages(for chunks: [ChunkID], model: String) throws -> [ChunkID: KVPage] {
    let locations = try collection.store.kvPageLocations(for: chunks, model: model)
    var pages: [ChunkID: KVPage] = [:]
    for (file, group) in Dictionary(grouping: locations.values, by: \.file) {
      guard let handle = FileHandle(forReadingAtPath: directory.appendingPathComponent(file).path) else { continue }
      defer { try? handle.close() }
      for location in group {
        try handle.seek(toOffset: UInt64(location.offset))
        guard let bytes = try handle.read(upToCount: Int(location.length)),
          case .success(let page) = KVPageRecord.decode(bytes, model: model)
        else { continue }
        pages[location.chunkID] = page
      }
    }
    return pages
  }

  /// What a build did.
  public struct BuildReport: Sendable, Hashable {
    public var built: Int
    /// Chunks too long for the model's window after the template head (they are read as text).
    public var skipped: Int
    public var tokens: Int
    public var bytes: Int64
    public var seconds: Double
  }

  /// Computes the missing pages of every chunk for `model` (see `buildPages`).
  /// - Throws: `KVPageStoreError.notInProcess` for a model that does not expose its cache
  ///   (an HTTP endpoint).
  public func build(
    model: any LanguageModel, format: KVPageFormat = .int8, batch: Int = 32, progress: (Int, Int) -> Void = { _, _ in }
  ) throws -> BuildReport {
    guard let paging = model as? any KVPaging else { throw KVPageStoreError.notInProcess(model: model.identifier) }
    return try buildPages(model: paging, format: format, batch: batch, progress: progress)
  }

  /// Computes the missing pages of every chunk for `model`, in `format`, calling `progress`
  /// with (chunks done, chunks to do) after each batch. Pages of other models are dropped
  /// first. Cancelling the task stops after the current batch, keeping what was recorded.
  private func buildPages<M: KVPaging>(
    model: M, format: KVPageFormat = .int8, batch: Int = 32, progress: (Int, Int) -> Void = { _, _ in }
  ) throws -> BuildReport {
    let started = ContinuousClock.now
    // One writer appends to a page file at a time (offsets are taken from its end).
    let lock = try IndexWriterLock(directory: collection.location.directory, purpose: "tome kv build")
    defer { withExtendedLifetime(lock) {} }
    let store = collection.store
    for file in try store.removeKVPages(keeping: model.identifier) {
      try? FileManager.default.removeItem(at: directory.appendingPathComponent(file))
    }
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let fileName = try store.kvPageTotals().first { $0.model == model.identifier }?.file ?? Self.newFileName(for: model.identifier)
    let url = directory.appendingPathComponent(fileName)
    if !FileManager.default.fileExists(atPath: url.path) {
      guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
      }
    }
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }

    let head = try model.userMessageFrame().prefix
    let sequence = model.makeSequence()
    try sequence.append(tokens: head)
    let total = try store.kvPagePendingCount(model: model.identifier)
    var report = BuildReport(built: 0, skipped: 0, tokens: 0, bytes: 0, seconds: 0)
    var last: ChunkID?
    while !Task.isCancelled {
      let chunks = try store.chunksWithoutKVPages(model: model.identifier, after: last, limit: batch)
      guard let final = chunks.last else { break }
      last = final.id
      var bytes: [UInt8] = []
      var pending: [(ChunkID, Int, Int)] = []  // chunk, offset in `bytes`, tokens
      for chunk in chunks {
        let tokens = model.tokenize(KVPage.text(ofChunk: chunk.chunk.text))
        guard !tokens.isEmpty, head.count + tokens.count <= model.contextLength else {
          report.skipped += 1
          continue
        }
        sequence.truncate(to: head.count)
        try sequence.append(tokens: tokens)
        let record = KVPageRecord.encode(sequence.exportPage(positions: head.count..<(head.count + tokens.count), format: format))
        pending.append((chunk.id, bytes.count, tokens.count))
        bytes += record
      }
      let end = Int64(try handle.seekToEnd())
      try handle.write(contentsOf: bytes)
      try handle.synchronize()
      let locations = pending.enumerated().map { i, p in
        let next = i + 1 < pending.count ? pending[i + 1].1 : bytes.count
        return KVPageLocation(
          chunkID: p.0, model: model.identifier, file: fileName, offset: end + Int64(p.1), length: Int64(next - p.1), tokenCount: p.2)
      }
      try store.insertKVPages(locations)
      report.built += locations.count
      report.tokens += pending.reduce(0) { $0 + $1.2 }
      report.bytes += Int64(bytes.count)
      progress(report.built + report.skipped, total)
    }
    report.seconds = (ContinuousClock.now - started).seconds
    return report
  }

  /// The pages stored, per model, with the size of their files.
  public struct Status: Sendable, Hashable {
    public var model: String
    public var file: String
    public var pages: Int
    public var tokens: Int
    /// Bytes of the pages still referenced.
    public var bytes: Int64
    /// Bytes of the file (pages of deleted chunks and a killed build's tail included).
    public var fileBytes: Int64
  }

  public func status() throws -> [Status] {
    try collection.store.kvPageTotals().map { t in
      let size = (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(t.file).path)[.size] as? NSNumber)?.int64Value ?? 0
      return Status(model: t.model, file: t.file, pages: t.pages, tokens: t.tokens, bytes: t.bytes, fileBytes: size)
    }
  }

  /// Forgets every page and deletes the page files; returns the bytes freed.
  /// - Throws: `IndexLockedError` while another process writes the index.
  @discardableResult
  public func drop() throws -> Int64 {
    let lock = try IndexWriterLock(directory: collection.location.directory, purpose: "tome kv drop")
    defer { withExtendedLifetime(lock) {} }
    try collection.store.removeKVPages()
    var freed: Int64 = 0
    let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.fileSizeKey])) ?? []
    for file in files {
      freed += Int64((try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
      try FileManager.default.removeItem(at: file)
    }
    try? FileManager.default.removeItem(at: directory)
    return freed
  }

  /// A page file name for `model`: its name made safe, and a random suffix so that a file
  /// left by an earlier model of the same name is never appended to.
  static func newFileName(for model: String) -> String {
    let safe = String(model.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }.prefix(80))
    return "\(safe)-\(UInt32.random(in: 0...UInt32.max)).kvp"
  }
}

/// Why pages cannot be built.
public enum KVPageStoreError: Error, Sendable, Hashable, CustomStringConvertible {
  case notInProcess(model: String)

  public var description: String {
    switch self {
    case .notInProcess(let model):
      "\(model) does not expose its KV cache; KV pages need the in-process model (drop --endpoint)"
    }
  }
}
