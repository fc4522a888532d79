import Foundation
public import TomeCore
import Synchronization

extension GraphIndex {
  // MARK: - Insert

  /// Adds one vector, scaled to unit length, and links it into the graph (HNSW's Algorithm 1).
  /// An id that is already live is replaced: its old node becomes a tombstone.
  ///
  /// - Precondition: `vector.count == dimension`.
  /// - Complexity: about O(efConstruction · M · log n) distance computations.
  public mutating func insert(id: Int64, vector: some Collection<Float>) {
    precondition(vector.count == dimension, "vector of \(vector.count) added to an index of dimension \(dimension)")
    makeUnique()
    let s = storage
    if let old = s.slot(of: id) { markDeleted(old) }
    var q = Array(vector)
    var norm: Float = 0
    for x in q { norm += x * x }
    if norm > 0 {
      let scale = 1 / norm.squareRoot()
      for i in q.indices { q[i] *= scale }
    }
    s.reserve(extra: 1)
    let slot = UInt32(s.count)
    let dst = s.vector(slot)
    for i in 0..<dimension { dst[i] = Float16(q[i]) }
    let level = kind == .roar ? 0 : drawLevel(slot: slot)
    s.ids[Int(slot)] = id
    s.levels[Int(slot)] = UInt8(level)
    s.deleted[Int(slot)] = 0
    s.links0[Int(slot) * s.stride0] = 0
    if level > 0 { s.upper[slot] = Array(repeating: [], count: level) }
    s.count += 1
    s.liveCount += 1
    s.slotIndex.withLock { map in map?[id] = slot }
    guard let entry = s.entry else {
      s.entry = slot
      s.maxLevel = level
      return
    }
    // Link with the stored (half-float) vector, not `q`: the heuristic compares the new node's
    // distances with distances between stored vectors, and mixing the two precisions let an
    // exact duplicate occlude every other candidate (5,157 duplicates of a 305k collection were
    // left with one link).
    let stored = widened(slot)
    stored.withUnsafeBufferPointer { link(slot, query: $0.baseAddress!, level: level, entry: entry) }
    if level > s.maxLevel {
      s.entry = slot
      s.maxLevel = level
    }
  }

  /// Adds every row of `matrix` with its id, in order.
  public mutating func insert(ids newIDs: [Int64], vectors matrix: EmbeddingMatrix) {
    precondition(newIDs.count == matrix.count, "\(newIDs.count) ids for \(matrix.count) vectors")
    storage.reserve(extra: newIDs.count)
    for (i, id) in newIDs.enumerated() { insert(id: id, vector: matrix[row: i]) }
  }

  /// ⌊−ln U · m_L⌋ with m_L = 1/ln M, from a generator seeded by the slot so a build does not
  /// depend on anything but its inputs.
  func drawLevel(slot: UInt32) -> Int {
    var rng = SeededGenerator(seed: parameters.seed, mixing: [Int(slot)])
    let u = Double.random(in: Double.ulpOfOne..<1, using: &rng)
    let level = Int(-log(u) / log(Double(parameters.m)))
    return min(level, 32)
  }

  /// Links a new node on layers min(level, maxLevel)…0: beam search with efConstruction, select
  /// M by the heuristic, add the reverse links (re-pruning full lists).
  func link(_ slot: UInt32, query q: UnsafePointer<Float>, level: Int, entry: UInt32) {
    let s = storage
    var ep = Candidate(distance: distance(q, entry), slot: entry)
    if s.maxLevel > level {
      for l in stride(from: s.maxLevel, to: level, by: -1) { ep = greedy(q, from: ep, level: l) }
    }
    for l in stride(from: min(level, s.maxLevel), through: 0, by: -1) {
      let found = searchLayer(q, entries: [ep], ef: parameters.efConstruction, level: l) { n in
        n != slot && !s.isDeleted(n)
      }.sortedNearestFirst()
      let chosen = selectNeighbors(found, limit: parameters.m)
      s.setLinks(slot, level: l, chosen.map(\.slot))
      for c in chosen { addLink(from: c.slot, to: slot, level: l) }
      if let nearest = found.first { ep = nearest }
    }
  }

  /// Adds `b` to the links of `a` on `level`; a full list is re-pruned by the heuristic over its
  /// links plus `b`.
  func addLink(from a: UInt32, to b: UInt32, level: Int) {
    let s = storage
    var list = s.links(a, level: level)
    if list.contains(b) { return }
    let capacity = level == 0 ? s.maxDegree0 : s.maxDegree
    if list.count < capacity {
      list.append(b)
      s.setLinks(a, level: level, list)
      return
    }
    list.append(b)
    s.setLinks(a, level: level, prune(a, candidates: list, limit: capacity, level: level))
  }

  /// The heuristic's choice of at most `limit` of `candidates` as links of `base`.
  func prune(_ base: UInt32, candidates: [UInt32], limit: Int, level: Int, fill: Bool = false) -> [UInt32] {
    let qa = widened(base)
    let sorted = qa.withUnsafeBufferPointer { qb in
      candidates.map { Candidate(distance: distance(qb.baseAddress!, $0), slot: $0) }
    }.sorted(by: Candidate.nearer)
    return selectNeighbors(sorted, limit: limit, fill: fill).map(\.slot)
  }

  // MARK: - Delete and repair

  /// Marks `id` deleted: it keeps routing searches but is never returned. Call `repair()` when
  /// tombstones pile up (`needsRepair`).
  /// - Returns: false when `id` is not a live vector.
  @discardableResult
  public mutating func remove(id: Int64) -> Bool {
    guard storage.slot(of: id) != nil else { return false }
    makeUnique()
    guard let slot = storage.slot(of: id) else { return false }
    markDeleted(slot)
    return true
  }

