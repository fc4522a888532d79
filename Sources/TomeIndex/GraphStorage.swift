import Foundation
import Synchronization

/// A typed array living in memory the graph owns (malloc) or in a private file mapping.
///
/// Graph files are mapped, not read: a process answers its first query touching only the pages
/// that query visits. The mapping is private and writable, so a mapped graph can still take
/// tombstones in place (the kernel copies the touched pages; the file never changes); growth
/// moves the array to owned memory.
struct Region<Element> {
  private(set) var base: UnsafeMutablePointer<Element>
  private(set) var capacity: Int
  /// Whether `base` was allocated here (and must be freed), rather than pointing into a mapping.
  private(set) var owned: Bool

  init(capacity: Int) {
    base = .allocate(capacity: max(capacity, 1))
    self.capacity = capacity
    owned = true
  }

  /// Views `capacity` elements at `pointer` inside a mapping kept alive elsewhere.
  init(mapped pointer: UnsafeMutablePointer<Element>, capacity: Int) {
    base = pointer
    self.capacity = capacity
    owned = false
  }

  /// Makes room for at least `needed` elements, keeping the first `used`.
  mutating func reserve(_ needed: Int, used: Int) {
    guard needed > capacity else { return }
    let grown = max(needed, capacity * 2, 16)
    let fresh = UnsafeMutablePointer<Element>.allocate(capacity: grown)
    fresh.moveInitialize(from: base, count: used)
    if owned { base.deallocate() }
    base = fresh
    capacity = grown
    owned = true
  }

  /// A deep copy holding the first `used` elements, in owned memory.
  func copy(used: Int) -> Region {
    var r = Region(capacity: max(capacity, used))
    r.base.initialize(from: base, count: used)
    r.capacity = max(capacity, used)
    return r
  }

  func free() { if owned { base.deallocate() } }

  @inline(__always) subscript(i: Int) -> Element {
    get { base[i] }
    nonmutating set { base[i] = newValue }
  }
}

/// A read-write private mapping of a whole file, unmapped when the last user goes.
final class FileMapping: Sendable {
  nonisolated(unsafe) let base: UnsafeMutableRawPointer
  let length: Int

  /// Maps `url` privately (copy-on-write).
  /// - Throws: `GraphFileError.unreadable` when the file cannot be opened or mapped.
  init(url: URL) throws(GraphFileError) {
    let fd = open(url.path, O_RDONLY)
    guard fd >= 0 else { throw .unreadable(url.path, String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .unreadable(url.path, String(cString: strerror(errno))) }
    length = Int(info.st_size)
    guard length > 0 else { throw .corrupt(url.path, "empty file") }
    guard let p = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      throw .unreadable(url.path, String(cString: strerror(errno)))
    }
    base = p
  }

  deinit { munmap(base, length) }
}

/// The mutable state of a proximity graph: vectors, ids, per-node levels, tombstones and links.
///
/// Slots are dense node numbers in insertion order; ids are the caller's (chunk ids). Layer-0
/// links are a fixed-stride table (`[count, n₁ … n_cap]` per slot) so a search reads one
/// contiguous record per node; upper-layer links (on about 1/M of the nodes) live in a
/// dictionary. This class is only mutated through a uniquely referenced `GraphIndex`
/// (copy-on-write), which is why sharing it across threads is safe.
final class GraphStorage: @unchecked Sendable {
  let dimension: Int
  /// Link capacity on layers ≥ 1 (HNSW's M).
  let maxDegree: Int
  /// Link capacity on layer 0 (2M for HNSW, the projected plus supply degree for RoarGraph).
  let maxDegree0: Int
  var count = 0
  var liveCount = 0
  var vectors: Region<Float16>
  var ids: Region<Int64>
  var levels: Region<UInt8>
  var deleted: Region<UInt8>
  var links0: Region<UInt32>
  /// slot → links on layers 1…level (index l − 1).
  var upper: [UInt32: [[UInt32]]] = [:]
  /// Entry slot of every search; nil while empty.
  var entry: UInt32?
  var maxLevel = 0
  /// Keeps the mapping alive while regions point into it.
  var mapping: FileMapping?
  let visited = VisitedPool()
  /// id → slot, built on first use (deletes, small filtered searches), dropped on any change.
  let slotIndex = Mutex<[Int64: UInt32]?>(nil)

  var stride0: Int { maxDegree0 + 1 }

