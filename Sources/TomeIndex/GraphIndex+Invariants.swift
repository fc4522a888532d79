extension GraphIndex {
  /// Every broken structural rule of the graph, as readable sentences; empty when sound.
  ///
  /// Walks the whole structure, like swift-collections' `_checkInvariants()`; tests call it after
  /// every mutation. The rules: counts agree with tombstones; the entry is a node of the top
  /// level; each list fits its layer's capacity, has no self-link or duplicate, and points at
  /// existing nodes that reach that layer; live ids are unique; vectors are finite and of unit
  /// length within half-float rounding.
  /// - Complexity: O(n · (degree + d)).
  public func invariantViolations() -> [String] {
    let s = storage
    var problems: [String] = []
    func fail(_ message: String) { if problems.count < 50 { problems.append(message) } }
    let live = (0..<s.count).filter { s.deleted[$0] == 0 }.count
    if live != s.liveCount { fail("liveCount \(s.liveCount) but \(live) nodes are not deleted") }
    if s.count == 0 {
      if s.entry != nil { fail("an empty graph has an entry") }
      return problems
    }
    guard let entry = s.entry else {
      fail("\(s.count) nodes but no entry")
      return problems
    }
    if Int(entry) >= s.count { fail("entry \(entry) out of range") }
    if Int(s.levels[Int(entry)]) != s.maxLevel {
      fail("entry level \(s.levels[Int(entry)]) differs from maxLevel \(s.maxLevel)")
    }
    var seenIDs: Set<Int64> = []
    for v in 0..<s.count {
      let slot = UInt32(v)
      let level = Int(s.levels[v])
      if level > s.maxLevel { fail("node \(v) has level \(level) above maxLevel \(s.maxLevel)") }
      if kind == .roar && level != 0 { fail("RoarGraph node \(v) has level \(level)") }
      if s.deleted[v] > 1 { fail("node \(v) has tombstone byte \(s.deleted[v])") }
      if s.deleted[v] == 0 && !seenIDs.insert(s.ids[v]).inserted { fail("id \(s.ids[v]) is live twice") }
      let upperCount = s.upper[slot]?.count ?? 0
      if upperCount != level { fail("node \(v) of level \(level) has \(upperCount) upper lists") }
      for l in 0...level {
        let list = s.links(slot, level: l)
        let capacity = l == 0 ? s.maxDegree0 : s.maxDegree
        if list.count > capacity { fail("node \(v) has \(list.count) links on layer \(l) (capacity \(capacity))") }
        if Set(list).count != list.count { fail("node \(v) has duplicate links on layer \(l)") }
        for n in list {
          if n == slot { fail("node \(v) links to itself on layer \(l)") }
          if Int(n) >= s.count {
            fail("node \(v) links to missing node \(n) on layer \(l)")
          } else if Int(s.levels[Int(n)]) < l {
            fail("node \(v) links on layer \(l) to node \(n) of level \(s.levels[Int(n)])")
          }
        }
      }
      let p = s.vector(slot)
      var norm: Float = 0
      for i in 0..<s.dimension {
        let x = Float(p[i])
        if !x.isFinite { fail("node \(v) has a non-finite component") }
        norm += x * x
      }
      if norm > 0 && abs(norm - 1) > 0.01 { fail("node \(v) has squared norm \(norm)") }
    }
    return problems
  }

  /// Live nodes that a layer-0 walk from the entry cannot reach (through any node, deleted ones
  /// included, as searches route). HNSW does not guarantee zero: pruning can drop a node's last
  /// incoming link. Tests bound it; RoarGraph's connectivity pass aims at zero.
  public func unreachableCount() -> Int {
    let s = storage
    guard let entry = s.entry else { return 0 }
    var seen = [Bool](repeating: false, count: s.count)
    var stack = [entry]
    seen[Int(entry)] = true
    while let v = stack.popLast() {
      s.forEachLink0(v) { n in
        if !seen[Int(n)] {
          seen[Int(n)] = true
          stack.append(n)
        }
      }
    }
    return (0..<s.count).filter { !seen[$0] && s.deleted[$0] == 0 }.count
  }
}
