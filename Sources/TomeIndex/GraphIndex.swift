public import TomeCore

/// An approximate nearest-neighbour index over unit vectors: a proximity graph searched by
/// best-first beam search, the structure behind both HNSW and RoarGraph.
///
/// - **HNSW** (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search
///   using Hierarchical Navigable Small World graphs", 2016): nodes draw a level
///   ⌊−ln U · 1/ln M⌋; each layer links a node to at most M neighbours (2M on layer 0) chosen by
///   the RNG-style heuristic; search descends greedily through the upper layers and runs a beam
///   of `efSearch` on layer 0.
/// - **RoarGraph** (Chen et al., VLDB 2024): one layer whose links come from training queries
///   (see `RoarGraphBuilder`), entered at the medoid. New vectors after a build are linked the
///   HNSW way on its single layer.
///
/// Vectors are stored as half floats (unit vectors lose nothing that ranking notices, and the
/// graph file halves); queries stay float. Scores are inner products, like `FlatIndex`, so the
/// two are interchangeable behind `VectorIndex`.
///
/// Deletion marks a tombstone: a deleted node still routes searches but is never returned.
/// `repair()` relinks the neighbours of deleted nodes and compacts them away.
///
/// `GraphIndex` is a value type with copy-on-write storage: searching a shared index from many
/// threads is safe; a mutation copies the storage unless this value holds the only reference.
public struct GraphIndex: VectorIndex {
  /// The graph's construction method, recorded in its file.
  public enum Kind: UInt32, Sendable, CaseIterable {
    case hnsw = 1
    case roar = 2
  }

  /// Construction and search parameters.
  public struct Parameters: Sendable, Equatable {
    /// Links per node on the upper layers and per insert (HNSW's M); 12–48 is the usual range.
    public var m: Int
    /// Beam width while inserting; larger builds slower and searches better.
    public var efConstruction: Int
    /// Default beam width of a search (at least k is used).
    public var efSearch: Int
    /// Seeds the level draws, so a build is reproducible.
    public var seed: UInt64

    public init(m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64, seed: UInt64 = 0x70AE) {
      precondition(m >= 2 && m <= 255, "m must be in 2…255")
      precondition(efConstruction >= 1 && efSearch >= 1, "ef must be positive")
      self.m = m
      self.efConstruction = efConstruction
      self.efSearch = efSearch
      self.seed = seed
    }
  }

  public let kind: Kind
  public var parameters: Parameters
  var storage: GraphStorage

  /// An empty graph.
  /// - Parameter degree0: layer-0 link capacity; default 2M for HNSW and 3M for RoarGraph
  ///   (M projected links plus up to 2M connectivity links).
  public init(kind: Kind, dimension: Int, parameters: Parameters = Parameters(), degree0: Int? = nil) {
    precondition(dimension > 0, "dimension must be positive")
    self.kind = kind
    self.parameters = parameters
    let d0 = degree0 ?? (kind == .hnsw ? 2 * parameters.m : 3 * parameters.m)
    storage = GraphStorage(dimension: dimension, maxDegree: parameters.m, maxDegree0: d0, capacity: 0)
  }

  init(kind: Kind, parameters: Parameters, storage: GraphStorage) {
    self.kind = kind
    self.parameters = parameters
    self.storage = storage
  }

  public var dimension: Int { storage.dimension }
  /// Live (searchable) vectors.
  public var count: Int { storage.liveCount }
  /// Nodes including tombstones.
  public var nodeCount: Int { storage.count }
  /// Deleted nodes not yet compacted away by `repair()`.
  public var deletedCount: Int { storage.count - storage.liveCount }
  /// Layer-0 link capacity.
  public var degree0: Int { storage.maxDegree0 }
  /// The highest layer.
  public var maxLevel: Int { storage.maxLevel }
  /// Whether this graph's memory is (still partly) a mapped file rather than owned memory.
  public var isMapped: Bool { storage.mapping != nil }

  /// The live ids, in node order.
  public var ids: [Int64] {
    (0..<storage.count).compactMap { storage.deleted[$0] == 0 ? storage.ids[$0] : nil }
  }

  /// Whether `id` is a live vector of the graph.
  public func contains(id: Int64) -> Bool { storage.slot(of: id) != nil }

