/// Row id of a document in an index.
public struct DocumentID: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
  public var rawValue: Int64
  public init(_ rawValue: Int64) { self.rawValue = rawValue }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
  public var description: String { "\(rawValue)" }
}

/// Row id of a chunk in an index; stable for as long as its document is unchanged.
public struct ChunkID: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
  public var rawValue: Int64
  public init(_ rawValue: Int64) { self.rawValue = rawValue }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
  public var description: String { "\(rawValue)" }
}

/// Row id of a conversation of `tome chat`.
public struct ChatID: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
  public var rawValue: Int64
  public init(_ rawValue: Int64) { self.rawValue = rawValue }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
  public var description: String { "\(rawValue)" }
}

/// Row id of a record: an answer kept in the index as a node of the record graph.
public struct RecordID: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
  public var rawValue: Int64
  public init(_ rawValue: Int64) { self.rawValue = rawValue }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
  public var description: String { "\(rawValue)" }
}
