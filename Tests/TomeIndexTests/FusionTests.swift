import Testing
import TomeCore
import TomeIndex

@Suite struct FusionTests {
  @Test("weighted reciprocal rank fusion matches a hand computation")
  func weightedFusion() {
    let a = [Neighbor(id: 1, score: 0), Neighbor(id: 2, score: 0)]
    let b = [Neighbor(id: 2, score: 0), Neighbor(id: 3, score: 0)]
    let fusion = ReciprocalRankFusion(k: 10)
    let fused = fusion.fuse([a, b], weights: [0.5, 1])
    // 1: 0.5/11; 2: 0.5/12 + 1/11; 3: 1/12.
    #expect(fused.map(\.id) == [2, 3, 1])
    #expect(abs(Double(fused[0].score) - (0.5 / 12 + 1.0 / 11)) < 1e-6)
    #expect(fusion.fuse([a, b], weights: [0, 1]).map(\.id) == [2, 3])
    #expect(fusion.fuse([a, b]) == fusion.fuse([a, b], weights: [1, 1]))
  }
}
