/// Row-major matrix of embeddings: `count` rows of `dimension` floats in one buffer, so BLAS
/// takes its base address directly and SQLite stores each row as one BLOB.
public struct EmbeddingMatrix: Sendable, Equatable {
  public let dimension: Int
  public private(set) var values: [Float]

  public init(dimension: Int, values: [Float] = []) {
    precondition(dimension > 0 && values.count % dimension == 0, "values must fill whole rows of \(dimension)")
    self.dimension = dimension
    self.values = values
  }

  /// Number of rows.
  public var count: Int { values.count / dimension }

  /// Row `i` as a slice of `values`.
  public subscript(row i: Int) -> ArraySlice<Float> {
    values[(i * dimension)..<((i + 1) * dimension)]
  }

  /// Appends one row; its length must equal `dimension`.
  public mutating func append<C: Collection>(row: C) where C.Element == Float {
    precondition(row.count == dimension, "row of \(row.count) floats appended to a matrix of dimension \(dimension)")
    values.append(contentsOf: row)
  }
}

/// Turns text into unit-length vectors. Implemented in-process by the BERT encoder.
public protocol TextEmbedder: Sendable {
  /// A stable identifier for the weights and pooling; stored in the index so vectors never mix.
  var identifier: String { get }
  /// Length of every vector this embedder returns.
  var dimension: Int { get }
  /// Embeds passages (documents, chunks) in one batch; one row per text, L2-normalised.
  func embed(passages: [String]) throws -> EmbeddingMatrix
  /// Embeds a query; queries are short and never split into windows.
  func embed(query: String) throws -> [Float]
}

/// A search hit: an item id and its score (higher is better).
public struct Neighbor: Sendable, Hashable {
  public var id: Int64
  public var score: Float
  public init(id: Int64, score: Float) {
    self.id = id
    self.score = score
  }
}
