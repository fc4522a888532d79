import Foundation
public import TomeCore

/// Turns discovered files into chunks with exact source spans.
///
/// Plain text, Markdown, reStructuredText and code are streamed: the file is read in blocks
/// and never held whole, so memory stays bounded whatever the file size. HTML is read whole
/// (up to ``Configuration/htmlByteLimit``) because tags and entities need look-ahead. PDFs go
/// through poppler's `pdftotext -layout`.
///
/// For streamed kinds every chunk's text equals the file's bytes in `span.byteRange`, decoded as
/// UTF-8 (invalid bytes as U+FFFD), with the `\r` of `\r\n` removed and a lone `\r` read as a
/// space. For HTML, spans give the source lines and bytes of the first and last text included.
/// For PDFs, `span.page` is the 1-based page and lines and bytes count within that page's
/// extracted text (pages are split at the form feeds pdftotext writes).
public struct Chunker: Sendable {
  /// Where to find pdftotext.
  public enum ExecutableLocation: Sendable, Hashable {
    /// Look the name up on `PATH`.
    case searchPath
    /// Use exactly this file (tests point it at a missing path).
    case path(String)
  }

  /// Budget and tools. The numbers are validated at construction and read-only after it, so a
  /// configuration that exists is one that works.
  public struct Configuration: Sendable, Hashable {
    /// Upper bound on a chunk's tokens (as measured by the chunker's ``TokenCounter``).
    public private(set) var maxTokens: Int
    /// How many tokens of trailing whole lines or sentences of a full chunk start the next one.
    public private(set) var overlapTokens: Int
    /// HTML files larger than this are refused with ``IngestError/Kind/tooLarge``.
    public private(set) var htmlByteLimit: Int
    /// Where pdftotext lives.
    public var pdftotext: ExecutableLocation
    /// How long pdftotext may run on one file before it is stopped and the file fails.
    public var pdftotextTimeout: Duration = .seconds(300)
    /// Read block size for streamed files.
    package var blockSize: Int = 1 << 20
    /// Longest line fragment handed to the segmenter in one piece.
    package var lineCap: Int = 1 << 20

    /// - Throws: ``IngestError`` (`invalidConfiguration`) unless `maxTokens >= 8` and
    ///   `0 <= overlapTokens < maxTokens / 2`.
    public init(
      maxTokens: Int = 256, overlapTokens: Int = 32, htmlByteLimit: Int = 64 << 20,
      pdftotext: ExecutableLocation = .searchPath
    ) throws(IngestError) {
      guard maxTokens >= 8 else { throw .invalidConfiguration("maxTokens must be at least 8 (got \(maxTokens))") }
      guard overlapTokens >= 0, overlapTokens * 2 < maxTokens else {
        throw .invalidConfiguration(
          "overlapTokens must be between 0 and less than half of maxTokens (got \(overlapTokens) with maxTokens \(maxTokens))")
      }
      guard htmlByteLimit > 0 else { throw .invalidConfiguration("htmlByteLimit must be positive") }
      self.maxTokens = maxTokens
      self.overlapTokens = overlapTokens
      self.htmlByteLimit = htmlByteLimit
      self.pdftotext = pdftotext
    }

    /// The defaults (256 tokens, 32 overlap), which are valid by construction.
    public static var `default`: Configuration {
      Configuration(unchecked: 256, overlap: 32)
    }

    private init(unchecked maxTokens: Int, overlap: Int) {
      self.maxTokens = maxTokens
      self.overlapTokens = overlap
      self.htmlByteLimit = 64 << 20
      self.pdftotext = .searchPath
    }
  }

  public let configuration: Configuration
  public let counter: any TokenCounter

  public init(configuration: Configuration = .default, counter: any TokenCounter = HeuristicTokenCounter()) {
    self.configuration = configuration
    self.counter = counter
  }

  /// Sniffs the file's first bytes and picks its kind (`%PDF-` wins over the extension).
  ///
  /// - Throws: ``IngestError`` when the file is gone, unreadable, or binary (a skip).
  public func detectKind(of file: DiscoveredFile) throws(IngestError) -> DocumentKind {
    let prefix = try readPrefix(of: file)
    let kind = ContentSniffer.kind(forPath: file.path, prefix: prefix)
    if kind != .pdf, let reason = ContentSniffer.binaryReason(prefix: prefix) {
      throw .binary(file.path, detail: reason)
    }
    return kind
  }

