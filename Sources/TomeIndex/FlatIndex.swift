public import TomeCore
import TomeLinalg

/// Exact nearest-neighbour search by inner product over unit vectors (cosine similarity).
///
/// Vectors live in one contiguous row-major `[Float]` (count × dimension) that BLAS reads
/// directly: one query is an `sgemv` over all rows, a batch of queries an `sgemm`, followed by a
/// partial top-k selection. Exact search is the right index up to roughly 10⁵ vectors on this
/// hardware, and the ground truth for approximate indexes.
public struct FlatIndex: VectorIndex {
  /// Length of every vector.
  public let dimension: Int
  /// Item ids, one per row, in insertion order.
  public private(set) var ids: [Int64] = []
  /// Row-major unit vectors, `count × dimension`.
  public private(set) var vectors: [Float] = []

  /// Rows scored per `sgemm` tile in batched search (bounds the score buffer).
  private static let tileRows = 16_384
  /// Queries per `sgemm` tile in batched search.
  private static let tileQueries = 64

  /// An empty index.
  public init(dimension: Int) {
    precondition(dimension > 0, "dimension must be positive")
    self.dimension = dimension
  }

  /// Number of vectors.
  public var count: Int { ids.count }

  /// Whether the index holds no vectors.
  public var isEmpty: Bool { ids.isEmpty }

  /// The `k` vectors with the highest inner product with `query`, best first; equal scores are
  /// ordered by id.
  /// - Complexity: O(n·d) for the `sgemv` plus O(n log k) for the selection, n = `count`.
  public func search(query: [Float], k: Int) -> [Neighbor] { search(query: query, k: k, filter: nil) }

  /// Adds one vector, scaled to unit length (a zero vector stays zero).
  /// - Precondition: `vector.count == dimension`.
  /// - Complexity: O(dimension) amortised.
  public mutating func add(id: Int64, vector: some Collection<Float>) {
    precondition(vector.count == dimension, "vector of \(vector.count) added to an index of dimension \(dimension)")
    let start = vectors.count
    vectors.append(contentsOf: vector)
    ids.append(id)
    vectors.withUnsafeMutableBufferPointer { buffer in
      Reductions.normalizeRows(UnsafeMutableBufferPointer(rebasing: buffer[start...]), columns: dimension)
    }
  }

  /// Adds every row of `matrix` with the matching id.
  /// - Precondition: `ids.count == matrix.count` and equal dimensions.
  /// - Complexity: O(rows · dimension) amortised.
  public mutating func add(ids newIDs: [Int64], vectors matrix: EmbeddingMatrix) {
    precondition(matrix.dimension == dimension, "matrix of dimension \(matrix.dimension) added to an index of dimension \(dimension)")
    precondition(newIDs.count == matrix.count, "\(newIDs.count) ids for \(matrix.count) vectors")
    let start = vectors.count
    vectors.append(contentsOf: matrix.values)
    ids.append(contentsOf: newIDs)
    vectors.withUnsafeMutableBufferPointer { buffer in
      Reductions.normalizeRows(UnsafeMutableBufferPointer(rebasing: buffer[start...]), columns: dimension)
    }
  }

  /// The `k` allowed vectors with the highest inner product with `query`, best first; equal
  /// scores are ordered by id. Exact: every vector is scored, and the filter only decides which
  /// scores may enter the result.
  ///
  /// - Parameters:
  ///   - query: a vector of `dimension` floats (normally unit length).
  ///   - k: how many neighbours to return (fewer if the index is smaller).
  ///   - filter: the ids that may be returned; nil allows all.
  /// - Complexity: O(n·d) for the `sgemv` plus O(n log k) for the selection, n = `count`.
  public func search(query: [Float], k: Int, filter: VectorFilter?) -> [Neighbor] {
    precondition(query.count == dimension, "query of \(query.count) for an index of dimension \(dimension)")
    precondition(k >= 0, "k must not be negative")
    guard k > 0, !ids.isEmpty else { return [] }
    let n = ids.count
    var scores = [Float](repeating: 0, count: n)
    vectors.withUnsafeBufferPointer { a in
      query.withUnsafeBufferPointer { x in
        scores.withUnsafeMutableBufferPointer { y in
          guard let ap = a.baseAddress, let xp = x.baseAddress, let yp = y.baseAddress else { return }
          BLAS.sgemv(.none, m: n, n: dimension, a: ap, lda: dimension, x: xp, y: yp)
        }
      }
    }
    var top = TopK(k: k)
    if let filter {
      for i in 0..<n where scores[i] >= top.threshold && filter.allows(ids[i]) {
        top.insert(Neighbor(id: ids[i], score: scores[i]))
      }
    } else {
      for i in 0..<n where scores[i] >= top.threshold {
        top.insert(Neighbor(id: ids[i], score: scores[i]))
      }
    }
    return top.sorted()
  }

  /// Top-`k` neighbours for every row of `queries`, computed with `sgemm` tiles.
  ///
  /// - Parameters:
  ///   - queries: one query per row, of this index's dimension.
  ///   - k: neighbours per query.
  /// - Returns: one best-first list per query, in query order.
  /// - Complexity: O(q·n·d) in tiled `sgemm` plus O(q·n log k) for the selection.
  public func search(queries: EmbeddingMatrix, k: Int) -> [[Neighbor]] {
    precondition(queries.dimension == dimension, "queries of dimension \(queries.dimension) for an index of dimension \(dimension)")
    precondition(k >= 0, "k must not be negative")
    let q = queries.count
    guard k > 0, !ids.isEmpty else { return Array(repeating: [], count: q) }
    let n = ids.count
    var tops = (0..<q).map { _ in TopK(k: k) }
    let tileRows = min(Self.tileRows, n)
    let tileQueries = min(Self.tileQueries, q)
    var scores = [Float](repeating: 0, count: tileQueries * tileRows)
    vectors.withUnsafeBufferPointer { a in
      queries.values.withUnsafeBufferPointer { x in
        scores.withUnsafeMutableBufferPointer { s in
          guard let ap = a.baseAddress, let xp = x.baseAddress, let sp = s.baseAddress else { return }
          var q0 = 0
          while q0 < q {
            let qs = min(tileQueries, q - q0)
            var r0 = 0
            while r0 < n {
              let rs = min(tileRows, n - r0)
              // scores[qs × rs] = queries[q0..] · vectors[r0..]ᵀ
              BLAS.sgemm(
                .none, .transposed, m: qs, n: rs, k: dimension, a: xp + q0 * dimension, lda: dimension,
                b: ap + r0 * dimension, ldb: dimension, c: sp, ldc: rs)
              for i in 0..<qs {
                let row = sp + i * rs
                for j in 0..<rs where row[j] >= tops[q0 + i].threshold {
                  tops[q0 + i].insert(Neighbor(id: ids[r0 + j], score: row[j]))
                }
              }
              r0 += rs
            }
            q0 += qs
          }
        }
      }
    }
    return tops.map { $0.sorted() }
  }
}
