public import TomeCore

/// Keeps the `k` best neighbours seen so far: a binary min-heap on (score, then reversed id),
/// so the root is always the worst kept hit.
///
/// Order is total and deterministic: a higher score wins; on equal scores the smaller id wins.
public struct TopK: Sendable {
  /// How many neighbours to keep.
  public let k: Int
  private var heap: [Neighbor] = []

  public init(k: Int) {
    precondition(k >= 0, "k must not be negative")
    self.k = k
    heap.reserveCapacity(k)
  }

  /// Whether `a` ranks before `b`: higher score first, then smaller id.
  @inline(__always)
  public static func ranksBefore(_ a: Neighbor, _ b: Neighbor) -> Bool {
    a.score != b.score ? a.score > b.score : a.id < b.id
  }

  /// The score a new hit must beat to enter (−∞ while fewer than k are kept).
  public var threshold: Float { heap.count < k ? -.infinity : heap[0].score }

  /// Offers one hit.
  /// - Complexity: O(log k).
  @inline(__always)
  public mutating func insert(_ n: Neighbor) {
    guard k > 0 else { return }
    if heap.count < k {
      heap.append(n)
      siftUp(heap.count - 1)
    } else if Self.ranksBefore(n, heap[0]) {
      heap[0] = n
      siftDown(0)
    }
  }

  /// The kept hits, best first.
  /// - Complexity: O(k log k).
  public func sorted() -> [Neighbor] { heap.sorted(by: Self.ranksBefore) }

  private mutating func siftUp(_ start: Int) {
    var i = start
    while i > 0 {
      let parent = (i - 1) / 2
      // Min-heap on rank: the parent must rank after (be worse than) the child.
      guard Self.ranksBefore(heap[parent], heap[i]) else { break }
      heap.swapAt(parent, i)
      i = parent
    }
  }

  private mutating func siftDown(_ start: Int) {
    var i = start
    let n = heap.count
    while true {
      let l = 2 * i + 1
      let r = l + 1
      var worst = i
      if l < n, Self.ranksBefore(heap[worst], heap[l]) { worst = l }
      if r < n, Self.ranksBefore(heap[worst], heap[r]) { worst = r }
      if worst == i { return }
      heap.swapAt(i, worst)
      i = worst
    }
  }
}
