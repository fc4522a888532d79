/// Why a file could not be turned into chunks.
///
/// A struct wrapping a private code (the `HTTPClientError` pattern, STYLE.md §2.4) so cases can be
/// added without breaking callers; callers switch on ``kind``. Every error names the file it is
/// about, and its ``description`` is one line fit for a log or the CLI's stderr.
public struct IngestError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The broad class of an error, for callers that record a status per document.
  public enum Kind: Sendable, Hashable {
    /// The file looks binary; it is skipped on purpose, not a failure.
    case binary
    /// The file (or what stands at its path) could not be opened or read.
    case unreadable
    /// The file existed when walked but was gone when read.
    case vanished
    /// The file is larger than the loader accepts (HTML is read whole).
    case tooLarge
    /// An external tool the loader needs (pdftotext) is not installed.
    case toolMissing
    /// The external tool ran and failed on this file.
    case toolFailed
    /// The chunker was configured with values that cannot work.
    case invalidConfiguration
  }

  private enum Code: Sendable, Hashable {
    case binary(detail: String)
    case cannotRead(cause: String)
    case vanished
    case tooLarge(size: Int, limit: Int)
    case pdftotextMissing(looked: String)
    case pdftotextFailed(firstLine: String)
    case invalidConfiguration(message: String)
  }

  /// The display path of the file (as in ``DiscoveredFile/path``); empty for configuration errors.
  public let path: String
  private let code: Code

  private init(path: String, code: Code) {
    self.path = path
    self.code = code
  }

  /// The broad class of this error.
  public var kind: Kind {
    switch code {
    case .binary: .binary
    case .cannotRead: .unreadable
    case .vanished: .vanished
    case .tooLarge: .tooLarge
    case .pdftotextMissing: .toolMissing
    case .pdftotextFailed: .toolFailed
    case .invalidConfiguration: .invalidConfiguration
    }
  }

  /// True when the file was skipped on purpose (binary content) rather than failing.
  public var isSkip: Bool { kind == .binary }

  public var description: String {
    switch code {
    case .binary(let detail): "\(path): binary file (\(detail)), skipped"
    case .cannotRead(let cause): "\(path): cannot read: \(cause)"
    case .vanished: "\(path): file vanished during ingest"
    case .tooLarge(let size, let limit):
      "\(path): file too large for this loader (\(size) bytes, limit \(limit) bytes)"
    case .pdftotextMissing(let looked):
      "pdftotext not found\(looked.isEmpty ? "" : " at \(looked)"): install poppler-utils (apt-get install poppler-utils) to index PDFs (\(path))"
    case .pdftotextFailed(let firstLine): "\(path): pdftotext failed: \(firstLine)"
    case .invalidConfiguration(let message): "invalid chunker configuration: \(message)"
    }
  }

  static func binary(_ path: String, detail: String) -> Self { .init(path: path, code: .binary(detail: detail)) }
  static func cannotRead(_ path: String, cause: String) -> Self { .init(path: path, code: .cannotRead(cause: cause)) }
  static func vanished(_ path: String) -> Self { .init(path: path, code: .vanished) }
  static func tooLarge(_ path: String, size: Int, limit: Int) -> Self {
    .init(path: path, code: .tooLarge(size: size, limit: limit))
  }
  static func pdftotextMissing(_ path: String, looked: String) -> Self {
    .init(path: path, code: .pdftotextMissing(looked: looked))
  }
  static func pdftotextFailed(_ path: String, firstLine: String) -> Self {
    .init(path: path, code: .pdftotextFailed(firstLine: firstLine))
  }
  static func invalidConfiguration(_ message: String) -> Self {
    .init(path: "", code: .invalidConfiguration(message: message))
  }
}

/// Something odd about a file that did not stop it from being indexed (lossy decoding, a
/// pdftotext warning). Collected on the stream so the pipeline can log or store it.
public struct IngestWarning: Sendable, Hashable, CustomStringConvertible {
  /// The display path of the file.
  public let path: String
  /// What happened, without the path.
  public let message: String

  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }

  public var description: String { "\(path): \(message)" }

  static func invalidUTF8(_ path: String, firstOffset: Int) -> Self {
    .init(
      path: path,
      message: "invalid UTF-8 (first bad byte at offset \(firstOffset)); decoded with U+FFFD replacements")
  }
}