  func markDeleted(_ slot: UInt32) {
    let s = storage
    guard s.deleted[Int(slot)] == 0 else { return }
    s.deleted[Int(slot)] = 1
    s.liveCount -= 1
    let id = s.ids[Int(slot)]
    s.slotIndex.withLock { map in
      if map?[id] == slot { map?[id] = nil }
    }
  }

  /// Whether tombstones exceed `fraction` of the nodes: searches then spend a noticeable share
  /// of their distance computations on nodes they may not return.
  public func needsRepair(fraction: Double = 0.1) -> Bool {
    nodeCount > 0 && Double(deletedCount) > fraction * Double(nodeCount)
  }

  /// Relinks every live node that points at a deleted one, then compacts the deleted nodes away.
  ///
  /// A node losing links gets candidates from its live links and from the live links of the
  /// deleted nodes it pointed at (two hops through chains of deleted nodes), pruned by the
  /// heuristic to the layer's capacity: the graph stays as connected around a hole as it was
  /// through it. A node left with no candidate at all is relinked by a fresh search.
  /// - Complexity: O(affected nodes · degree² · d) distance work plus O(n) to compact.
  public mutating func repair() {
    guard deletedCount > 0 else { return }
    makeUnique()
    let s = storage
    for v in 0..<UInt32(s.count) where !s.isDeleted(v) {
      let level = Int(s.levels[Int(v)])
      for l in 0...level {
        let list = s.links(v, level: l)
        guard list.contains(where: s.isDeleted) else { continue }
        var candidates: [UInt32] = []
        var seen: Set<UInt32> = [v]
        func consider(_ n: UInt32, hops: Int) {
          guard seen.insert(n).inserted else { return }
          if !s.isDeleted(n) {
            candidates.append(n)
          } else if hops > 0 {
            for m in s.links(n, level: l) { consider(m, hops: hops - 1) }
          }
        }
        for n in list { consider(n, hops: 2) }
        let capacity = l == 0 ? s.maxDegree0 : s.maxDegree
        var chosen = prune(v, candidates: candidates, limit: capacity, level: l)
        if chosen.isEmpty, s.liveCount > 1, let entry = liveEntry() {
          let q = widened(v)
          chosen = q.withUnsafeBufferPointer { qb in
            let found = searchLayer(qb.baseAddress!, entries: [Candidate(distance: distance(qb.baseAddress!, entry), slot: entry)],
              ef: parameters.efConstruction, level: 0) { n in n != v && !s.isDeleted(n) && Int(s.levels[Int(n)]) >= l }
            return selectNeighbors(found.sortedNearestFirst(), limit: parameters.m).map(\.slot)
          }
        }
        s.setLinks(v, level: l, chosen)
      }
    }
    compact()
  }

  /// A live node of the highest level (the lowest such slot), or nil when none is live.
  func liveEntry() -> UInt32? {
    let s = storage
    var best: UInt32?
    for v in 0..<UInt32(s.count) where !s.isDeleted(v) {
      if best == nil || s.levels[Int(v)] > s.levels[Int(best!)] { best = v }
    }
    return best
  }

  /// Drops deleted nodes and renumbers the live ones in order. Requires that no live node links
  /// to a deleted one (what `repair()` establishes).
  func compact() {
    let s = storage
    var newSlot = [UInt32](repeating: .max, count: s.count)
    var next: UInt32 = 0
    for v in 0..<s.count where s.deleted[v] == 0 {
      newSlot[v] = next
      next += 1
    }
    let entryCandidate = liveEntry()
    var upper: [UInt32: [[UInt32]]] = [:]
    for old in 0..<s.count where s.deleted[old] == 0 {
      let new = Int(newSlot[old])
      if new != old {
        (s.vector(UInt32(new))).update(from: s.vector(UInt32(old)), count: s.dimension)
        s.ids[new] = s.ids[old]
        s.levels[new] = s.levels[old]
      }
      s.deleted[new] = 0
      let src = s.links0.base + old * s.stride0
      let dst = s.links0.base + new * s.stride0
      let n = Int(src[0])
      var out = 0
      for i in 0..<n {
        let target = newSlot[Int(src[1 + i])]
        precondition(target != .max, "a live node still links to a deleted one")
        dst[1 + out] = target
        out += 1
      }
      dst[0] = UInt32(out)
      if let lists = s.upper[UInt32(old)] {
        upper[UInt32(new)] = lists.map { $0.map { newSlot[Int($0)] } }
      }
    }
    s.upper = upper
    s.count = Int(next)
    s.liveCount = Int(next)
    if let e = entryCandidate {
      s.entry = newSlot[Int(e)]
      s.maxLevel = Int(s.levels[Int(newSlot[Int(e)])])
    } else {
      s.entry = nil
      s.maxLevel = 0
    }
    s.invalidateSlotIndex()
  }
}

extension GraphIndex {
  /// Appends a node with no links (RoarGraph's build links all nodes afterwards).
  mutating func appendUnlinked(id: Int64, vector: ArraySlice<Float>) {
    makeUnique()
    let s = storage
    s.reserve(extra: 1)
    let slot = s.count
    var norm: Float = 0
    for x in vector { norm += x * x }
    let scale = norm > 0 ? 1 / norm.squareRoot() : 0
    let dst = s.vector(UInt32(slot))
    for (i, x) in vector.enumerated() { dst[i] = Float16(x * scale) }
    s.ids[slot] = id
    s.levels[slot] = 0
    s.deleted[slot] = 0
    s.links0[slot * s.stride0] = 0
    s.count += 1
    s.liveCount += 1
    s.invalidateSlotIndex()
  }
}
