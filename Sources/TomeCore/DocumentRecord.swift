// The read side of an index as plain values: what `tome status` and a library user see of
// each document. They live here, not in TomeStore, so that TomeKit's callers (the CLI among
// them) can use them without importing the store.

/// Where a document stands in the index; `tome status` prints it.
public enum DocumentStatus: String, Sendable, Codable, CaseIterable {
  /// Chunked and searchable.
  case indexed
  /// Readable but holds no text (empty or whitespace only).
  case empty
  /// Deliberately not indexed (binary, unsupported); `reason` says why.
  case skipped
  /// Indexing was attempted and failed; `reason` says why. Re-tried on the next ingest.
  case failed
}

/// One file as the index knows it: identity for incremental sync and the outcome of its last ingest.
public struct DocumentRecord: Sendable, Hashable, Codable {
  public var id: DocumentID?
  /// Absolute path of the file.
  public var path: String
  public var kind: DocumentKind?
  /// Hex sha256 of the bytes that were indexed; empty when the file could not be read.
  public var sha256: String
  public var size: Int
  /// Modification time in nanoseconds since 1970, as seen when it was indexed.
  public var modificationTime: Int64
  public var status: DocumentStatus
  /// Why a document is skipped or failed, or the warnings of an indexed one (one line each).
  public var reason: String?
  public var chunkCount: Int
  public var tokenCount: Int

  public init(
    id: DocumentID? = nil, path: String, kind: DocumentKind?, sha256: String, size: Int,
    modificationTime: Int64, status: DocumentStatus, reason: String? = nil, chunkCount: Int = 0,
    tokenCount: Int = 0
  ) {
    self.id = id
    self.path = path
    self.kind = kind
    self.sha256 = sha256
    self.size = size
    self.modificationTime = modificationTime
    self.status = status
    self.reason = reason
    self.chunkCount = chunkCount
    self.tokenCount = tokenCount
  }
}

/// Totals over the whole index.
public struct IndexTotals: Sendable, Hashable, Codable {
  public var documents: Int
  public var chunks: Int
  public var tokens: Int
  public var bytes: Int
  /// Document counts per status.
  public var byStatus: [DocumentStatus: Int]

  public init(documents: Int, chunks: Int, tokens: Int, bytes: Int, byStatus: [DocumentStatus: Int]) {
    self.documents = documents
    self.chunks = chunks
    self.tokens = tokens
    self.bytes = bytes
    self.byStatus = byStatus
  }
}
