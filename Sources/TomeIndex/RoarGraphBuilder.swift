public import TomeCore

/// Builds a RoarGraph: a proximity graph shaped by training queries, for queries whose
/// distribution differs from the data's (questions searched against passages).
///
/// Chen et al., "RoarGraph: A Projected Bipartite Graph for Efficient Cross-Modal Approximate
/// Nearest Neighbor Search", VLDB 2024 (METHODS-INDEX-KV.md §2.2). A question's nearest passages
/// can lie far apart from each other, so a graph of passage-to-passage proximity (HNSW) routes
/// badly between them. RoarGraph links passages that are near neighbours of the *same query*:
///
/// 1. **Bipartite kNN**: each training query's exact top-N_q passages.
/// 2. **Projection**: for each query, its nearest passage p* is linked to the query's other
///    neighbours, pruned by the occlusion rule and topped up to M; each kept node links back
///    to p*. Then a reverse-edge pass, re-pruning lists longer than M.
/// 3. **Connectivity enhancement**: passages no query reached have no links yet, so every node
///    is searched for (as a query) from the medoid; its results, pruned to M, are linked both
///    ways, up to 2M such links per node. The reference code searches the projected graph and
///    merges all supply links at the end; here they are linked as they are found, so later
///    searches see them: with few training queries the projected graph alone is too sparse
///    to find anything from the medoid (with none, it has no links at all).
/// 4. **Search** starts at the medoid with a beam, as on HNSW's layer 0.
///
/// The result is a one-layer `GraphIndex` of kind `.roar` with layer-0 capacity 3M.
public enum RoarGraphBuilder {
  /// RoarGraph's own parameters (the graph's M and efSearch come from `GraphIndex.Parameters`).
  public struct Configuration: Sendable, Equatable {
    /// Base neighbours per training query in the bipartite graph (N_q; the paper's 100).
    public var queryNeighbors: Int
    /// Beam of the connectivity-enhancement searches (L; the paper's 500 is sized for 10⁷
    /// vectors, and this pass costs about what an HNSW build with this efConstruction costs).
    public var connectivityBeam: Int

    public init(queryNeighbors: Int = 100, connectivityBeam: Int = 200) {
      precondition(queryNeighbors >= 2 && connectivityBeam >= 1, "queryNeighbors ≥ 2, connectivityBeam ≥ 1")
      self.queryNeighbors = queryNeighbors
      self.connectivityBeam = connectivityBeam
    }
  }

  /// A build stage, for progress reports.
  public enum Stage: String, Sendable {
    case bipartite = "bipartite kNN"
    case projection
    case connectivity = "connectivity"
  }

