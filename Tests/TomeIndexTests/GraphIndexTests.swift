import TomeCore
import TomeIndex
import Testing
import TomeTestSupport

/// Unit vectors around `clusters` random centres: the shape of real embeddings (topics), on
/// which a proximity graph has structure to exploit, unlike uniform noise.
func clusteredUnitVectors(count: Int, dimension: Int, clusters: Int, spread: Float, seed: UInt64) -> EmbeddingMatrix {
  var rng = SeededGenerator(seed: seed)
  let centres = randomUnitVectors(count: clusters, dimension: dimension, seed: seed ^ 0xC1)
  var values: [Float] = []
  values.reserveCapacity(count * dimension)
  for _ in 0..<count {
    let c = Int.random(in: 0..<clusters, using: &rng)
    var v = (0..<dimension).map { centres[row: c][centres[row: c].startIndex + $0] + spread * Float.random(in: -1...1, using: &rng) }
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    for i in v.indices { v[i] /= norm }
    values += v
  }
  return EmbeddingMatrix(dimension: dimension, values: values)
}

/// Mean fraction of the exact top-k found by the approximate top-k.
func recall(exact: [[Neighbor]], approximate: [[Neighbor]]) -> Double {
  var found = 0
  var total = 0
  for (e, a) in zip(exact, approximate) {
    let want = Set(e.map(\.id))
    found += a.filter { want.contains($0.id) }.count
    total += want.count
  }
  return total == 0 ? 1 : Double(found) / Double(total)
}

/// The exact search over the same half-float-rounded vectors the graph stores, so recall
/// measures the graph, not the rounding.
func exactIndex(_ graph: GraphIndex) -> FlatIndex {
  var flat = FlatIndex(dimension: graph.dimension)
  for id in graph.ids { flat.add(id: id, vector: graph.vector(id: id)!) }
  return flat
}

@Suite struct GraphIndexTests {
  static let d = 32

  func build(_ kind: GraphIndex.Kind = .hnsw, count: Int, seed: UInt64, m: Int = 12) -> (GraphIndex, EmbeddingMatrix) {
    let data = clusteredUnitVectors(count: count, dimension: Self.d, clusters: 40, spread: 0.35, seed: seed)
    var graph = GraphIndex(kind: kind, dimension: Self.d, parameters: .init(m: m, efConstruction: 100, efSearch: 64))
    graph.insert(ids: (0..<Int64(count)).map { $0 * 7 + 3 }, vectors: data)
    return (graph, data)
  }

  func queries(_ n: Int, seed: UInt64) -> [[Float]] {
    let q = clusteredUnitVectors(count: n, dimension: Self.d, clusters: 40, spread: 0.35, seed: seed)
    return (0..<n).map { Array(q[row: $0]) }
  }

  @Test("HNSW recall@10 against exact search on seeded clustered data is at least 0.95")
  func recallAgainstExact() {
    let (graph, _) = build(count: 3_000, seed: 11)
    #expect(graph.invariantViolations() == [])
    #expect(graph.count == 3_000)
    #expect(graph.maxLevel >= 1)
    #expect(graph.unreachableCount() <= 3)
    let flat = exactIndex(graph)
    let qs = queries(200, seed: 12)
    let r = recall(exact: qs.map { flat.search(query: $0, k: 10) }, approximate: qs.map { graph.search(query: $0, k: 10) })
    #expect(r >= 0.95, "recall@10 \(r)")
    // A wider beam finds more, a beam of 10 finds less: efSearch is doing the work.
    let wide = recall(exact: qs.map { flat.search(query: $0, k: 10) }, approximate: qs.map { graph.search(query: $0, k: 10, ef: 200, filter: nil) })
    let narrow = recall(exact: qs.map { flat.search(query: $0, k: 10) }, approximate: qs.map { graph.search(query: $0, k: 10, ef: 10, filter: nil) })
    #expect(wide >= r && r >= narrow && wide > narrow, "ef 10: \(narrow), 64: \(r), 200: \(wide)")
  }