  /// The stored (half-float) vector of `id`, widened, or nil when absent.
  public func vector(id: Int64) -> [Float]? {
    guard let slot = storage.slot(of: id) else { return nil }
    let p = storage.vector(slot)
    return (0..<dimension).map { Float(p[$0]) }
  }

  // MARK: - Search

  /// The `k` best allowed neighbours, with the default beam `parameters.efSearch`.
  public func search(query: [Float], k: Int, filter: VectorFilter?) -> [Neighbor] {
    search(query: query, k: k, ef: parameters.efSearch, filter: filter)
  }

  /// The `k` best allowed neighbours of `query` with a beam of `max(ef, k)` on layer 0.
  ///
  /// With a filter whose allowed ids are known and few (≤ 5% of the graph, or ≤ 2,048), the
  /// allowed vectors are scored exactly: a beam that may only admit rare scattered nodes would
  /// wander most of the graph to find them. Otherwise the beam routes through every node and
  /// admits only allowed, live ones.
  /// - Complexity: about O(ef · degree · log n) distance computations.
  public func search(query: [Float], k: Int, ef: Int, filter: VectorFilter?) -> [Neighbor] {
    precondition(query.count == dimension, "query of \(query.count) for an index of dimension \(dimension)")
    precondition(k >= 0, "k must not be negative")
    let s = storage
    guard k > 0, s.liveCount > 0, let entry = s.entry else { return [] }
    if let allowed = filter?.allowedIDs, allowed.count <= max(2_048, s.liveCount / 20) {
      return exactSearch(query: query, k: k, allowed: allowed)
    }
    return query.withUnsafeBufferPointer { qb -> [Neighbor] in
      let q = qb.baseAddress!
      var ep = Candidate(distance: distance(q, entry), slot: entry)
      if s.maxLevel > 0 {
        for level in stride(from: s.maxLevel, through: 1, by: -1) { ep = greedy(q, from: ep, level: level) }
      }
      let results: CandidateHeap
      if let filter {
        results = searchLayer(q, entries: [ep], ef: max(ef, k), level: 0) { slot in
          !s.isDeleted(slot) && filter.allows(s.ids[Int(slot)])
        }
      } else {
        results = searchLayer(q, entries: [ep], ef: max(ef, k), level: 0) { !s.isDeleted($0) }
      }
      var top = TopK(k: k)
      for c in results.items { top.insert(Neighbor(id: s.ids[Int(c.slot)], score: -c.distance)) }
      return top.sorted()
    }
  }

  /// Exact scores of the allowed ids that are live in the graph.
  func exactSearch(query: [Float], k: Int, allowed: [Int64]) -> [Neighbor] {
    var top = TopK(k: k)
    query.withUnsafeBufferPointer { qb in
      for id in allowed {
        guard let slot = storage.slot(of: id) else { continue }
        top.insert(Neighbor(id: id, score: -distance(qb.baseAddress!, slot)))
      }
    }
    return top.sorted()
  }

  /// −q·v: smaller is nearer.
  @inline(__always)
  func distance(_ q: UnsafePointer<Float>, _ slot: UInt32) -> Float {
    -HalfDot.dot(q, storage.vector(slot), count: storage.dimension)
  }

  /// Greedy descent on one upper layer: move to the nearest neighbour until none is nearer.
  func greedy(_ q: UnsafePointer<Float>, from start: Candidate, level: Int) -> Candidate {
    var current = start
    var moved = true
    while moved {
      moved = false
      guard let lists = storage.upper[current.slot], level - 1 < lists.count else { break }
      for n in lists[level - 1] {
        let d = distance(q, n)
        if d < current.distance || (d == current.distance && n < current.slot) {
          current = Candidate(distance: d, slot: n)
          moved = true
        }
      }
    }
    return current
  }