  /// Opens `file` and returns a stream of its chunks, detecting the kind first.
  public func chunks(of file: DiscoveredFile) throws(IngestError) -> ChunkStream {
    try chunks(of: file, kind: detectKind(of: file))
  }

  /// Opens `file` as `kind` and returns a stream of its chunks.
  ///
  /// The file is opened (and, except for PDFs, its first 8 KiB checked for binary content)
  /// before this returns, so a file deleted since the walk fails here with `vanished`.
  /// - Throws: ``IngestError``: vanished, unreadable, binary (a skip), too large (HTML),
  ///   pdftotext missing or failing (PDF).
  public func chunks(of file: DiscoveredFile, kind: DocumentKind) throws(IngestError) -> ChunkStream {
    let packer = Packer(
      path: file.path, maxTokens: configuration.maxTokens, overlapTokens: configuration.overlapTokens,
      counter: counter)
    switch kind {
    case .text, .markdown, .restructuredText, .code:
      let source = try FileByteSource(path: file.path, filesystemPath: file.url.path)
      let reader = LineReader(source: source, blockSize: configuration.blockSize, lineCap: configuration.lineCap)
      // Plain text with form feeds is paged like a PDF (pdftotext output saved as .txt), so
      // citations name the page; the scan is one extra read of the file, only for text.
      let paged = kind == .text ? try Self.containsFormFeed(file, blockSize: configuration.blockSize) : false
      let segmenter = Segmenter(
        source: reader, kind: kind, pagedByFormFeeds: paged, maxBlockBytes: max(configuration.lineCap / 4, 1024))
      let stream = ChunkStream(kind: kind, path: file.path, source: segmenter, packer: packer, reader: reader)
      try stream.checkNotBinary()
      return stream
    case .html:
      let loaded = try WholeFile.read(file, limit: configuration.htmlByteLimit)
      if let reason = ContentSniffer.binaryReason(prefix: loaded.bytes.prefix(ContentSniffer.sniffLength)) {
        throw .binary(file.path, detail: reason)
      }
      let extracted = HTMLExtractor.extract(loaded.bytes)
      var warnings: [IngestWarning] = []
      if let offset = extracted.firstInvalidOffset {
        warnings.append(.invalidUTF8(file.path, firstOffset: offset))
      }
      return ChunkStream(
        kind: kind, path: file.path, source: ArrayBlockSource(extracted.blocks), packer: packer,
        digest: .init(sha256: loaded.sha256, byteCount: loaded.bytes.count), warnings: warnings)
    case .pdf:
      let digest = try WholeFile.hash(file)
      let pages = try PDFTextExtractor(location: configuration.pdftotext, timeout: configuration.pdftotextTimeout).extract(file)
      var warnings = pages.warnings
      let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
      if pages.pages.allSatisfy({ $0.allSatisfy(isSpace) }) {
        // Zero chunks would look like an empty file; say why (scanned pages need OCR).
        warnings.append(
          IngestWarning(
            path: file.path, message: "no extractable text on \(pages.pages.count) page(s) (scanned images need OCR)"))
      }
      return ChunkStream(
        kind: kind, path: file.path, source: PagedBlockSource(pages: pages.pages), packer: packer, digest: digest,
        warnings: warnings)
    }
  }

  /// True when the file holds a form feed (U+000C) anywhere.
  static func containsFormFeed(_ file: DiscoveredFile, blockSize: Int) throws(IngestError) -> Bool {
    let source = try FileByteSource(path: file.path, filesystemPath: file.url.path)
    var buffer = [UInt8](repeating: 0, count: max(blockSize, 4096))
    while true {
      let outcome: Result<(Int, Bool), IngestError> = buffer.withUnsafeMutableBytes { raw in
        do throws(IngestError) {
          let n = try source.read(into: raw)
          guard n > 0, let base = raw.baseAddress else { return .success((n, false)) }
          return .success((n, memchr(base, 0x0C, n) != nil))
        } catch { return .failure(error) }
      }
      let (n, found) = try outcome.get()
      if found { return true }
      if n == 0 { return false }
    }
  }