  /// Real collections repeat chunks by the hundred (licence headers, boilerplate). Ties between
  /// exact duplicates once went to the oldest twin, which left the later twins of a group larger
  /// than a node's degree with no in-links (11,049 unreachable of 305,211 real chunks).
  @Test("exact duplicates in groups larger than a node's degree are all reachable and found")
  func duplicateGroups() {
    let base = clusteredUnitVectors(count: 2_000, dimension: Self.d, clusters: 40, spread: 0.35, seed: 5)
    let twins = randomUnitVectors(count: 3, dimension: Self.d, seed: 6)
    var graph = GraphIndex(kind: .hnsw, dimension: Self.d, parameters: .init(m: 8, efConstruction: 100, efSearch: 64))
    var copies = [0, 0, 0]
    for i in 0..<base.count {
      graph.insert(id: Int64(i), vector: base[row: i])
      // Every 8th insert adds a copy of one of three vectors (84, 83 and 83 copies, far more
      // than the 16 links a node keeps), spread over the build as a repeated header is.
      if i % 8 == 0 {
        let group = (i / 8) % 3
        graph.insert(id: Int64(1_000_000 * (group + 1) + copies[group]), vector: twins[row: group])
        copies[group] += 1
      }
    }
    #expect(graph.invariantViolations().isEmpty)
    #expect(graph.unreachableCount() == 0)
    let found = graph.search(query: Array(twins[row: 0]), k: 120, ef: 400, filter: nil)
    #expect(found.filter { (1_000_000..<2_000_000).contains($0.id) }.count == copies[0])
  }

  @Test("scores are the exact inner products of the stored vectors, best first")
  func scoresAreExact() {
    let (graph, _) = build(count: 500, seed: 21)
    let q = queries(1, seed: 22)[0]
    let hits = graph.search(query: q, k: 10)
    #expect(hits.count == 10)
    for h in hits {
      let v = graph.vector(id: h.id)!
      let s = zip(v, q).reduce(Float(0)) { $0 + $1.0 * $1.1 }
      #expect(abs(s - h.score) < 1e-4)
    }
    #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
  }

  @Test("invariants hold after every insert and delete, and after repair", arguments: [GraphIndex.Kind.hnsw, .roar])
  func invariantsAfterEveryMutation(kind: GraphIndex.Kind) {
    let data = clusteredUnitVectors(count: 400, dimension: 16, clusters: 8, spread: 0.4, seed: 31)
    var graph = GraphIndex(kind: kind, dimension: 16, parameters: .init(m: 4, efConstruction: 32))
    var rng = SeededGenerator(seed: 32)
    var live: Set<Int64> = []
    for i in 0..<data.count {
      graph.insert(id: Int64(i), vector: data[row: i])
      live.insert(Int64(i))
      #expect(graph.invariantViolations() == [], "after inserting \(i)")
      if i % 3 == 2, let victim = live.randomElement(using: &rng) {
        let removed = graph.remove(id: victim)
        #expect(removed)
        live.remove(victim)
        #expect(graph.invariantViolations() == [], "after deleting \(victim)")
      }
      if i % 100 == 99 {
        graph.repair()
        #expect(graph.invariantViolations() == [], "after repair at \(i)")
        #expect(graph.deletedCount == 0)
      }
    }
    #expect(graph.count == live.count)
    #expect(Set(graph.ids) == live)
    let removedMissing = graph.remove(id: 9_999)
    #expect(!removedMissing)
  }

