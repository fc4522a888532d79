public import TomeCore
import TomeLinalg

extension FlatIndex {
  /// The `k` best vectors among those whose id passes `isIncluded`, best first.
  ///
  /// Document-aware retrieval searches only the chunks of the documents a query names; the
  /// scan is the same exact `sgemv` as ``search(query:k:)``, the filter only changes which
  /// scores compete for the top `k`.
  /// - Complexity: O(n·d) for the `sgemv` plus O(n log k) for the selection, n = `count`.
  public func search(query: [Float], k: Int, isIncluded: (Int64) -> Bool) -> [Neighbor] {
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
    for i in 0..<n where scores[i] >= top.threshold && isIncluded(ids[i]) {
      top.insert(Neighbor(id: ids[i], score: scores[i]))
    }
    return top.sorted()
  }
}