  private func readPrefix(of file: DiscoveredFile) throws(IngestError) -> [UInt8] {
    let source = try FileByteSource(path: file.path, filesystemPath: file.url.path)
    var prefix = [UInt8](repeating: 0, count: ContentSniffer.sniffLength)
    var filled = 0
    while filled < prefix.count {
      let outcome: Result<Int, IngestError> = prefix.withUnsafeMutableBytes { raw in
        do throws(IngestError) {
          return .success(try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...])))
        } catch { return .failure(error) }
      }
      let n = try outcome.get()
      if n == 0 { break }
      filled += n
    }
    return Array(prefix[0..<filled])
  }
}

/// The chunks of one file, produced on demand.
///
/// A single-pass iterator: call ``next()`` until it returns nil; then ``sha256`` and
/// ``byteCount`` describe exactly the bytes that were read. Copies share the underlying reader.
public struct ChunkStream {
  /// The kind the file was read as.
  public let kind: DocumentKind
  /// The display path of the file.
  public let path: String
  private let engine: Engine

  fileprivate init(
    kind: DocumentKind, path: String, source: any BlockSource, packer: Packer, reader: LineReader? = nil,
    digest: WholeFile.Digest? = nil, warnings: [IngestWarning] = []
  ) {
    self.kind = kind
    self.path = path
    engine = Engine(source: source, packer: packer, reader: reader, digest: digest, warnings: warnings)
  }

  /// The next chunk, or nil when the file is exhausted.
  public mutating func next() throws(IngestError) -> Chunk? {
    try engine.next()
  }

  /// Non-fatal findings so far (complete once the stream is exhausted).
  public var warnings: [IngestWarning] { engine.warnings }

  /// True once ``next()`` has returned nil.
  public var isExhausted: Bool { engine.exhausted }

  /// SHA-256 (hex) of the file's bytes. Only valid once the stream is exhausted.
  public var sha256: String {
    precondition(engine.exhausted, "ChunkStream.sha256 read before the stream was exhausted")
    return engine.digest?.sha256 ?? ""
  }

  /// Number of bytes in the file as read. Only valid once the stream is exhausted.
  public var byteCount: Int {
    precondition(engine.exhausted, "ChunkStream.byteCount read before the stream was exhausted")
    return engine.digest?.byteCount ?? 0
  }

  /// Most bytes held in buffers at once (reader window, pending blocks, unfinished chunk):
  /// the bounded-memory check for streamed files.
  package var bufferedBytesHighWater: Int { engine.highWater }

  fileprivate func checkNotBinary() throws(IngestError) {
    try engine.checkNotBinary(path: path)
  }

  private final class Engine {
    let source: any BlockSource
    var packer: Packer
    let reader: LineReader?
    var digest: WholeFile.Digest?
    var warnings: [IngestWarning]
    var exhausted = false
    var highWater = 0

    init(
      source: any BlockSource, packer: Packer, reader: LineReader?, digest: WholeFile.Digest?,
      warnings: [IngestWarning]
    ) {
      self.source = source
      self.packer = packer
      self.reader = reader
      self.digest = digest
      self.warnings = warnings
    }

    func checkNotBinary(path: String) throws(IngestError) {
      guard let reader else { return }
      let prefix = try reader.peekPrefix(ContentSniffer.sniffLength)
      if let reason = ContentSniffer.binaryReason(prefix: prefix) { throw .binary(path, detail: reason) }
    }

    func next() throws(IngestError) -> Chunk? {
      while true {
        if let chunk = packer.takeReady() { return chunk }
        if exhausted { return nil }
        if let block = try source.nextBlock() {
          packer.add(block)
        } else {
          packer.finish()
          finish()
        }
        highWater = max(highWater, source.bufferedBytes + packer.bufferedBytes)
      }
    }

    private func finish() {
      exhausted = true
      if let reader {
        digest = WholeFile.Digest(sha256: reader.hasher.finalize(), byteCount: reader.byteCount)
        if let offset = reader.firstInvalidOffset {
          warnings.append(.invalidUTF8(packer.path, firstOffset: offset))
        }
      }
    }
  }
}
