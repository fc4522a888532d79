import TomeCore
import TomeIndex
import Testing
import TomeTestSupport

func randomUnitVectors(count: Int, dimension: Int, seed: UInt64) -> EmbeddingMatrix {
  var rng = SeededGenerator(seed: seed)
  var values: [Float] = []
  for _ in 0..<count {
    let v = (0..<dimension).map { _ in Float.random(in: -1...1, using: &rng) }
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    values += v.map { $0 / norm }
  }
  return EmbeddingMatrix(dimension: dimension, values: values)
}

/// Scalar reference: all scores in Double, sorted by score then id.
func bruteForce(_ data: EmbeddingMatrix, ids: [Int64], query: ArraySlice<Float>, k: Int) -> [Int64] {
  let q = Array(query)
  let scored = (0..<data.count).map { i -> (Int64, Double) in
    let row = Array(data[row: i])
    var s = 0.0
    for j in 0..<q.count { s += Double(row[j]) * Double(q[j]) }
    return (ids[i], s)
  }
  return scored.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(k).map(\.0)
}

@Suite struct FlatIndexTests {
  @Test("top-k equals a brute-force scalar search on seeded random vectors", arguments: [1, 10, 50])
  func matchesBruteForce(k: Int) {
    let d = 48
    let data = randomUnitVectors(count: 2_000, dimension: d, seed: 7)
    let ids = (0..<Int64(data.count)).map { $0 * 3 + 1 }
    var index = FlatIndex(dimension: d)
    index.add(ids: ids, vectors: data)
    #expect(index.count == 2_000)
    let queries = randomUnitVectors(count: 20, dimension: d, seed: 99)
    let batched = index.search(queries: queries, k: k)
    for i in 0..<queries.count {
      let expected = bruteForce(data, ids: ids, query: queries[row: i], k: k)
      let single = index.search(query: Array(queries[row: i]), k: k)
      #expect(single.map(\.id) == expected)
      #expect(batched[i].map(\.id) == expected)
      #expect(zip(single.dropFirst(), single).allSatisfy { $0.score <= $1.score })
    }
  }

  @Test("batched search tiles over more than one sgemm block")
  func tiledBatch() {
    let d = 8
    let data = randomUnitVectors(count: 40_000, dimension: d, seed: 3)
    var index = FlatIndex(dimension: d)
    index.add(ids: Array(0..<Int64(data.count)), vectors: data)
    let queries = randomUnitVectors(count: 70, dimension: d, seed: 4)
    let batched = index.search(queries: queries, k: 5)
    for i in stride(from: 0, to: 70, by: 7) {
      #expect(batched[i].map(\.id) == index.search(query: Array(queries[row: i]), k: 5).map(\.id))
    }
  }

  @Test("vectors are normalised on add; ties break by id; small indexes return fewer")
  func edges() {
    var index = FlatIndex(dimension: 2)
    index.add(id: 5, vector: [3, 4])
    index.add(id: 2, vector: [0.6, 0.8])
    index.add(id: 9, vector: [-1, 0])
    #expect(abs(index.vectors[0] - 0.6) < 1e-6)
    let hits = index.search(query: [0.6, 0.8], k: 10)
    #expect(hits.map(\.id) == [2, 5, 9])
    #expect(FlatIndex(dimension: 2).search(query: [1, 0], k: 3).isEmpty)
    #expect(index.search(query: [1, 0], k: 0).isEmpty)
  }
}

@Suite struct ReciprocalRankFusionTests {
  @Test("hand-checked example with k = 60")
  func handChecked() {
    let bm25 = [Neighbor(id: 1, score: 9), Neighbor(id: 2, score: 7), Neighbor(id: 3, score: 1)]
    let dense = [Neighbor(id: 3, score: 0.9), Neighbor(id: 1, score: 0.8), Neighbor(id: 4, score: 0.1)]
    let fused = ReciprocalRankFusion().fuse([bm25, dense])
    // 1: 1/61 + 1/62 = 0.032522; 3: 1/63 + 1/61 = 0.032266; 2: 1/62; 4: 1/63.
    #expect(fused.map(\.id) == [1, 3, 2, 4])
    #expect(abs(Double(fused[0].score) - (1.0 / 61 + 1.0 / 62)) < 1e-7)
    #expect(abs(Double(fused[1].score) - (1.0 / 63 + 1.0 / 61)) < 1e-7)
    #expect(abs(Double(fused[3].score) - 1.0 / 63) < 1e-7)
  }

  @Test("ties break by id, duplicates count at their best rank, limit applies")
  func ties() {
    let a = [Neighbor(id: 8, score: 1), Neighbor(id: 5, score: 0)]
    let b = [Neighbor(id: 5, score: 1), Neighbor(id: 8, score: 0)]
    // 8: 1/2 + 1/3; 5: 1/3 + 1/2 → equal, smaller id first.
    #expect(ReciprocalRankFusion(k: 1).fuse([a, b]).map(\.id) == [5, 8])
    #expect(ReciprocalRankFusion().fuse([a, b], limit: 1).map(\.id) == [5])
    // A repeated id keeps its first rank; later positions still count as ranks.
    let repeated = [Neighbor(id: 8, score: 1), Neighbor(id: 8, score: 1), Neighbor(id: 5, score: 0)]
    let fused = ReciprocalRankFusion(k: 1).fuse([repeated])
    #expect(fused.map(\.id) == [8, 5])
    #expect(abs(Double(fused[0].score) - 0.5) < 1e-7)
    #expect(abs(Double(fused[1].score) - 0.25) < 1e-7)
    #expect(ReciprocalRankFusion().fuse([]).isEmpty)
  }
}