  /// Best-first beam search on one layer (Algorithm 2 of the HNSW paper): expands the nearest
  /// unexpanded node until it is farther than the worst of `ef` admitted results. Every node
  /// routes; only nodes for which `admit` holds enter the results.
  ///
  /// An expansion first collects the node's unvisited neighbours, then scores them in one
  /// kernel call that fetches each next row while scoring the current one (rows are scattered
  /// over memory: waiting for each in turn was most of a search's time). The storage's fields
  /// are read once into locals, outside the loop.
  ///
  /// - Returns: up to `ef` admitted nodes, as a farthest-first heap.
  func searchLayer(
    _ q: UnsafePointer<Float>, entries: [Candidate], ef: Int, level: Int, admit: (UInt32) -> Bool
  ) -> CandidateHeap {
    let s = storage
    let links0 = s.links0.base
    let stride0 = s.stride0
    let rows = UnsafePointer(s.vectors.base)
    let dimension = s.dimension
    let width = max(stride0, s.maxDegree + 1)
    return s.visited.with(count: s.count) { visited in
      var frontier = CandidateHeap(nearestFirst: true, capacity: ef * 2)
      var results = CandidateHeap(nearestFirst: false, capacity: ef + 1)
      for e in entries where visited.insert(e.slot) {
        frontier.push(e)
        if admit(e.slot) { results.push(e) }
      }
      withUnsafeTemporaryAllocation(of: UInt32.self, capacity: width) { fresh in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { scores in
          let fresh = fresh.baseAddress!
          let scores = scores.baseAddress!
          while !frontier.isEmpty {
            let c = frontier.pop()
            if results.count >= ef && c.distance > results.top.distance { break }
            var n = 0
            if level == 0 {
              let p = links0 + Int(c.slot) * stride0
              for i in 0..<Int(p[0]) where visited.insert(p[1 + i]) {
                fresh[n] = p[1 + i]
                n += 1
              }
            } else if let lists = s.upper[c.slot], level - 1 < lists.count {
              precondition(lists[level - 1].count < width, "an upper-layer list is longer than its capacity")
              for neighbour in lists[level - 1] where visited.insert(neighbour) {
                fresh[n] = neighbour
                n += 1
              }
            }
            HalfDot.dots(q, base: rows, dimension: dimension, rows: fresh, rowCount: n, into: scores)
            for i in 0..<n {
              let d = -scores[i]
              guard results.count < ef || d < results.top.distance else { continue }
              let candidate = Candidate(distance: d, slot: fresh[i])
              frontier.push(candidate)
              if admit(candidate.slot) {
                results.push(candidate)
                if results.count > ef { results.pop() }
              }
            }
          }
        }
      }
      return results
    }
  }

  // MARK: - Neighbour selection

  /// The RNG-style heuristic (HNSW's Algorithm 4, RoarGraph's occlusion prune): walk
  /// `candidates` nearest first and keep one unless an already kept node is nearer to it than
  /// the base is. Keeps links spread over directions instead of piling into one cluster.
  ///
  /// - Parameters:
  ///   - candidates: sorted nearest first by distance to the base.
  ///   - limit: the most to keep.
  ///   - fill: top up with the nearest rejected candidates when fewer than `limit` survive
  ///     (RoarGraph's projection does; HNSW does not).
  func selectNeighbors(_ candidates: [Candidate], limit: Int, fill: Bool = false) -> [Candidate] {
    // Fewer candidates than the limit are all kept (as hnswlib does): pruning would only thin
    // out a list that has room.
    if candidates.count < limit { return candidates }
    var kept: [Candidate] = []
    kept.reserveCapacity(limit)
    var rejected: [Candidate] = []
    let d = storage.dimension
    withUnsafeTemporaryAllocation(of: Float.self, capacity: d) { scratch in
      let c32 = scratch.baseAddress!
      for c in candidates {
        if kept.count >= limit { break }
        HalfDot.widen(storage.vector(c.slot), into: c32, count: d)
        var good = true
        for r in kept where distance(c32, r.slot) < c.distance {
          good = false
          break
        }
        if good { kept.append(c) } else if fill { rejected.append(c) }
      }
    }
    if fill && kept.count < limit { kept += rejected.prefix(limit - kept.count) }
    return kept
  }

  /// The widened stored vector of `slot`.
  func widened(_ slot: UInt32) -> [Float] {
    [Float](unsafeUninitializedCapacity: dimension) { buf, n in
      HalfDot.widen(storage.vector(slot), into: buf.baseAddress!, count: dimension)
      n = dimension
    }
  }

  /// Copies the storage unless this value is its only owner (copy-on-write).
  mutating func makeUnique() {
    if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
  }
}
