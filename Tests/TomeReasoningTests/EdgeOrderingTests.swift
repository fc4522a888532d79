import Testing
import TomeCore
import TomeReasoning

@Suite struct EdgeOrderingTests {
  /// Hand-checked against the position rule of Jin et al. (odd i → slot (i+1)/2, even i →
  /// slot (k+1) − i/2).
  @Test("edge placement of 1…7 passages", arguments: [
    (1, [1]), (2, [1, 2]), (3, [1, 3, 2]), (4, [1, 3, 4, 2]), (5, [1, 3, 5, 4, 2]),
    (6, [1, 3, 5, 6, 4, 2]), (7, [1, 3, 5, 7, 6, 4, 2]),
  ])
  func edge(count: Int, expected: [Int]) {
    #expect(EdgeOrdering.edge.apply(Array(1...count)) == expected)
    #expect(EdgeOrdering.edge.ranks(count: count) == expected)
    // Best first, second best last (right before the question).
    #expect(EdgeOrdering.edge.apply(Array(1...count)).first == 1)
    if count > 1 { #expect(EdgeOrdering.edge.apply(Array(1...count)).last == 2) }
  }

  @Test("rank order leaves passages alone; empty input stays empty")
  func rank() {
    #expect(EdgeOrdering.rank.apply(Array(1...7)) == Array(1...7))
    #expect(EdgeOrdering.edge.apply([Int]()) == [])
  }
}