  @Test("after deleting 30% recall stays high, deleted ids never come back, and repair compacts")
  func deletes() {
    var (graph, _) = build(count: 3_000, seed: 41)
    var rng = SeededGenerator(seed: 42)
    let victims = Set(graph.ids.shuffled(using: &rng).prefix(900))
    for id in victims {
      let removed = graph.remove(id: id)
      #expect(removed)
    }
    #expect(graph.invariantViolations() == [])
    #expect(graph.count == 2_100 && graph.deletedCount == 900)
    #expect(graph.needsRepair())
    let qs = queries(200, seed: 43)
    let flat = exactIndex(graph)
    let exact = qs.map { flat.search(query: $0, k: 10) }
    let before = qs.map { graph.search(query: $0, k: 10) }
    #expect(before.allSatisfy { $0.allSatisfy { !victims.contains($0.id) } })
    #expect(recall(exact: exact, approximate: before) >= 0.93)
    graph.repair()
    #expect(graph.invariantViolations() == [])
    #expect(graph.nodeCount == 2_100 && graph.deletedCount == 0)
    #expect(graph.unreachableCount() <= 3)
    let after = qs.map { graph.search(query: $0, k: 10) }
    #expect(recall(exact: exact, approximate: after) >= 0.93, "after repair")
    // Inserting after a repair links new nodes into the compacted graph.
    let more = clusteredUnitVectors(count: 300, dimension: Self.d, clusters: 40, spread: 0.35, seed: 44)
    graph.insert(ids: (0..<300).map { 1_000_000 + Int64($0) }, vectors: more)
    #expect(graph.invariantViolations() == [])
    let flat2 = exactIndex(graph)
    #expect(recall(exact: qs.map { flat2.search(query: $0, k: 10) }, approximate: qs.map { graph.search(query: $0, k: 10) }) >= 0.93)
  }

  @Test("re-inserting an id replaces its vector")
  func replace() {
    var (graph, data) = build(count: 500, seed: 51)
    let target = Array(data[row: 100])
    let top: Int64? = graph.search(query: target, k: 1).first?.id
    #expect(top == Int64(100 * 7 + 3))
    let other = Array(data[row: 200])
    graph.insert(id: 100 * 7 + 3, vector: other)
    #expect(graph.count == 500 && graph.deletedCount == 1)
    #expect(graph.invariantViolations() == [])
    let v = graph.vector(id: 100 * 7 + 3)!
    #expect(zip(v, other).allSatisfy { abs($0 - $1) < 1e-2 })
  }

  @Test("filtered search returns only allowed ids, by predicate and by a small id set")
  func filtered() {
    let (graph, _) = build(count: 3_000, seed: 61)
    let flat = exactIndex(graph)
    let qs = queries(100, seed: 62)
    let even = VectorFilter { $0 % 2 == 0 }
    let exactEven = qs.map { flat.search(query: $0, k: 10, filter: even) }
    let graphEven = qs.map { graph.search(query: $0, k: 10, filter: even) }
    #expect(graphEven.allSatisfy { $0.count == 10 && $0.allSatisfy { $0.id % 2 == 0 } })
    #expect(recall(exact: exactEven, approximate: graphEven) >= 0.93)
    // A handful of ids (one document's chunks): scored exactly, so recall is total.
    let few = VectorFilter(allowing: graph.ids.filter { $0 % 97 == 0 })
    let exactFew = qs.map { flat.search(query: $0, k: 5, filter: few) }
    let graphFew = qs.map { graph.search(query: $0, k: 5, filter: few) }
    #expect(graphFew.map { $0.map(\.id) } == exactFew.map { $0.map(\.id) })
    #expect(graph.search(query: qs[0], k: 5, filter: VectorFilter(allowing: [])) == [])
  }

  @Test("the same inputs and seed build the same graph; a copy is unaffected by mutation")
  func determinismAndValueSemantics() {
    let (a, _) = build(count: 800, seed: 71)
    let (b, _) = build(count: 800, seed: 71)
    let qs = queries(20, seed: 72)
    #expect(qs.map { a.search(query: $0, k: 10) } == qs.map { b.search(query: $0, k: 10) })
    var c = a
    for id in a.ids.prefix(400) { c.remove(id: id) }
    c.repair()
    #expect(a.count == 800 && c.count == 400)
    #expect(a.invariantViolations() == [] && c.invariantViolations() == [])
    #expect(qs.map { a.search(query: $0, k: 10) } == qs.map { b.search(query: $0, k: 10) })
  }
}

