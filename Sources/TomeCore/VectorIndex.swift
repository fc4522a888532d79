/// Nearest-neighbour search over unit vectors by inner product (cosine similarity).
///
/// The seam between retrieval and the index behind it: exact search (`FlatIndex`) for small
/// collections and as ground truth, proximity graphs (HNSW, RoarGraph) above a size
/// threshold. SQLite stays the source of truth; an index is a derived, rebuildable view of the
/// stored vectors, so the protocol has no persistence in it.
public protocol VectorIndex: Sendable {
  /// Length of every vector.
  var dimension: Int { get }
  /// Number of searchable vectors (deleted ones excluded).
  var count: Int { get }
  /// The `k` vectors with the highest inner product with `query` that `filter` allows, best
  /// first; equal scores are ordered by id. Approximate indexes may miss some true neighbours.
  ///
  /// - Parameters:
  ///   - query: `dimension` floats, normally unit length.
  ///   - k: how many neighbours to return (fewer when fewer are allowed).
  ///   - filter: restricts the result to allowed ids; nil allows every id.
  func search(query: [Float], k: Int, filter: VectorFilter?) -> [Neighbor]
}

extension VectorIndex {
  /// Unfiltered search.
  public func search(query: [Float], k: Int) -> [Neighbor] { search(query: query, k: k, filter: nil) }

  /// Whether the index holds no searchable vectors.
  public var isEmpty: Bool { count == 0 }
}

/// Which ids a search may return: a predicate, plus the allowed ids themselves when the caller
/// knows them (a document's chunks, a path prefix's chunks).
///
/// A graph index walks the graph and only admits allowed ids into the result; when the allowed
/// set is known and small, walking would visit most of the graph to find a few scattered items,
/// so the index scores those ids exactly instead. That choice is the index's, which is why the
/// filter carries the set rather than the caller choosing a strategy.
public struct VectorFilter: Sendable {
  /// Whether `id` may be returned.
  public let allows: @Sendable (Int64) -> Bool
  /// Every allowed id, when known; nil for an open-ended predicate.
  public let allowedIDs: [Int64]?

  /// A filter by predicate (the allowed ids are not enumerable).
  public init(_ allows: @escaping @Sendable (Int64) -> Bool) {
    self.allows = allows
    self.allowedIDs = nil
  }

  /// A filter that allows exactly `ids`.
  public init(allowing ids: some Sequence<Int64>) {
    let set = Set(ids)
    self.allows = { set.contains($0) }
    self.allowedIDs = set.sorted()
  }
}

/// Which vector index answers dense search.
public enum VectorIndexKind: String, Sendable, CaseIterable, Codable {
  /// Exact search over every vector (`FlatIndex`): always right, O(n) per query.
  case exact
  /// Hierarchical navigable small world graph (Malkov & Yashunin 2016).
  case hnsw
  /// RoarGraph (Chen et al., VLDB 2024): a graph shaped by training queries, for queries that
  /// do not look like the passages (questions against passages).
  case roar
}
