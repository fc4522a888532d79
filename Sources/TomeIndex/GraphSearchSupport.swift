import Synchronization

/// A graph node seen during search: its slot and its distance to the query (smaller is nearer;
/// the graph indexes use distance = −inner product).
struct Candidate: Sendable {
  var distance: Float
  var slot: UInt32

  /// Total order: nearer first, then the later-inserted (higher) slot, so builds and searches
  /// are deterministic.
  ///
  /// Ties are exact duplicates (boilerplate chunks repeat by the hundred in real collections).
  /// Preferring the older twin sent every link into a duplicate group to its first member and
  /// left the rest, and through later pruning whole regions, with no in-links: 11,049 of 305,211
  /// nodes were unreachable on layer 0. Preferring the newer one, as hnswlib's heaps happen to,
  /// spreads the links over the group: 15 unreachable, the same as hnswlib on the same vectors.
  @inline(__always)
  static func nearer(_ a: Candidate, _ b: Candidate) -> Bool {
    a.distance != b.distance ? a.distance < b.distance : a.slot > b.slot
  }
}

/// A binary heap of candidates whose root is the nearest (`nearestFirst`) or the farthest.
///
/// Graph search keeps two: a nearest-first queue of nodes to expand and a farthest-first bounded
/// result set whose root is the distance a new node must beat.
struct CandidateHeap {
  private(set) var items: [Candidate] = []
  /// True: the root is the nearest candidate; false: the farthest.
  let nearestFirst: Bool

  init(nearestFirst: Bool, capacity: Int = 0) {
    self.nearestFirst = nearestFirst
    items.reserveCapacity(capacity)
  }

  var count: Int { items.count }
  var isEmpty: Bool { items.isEmpty }
  /// The root: nearest or farthest, by the heap's order.
  var top: Candidate { items[0] }

  @inline(__always)
  private func above(_ a: Candidate, _ b: Candidate) -> Bool {
    nearestFirst ? Candidate.nearer(a, b) : Candidate.nearer(b, a)
  }

  /// - Complexity: O(log n).
  mutating func push(_ c: Candidate) {
    items.append(c)
    var i = items.count - 1
    while i > 0 {
      let parent = (i - 1) / 2
      guard above(items[i], items[parent]) else { break }
      items.swapAt(i, parent)
      i = parent
    }
  }

  /// Removes and returns the root.
  /// - Complexity: O(log n).
  @discardableResult
  mutating func pop() -> Candidate {
    let root = items[0]
    let last = items.removeLast()
    if !items.isEmpty {
      items[0] = last
      var i = 0
      let n = items.count
      while true {
        let l = 2 * i + 1
        let r = l + 1
        var best = i
        if l < n, above(items[l], items[best]) { best = l }
        if r < n, above(items[r], items[best]) { best = r }
        if best == i { break }
        items.swapAt(i, best)
        i = best
      }
    }
    return root
  }

  /// The items, nearest first.
  func sortedNearestFirst() -> [Candidate] { items.sorted(by: Candidate.nearer) }
}

/// Marks of visited slots for one search, cleared in O(1) by bumping a generation tag.
///
/// A search over a 200k-node graph visits a few thousand nodes; clearing a 200k-entry array per
/// query would cost more than the search, so each entry holds the tag of the search that last
/// visited it and a new search only increments the tag (the array is zeroed when it wraps).
/// Unchecked `Sendable`: a set is used by one search at a time, handed out and taken back by
/// `VisitedPool` under its lock.
final class VisitedSet: @unchecked Sendable {
  /// Raw memory, not an array: a class's array property is checked for exclusive access and
  /// bounds on every mark, once per visited node of every search.
  private var tags: UnsafeMutablePointer<UInt16>
  private var capacity: Int
  private var current: UInt16 = 0

  init(capacity: Int) {
    self.capacity = max(capacity, 1)
    tags = .allocate(capacity: self.capacity)
    tags.initialize(repeating: 0, count: self.capacity)
  }

  deinit { tags.deallocate() }

  /// Prepares for a new search over `count` slots.
  func reset(count: Int) {
    if capacity < count {
      // Doubling: a build resets for one more slot per insert, and growing by exactly one
      // would copy the whole array every time.
      let size = max(count, capacity * 2)
      let grown = UnsafeMutablePointer<UInt16>.allocate(capacity: size)
      grown.initialize(from: tags, count: capacity)
      (grown + capacity).initialize(repeating: 0, count: size - capacity)
      tags.deallocate()
      tags = grown
      capacity = size
    }
    if current == UInt16.max {
      tags.update(repeating: 0, count: capacity)
      current = 0
    }
    current += 1
  }

  /// This search's marks, as a value the search loop holds in registers.
  var marks: VisitedMarks { VisitedMarks(tags: tags, current: current) }
}

/// The marks of one search: the tag array and this search's tag.
struct VisitedMarks {
  fileprivate let tags: UnsafeMutablePointer<UInt16>
  fileprivate let current: UInt16

  /// Marks `slot`; returns false when it was already marked in this search.
  /// - Precondition: `slot` is below the `count` the set was reset for.
  @inline(__always)
  func insert(_ slot: UInt32) -> Bool {
    let p = tags + Int(slot)
    if p.pointee == current { return false }
    p.pointee = current
    return true
  }
}

/// Visited sets reused across searches, so concurrent searches of one index each get their own
/// without allocating per query.
final class VisitedPool: Sendable {
  private let free = Mutex<[VisitedSet]>([])

  /// Runs `body` with the marks of a visited set prepared for `count` slots.
  func with<T>(count: Int, _ body: (VisitedMarks) throws -> T) rethrows -> T {
    let set = free.withLock { $0.popLast() } ?? VisitedSet(capacity: count)
    set.reset(count: count)
    defer { free.withLock { $0.append(set) } }
    return try withExtendedLifetime(set) { try body(set.marks) }
  }
}