  /// Builds the graph over `vectors` (row i has id `ids[i]`) from `trainingQueries`.
  ///
  /// - Parameters:
  ///   - trainingQueries: query vectors (asked and generated questions), one per row; with none,
  ///     the graph is only the connectivity pass (a plain proximity graph).
  ///   - progress: called with the stage, items done and items in the stage.
  /// - Complexity: O(q·n·d) for the bipartite kNN (sgemm) plus about n beam searches of
  ///   `connectivityBeam` for the connectivity pass.
  public static func build(
    ids: [Int64], vectors: EmbeddingMatrix, trainingQueries: EmbeddingMatrix, parameters: GraphIndex.Parameters,
    configuration: Configuration = Configuration(), progress: (Stage, Int, Int) -> Void = { _, _, _ in }
  ) -> GraphIndex {
    precondition(ids.count == vectors.count, "\(ids.count) ids for \(vectors.count) vectors")
    precondition(trainingQueries.dimension == vectors.dimension, "queries and vectors differ in dimension")
    let d = vectors.dimension
    let n = ids.count
    let m = parameters.m
    var graph = GraphIndex(kind: .roar, dimension: d, parameters: parameters)
    graph.storage.reserve(extra: n)
    for i in 0..<n { graph.appendUnlinked(id: ids[i], vector: vectors[row: i]) }
    guard n > 1 else {
      if n == 1 { graph.storage.entry = 0 }
      return graph
    }
    let s = graph.storage

    // Exact search over the stored (half-float) vectors with slots as ids, so the bipartite
    // graph ranks exactly what the graph stores.
    var flat = FlatIndex(dimension: d)
    var widenedRow = [Float](repeating: 0, count: d)
    for slot in 0..<UInt32(n) {
      widenedRow.withUnsafeMutableBufferPointer { HalfDot.widen(s.vector(slot), into: $0.baseAddress!, count: d) }
      flat.add(id: Int64(slot), vector: widenedRow)
    }

    // 1. Bipartite kNN, in blocks so progress is visible.
    var knn: [[Neighbor]] = []
    let q = trainingQueries.count
    let block = 256
    var start = 0
    while start < q {
      let end = min(q, start + block)
      let part = EmbeddingMatrix(dimension: d, values: Array(trainingQueries.values[(start * d)..<(end * d)]))
      knn += flat.search(queries: part, k: min(configuration.queryNeighbors, n))
      start = end
      progress(.bipartite, start, q)
    }

    // 2. Projection onto the base nodes.
    var adjacency = [[UInt32]](repeating: [], count: n)
    func prune(_ base: UInt32, _ candidates: [UInt32]) -> [UInt32] {
      graph.prune(base, candidates: candidates, limit: m, level: 0, fill: true)
    }
    for (i, list) in knn.enumerated() {
      guard let first = list.first else { continue }
      let pStar = UInt32(first.id)
      let kept = prune(pStar, list.dropFirst().map { UInt32($0.id) })
      var merged = adjacency[Int(pStar)]
      for k in kept where !merged.contains(k) { merged.append(k) }
      adjacency[Int(pStar)] = merged.count > m ? prune(pStar, merged) : merged
      for r in kept where !adjacency[Int(r)].contains(pStar) {
        if adjacency[Int(r)].count < m {
          adjacency[Int(r)].append(pStar)
        } else {
          adjacency[Int(r)] = prune(r, adjacency[Int(r)] + [pStar])
        }
      }
      if i % 256 == 255 || i == knn.count - 1 { progress(.projection, i + 1, knn.count) }
    }
    var reversed = adjacency
    for v in 0..<n {
      for u in adjacency[v] where !reversed[Int(u)].contains(UInt32(v)) { reversed[Int(u)].append(UInt32(v)) }
    }
    for v in 0..<n where reversed[v].count > m { reversed[v] = prune(UInt32(v), reversed[v]) }
    adjacency = reversed
    for v in 0..<n { s.setLinks(UInt32(v), level: 0, adjacency[v]) }

    // 3. Connectivity enhancement from the medoid (the stored vector nearest the centroid).
    var centroid = [Float](repeating: 0, count: d)
    for i in 0..<n { for j in 0..<d { centroid[j] += vectors.values[i * d + j] } }
    let medoid = UInt32(flat.search(query: centroid, k: 1)[0].id)
    s.entry = medoid
    s.maxLevel = 0
    // Each node is searched for from the medoid over the graph as it stands, and its supply
    // neighbours are linked both ways at once: a node no training query reached, or whose
    // neighbourhood the projection left sparse, becomes reachable from the nodes linked before
    // it (up to 2M supply links on top of the ≤ M projected ones; a full list is re-pruned).
    for v in 0..<UInt32(n) {
      let query = graph.widened(v)
      let supply = query.withUnsafeBufferPointer { qb in
        let q = qb.baseAddress!
        let found = graph.searchLayer(
          q, entries: [Candidate(distance: graph.distance(q, medoid), slot: medoid)], ef: configuration.connectivityBeam, level: 0
        ) { $0 != v }.sortedNearestFirst()
        return graph.selectNeighbors(found, limit: m).map(\.slot)
      }
      var list = s.links(v, level: 0)
      let projected = adjacency[Int(v)].count
      for u in supply where !list.contains(u) && list.count < projected + 2 * m {
        list.append(u)
      }
      s.setLinks(v, level: 0, list)
      for u in supply { graph.addLink(from: u, to: v, level: 0) }
      if v % 1_024 == 1_023 || Int(v) == n - 1 { progress(.connectivity, Int(v) + 1, n) }
    }
    return graph
  }
}