@Suite struct RoarGraphTests {
  static let d = 32

  /// Passages around topic centres, and "questions" that sit off the passages' manifold: each is
  /// a passage-like vector pushed along a direction shared by all questions, so its neighbours
  /// are passages but it is not near any of them (the OOD shape of question → passage search).
  func data(seed: UInt64) -> (base: EmbeddingMatrix, train: EmbeddingMatrix, test: [[Float]]) {
    let base = clusteredUnitVectors(count: 3_000, dimension: Self.d, clusters: 40, spread: 0.35, seed: seed)
    let shift = randomUnitVectors(count: 1, dimension: Self.d, seed: seed ^ 0x5F)
    func questions(_ count: Int, _ s: UInt64) -> EmbeddingMatrix {
      let near = clusteredUnitVectors(count: count, dimension: Self.d, clusters: 40, spread: 0.35, seed: seed)
      var rng = SeededGenerator(seed: s)
      var values: [Float] = []
      for i in 0..<count {
        _ = rng.next()
        var v = (0..<Self.d).map { near[row: i][near[row: i].startIndex + $0] + 0.9 * shift.values[$0] }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for j in v.indices { v[j] /= norm }
        values += v
      }
      return EmbeddingMatrix(dimension: Self.d, values: values)
    }
    let train = questions(1_500, seed ^ 1)
    let testMatrix = questions(100, seed ^ 2)
    return (base, train, (0..<100).map { Array(testMatrix[row: $0]) })
  }

  @Test("RoarGraph from training queries: sound, connected, medoid entry, recall@10 ≥ 0.9 on off-manifold queries")
  func buildAndSearch() {
    let (base, train, test) = data(seed: 81)
    let ids = (0..<Int64(base.count)).map { $0 + 10 }
    var stages: Set<String> = []
    let graph = RoarGraphBuilder.build(
      ids: ids, vectors: base, trainingQueries: train, parameters: .init(m: 12, efConstruction: 100, efSearch: 64),
      configuration: .init(queryNeighbors: 50, connectivityBeam: 64)
    ) { stage, _, _ in stages.insert(stage.rawValue) }
    #expect(stages == ["bipartite kNN", "projection", "connectivity"])
    #expect(graph.kind == .roar && graph.maxLevel == 0 && graph.degree0 == 36)
    #expect(graph.invariantViolations() == [])
    #expect(graph.unreachableCount() == 0)
    let flat = exactIndex(graph)
    let r = recall(exact: test.map { flat.search(query: $0, k: 10) }, approximate: test.map { graph.search(query: $0, k: 10) })
    #expect(r >= 0.9, "recall@10 \(r)")
  }

  @Test("RoarGraph takes inserts and deletes after its build, and survives repair")
  func mutate() {
    let (base, train, test) = data(seed: 91)
    var graph = RoarGraphBuilder.build(
      ids: Array(0..<Int64(2_000)), vectors: EmbeddingMatrix(dimension: Self.d, values: Array(base.values[0..<(2_000 * Self.d)])),
      trainingQueries: train, parameters: .init(m: 12, efConstruction: 64), configuration: .init(queryNeighbors: 50, connectivityBeam: 64))
    for i in 2_000..<3_000 { graph.insert(id: Int64(i), vector: base[row: i]) }
    for id in stride(from: Int64(0), to: 3_000, by: 5) { graph.remove(id: id) }
    #expect(graph.invariantViolations() == [])
    graph.repair()
    #expect(graph.invariantViolations() == [])
    #expect(graph.count == 2_400 && graph.deletedCount == 0)
    let flat = exactIndex(graph)
    let r = recall(exact: test.map { flat.search(query: $0, k: 10) }, approximate: test.map { graph.search(query: $0, k: 10) })
    #expect(r >= 0.85, "recall@10 \(r)")
  }
}