  init(dimension: Int, maxDegree: Int, maxDegree0: Int, capacity: Int) {
    self.dimension = dimension
    self.maxDegree = maxDegree
    self.maxDegree0 = maxDegree0
    vectors = Region(capacity: capacity * dimension)
    ids = Region(capacity: capacity)
    levels = Region(capacity: capacity)
    deleted = Region(capacity: capacity)
    links0 = Region(capacity: capacity * (maxDegree0 + 1))
  }

  /// Storage over regions that point into `mapping`.
  init(
    dimension: Int, maxDegree: Int, maxDegree0: Int, count: Int, vectors: Region<Float16>, ids: Region<Int64>,
    levels: Region<UInt8>, deleted: Region<UInt8>, links0: Region<UInt32>, mapping: FileMapping
  ) {
    self.dimension = dimension
    self.maxDegree = maxDegree
    self.maxDegree0 = maxDegree0
    self.count = count
    self.vectors = vectors
    self.ids = ids
    self.levels = levels
    self.deleted = deleted
    self.links0 = links0
    self.mapping = mapping
  }

  deinit {
    vectors.free()
    ids.free()
    levels.free()
    deleted.free()
    links0.free()
  }

  /// A deep copy in owned memory (the copy in copy-on-write).
  func copy() -> GraphStorage {
    let c = GraphStorage(dimension: dimension, maxDegree: maxDegree, maxDegree0: maxDegree0, capacity: 0)
    c.vectors.free()
    c.ids.free()
    c.levels.free()
    c.deleted.free()
    c.links0.free()
    c.vectors = vectors.copy(used: count * dimension)
    c.ids = ids.copy(used: count)
    c.levels = levels.copy(used: count)
    c.deleted = deleted.copy(used: count)
    c.links0 = links0.copy(used: count * stride0)
    c.count = count
    c.liveCount = liveCount
    c.upper = upper
    c.entry = entry
    c.maxLevel = maxLevel
    return c
  }

  /// Makes room for `extra` more slots.
  func reserve(extra: Int) {
    let n = count + extra
    vectors.reserve(n * dimension, used: count * dimension)
    ids.reserve(n, used: count)
    levels.reserve(n, used: count)
    deleted.reserve(n, used: count)
    links0.reserve(n * stride0, used: count * stride0)
  }

  @inline(__always) func vector(_ slot: UInt32) -> UnsafeMutablePointer<Float16> {
    vectors.base + Int(slot) * dimension
  }

  @inline(__always) func isDeleted(_ slot: UInt32) -> Bool { deleted[Int(slot)] != 0 }

  /// The links of `slot` on `level`.
  func links(_ slot: UInt32, level: Int) -> [UInt32] {
    if level == 0 {
      let p = links0.base + Int(slot) * stride0
      return Array(UnsafeBufferPointer(start: p + 1, count: Int(p[0])))
    }
    return upper[slot]?[level - 1] ?? []
  }

  /// Replaces the links of `slot` on `level`.
  func setLinks(_ slot: UInt32, level: Int, _ list: [UInt32]) {
    if level == 0 {
      precondition(list.count <= maxDegree0, "\(list.count) links on layer 0 (capacity \(maxDegree0))")
      let p = links0.base + Int(slot) * stride0
      p[0] = UInt32(list.count)
      for (i, n) in list.enumerated() { p[1 + i] = n }
    } else {
      precondition(list.count <= maxDegree, "\(list.count) links on layer \(level) (capacity \(maxDegree))")
      upper[slot]![level - 1] = list
    }
  }

  /// Calls `body` with each layer-0 neighbour of `slot` without allocating.
  @inline(__always)
  func forEachLink0(_ slot: UInt32, _ body: (UInt32) -> Void) {
    let p = links0.base + Int(slot) * stride0
    let n = Int(p[0])
    for i in 0..<n { body(p[1 + i]) }
  }

  /// The live slot of `id`, if any (built lazily; O(n) the first time).
  func slot(of id: Int64) -> UInt32? {
    slotIndex.withLock { map in
      if map == nil {
        var m: [Int64: UInt32] = [:]
        m.reserveCapacity(count)
        for s in 0..<count where deleted[s] == 0 { m[ids[s]] = UInt32(s) }
        map = m
      }
      return map![id]
    }
  }

  func invalidateSlotIndex() { slotIndex.withLock { $0 = nil } }
}
