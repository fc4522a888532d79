public import Foundation
import Glibc
import TomeCore

/// Why a graph file could not be used.
public enum GraphFileError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file cannot be opened, mapped or read (missing, permissions).
  case unreadable(String, String)
  /// The file is not a graph this build wrote, or its contents fail verification.
  case corrupt(String, String)
  /// The file cannot be written.
  case unwritable(String, String)

  public var description: String {
    switch self {
    case .unreadable(let path, let why): return "\(path): cannot read graph: \(why)"
    case .corrupt(let path, let why): return "\(path): bad graph file: \(why)"
    case .unwritable(let path, let why): return "\(path): cannot write graph: \(why)"
    }
  }
}

/// The on-disk form of a `GraphIndex`: one file, memory-mapped when opened.
///
/// Layout (little-endian): a 4 KiB header, then page-aligned sections: ids (Int64 per node),
/// levels (UInt8), tombstones (UInt8), vectors (Float16, n × d), the layer-0 link table
/// (UInt32, n × (1 + degree0)), and the upper-layer links as a UInt32 stream of
/// `slot, level, then per layer: count, links…`. The header carries the counts, parameters,
/// section bounds, a checksum of the header, one of the structure (everything but the vectors)
/// and one of the vectors, plus an opaque `source` string in which the caller records what
/// the graph was built from (TomeKit: the encoder and the SQLite vectors generation).
///
/// Opening checks the header, the structure checksum and every link's range, but not the vector
/// checksum: reading every vector is exactly what mapping avoids, so the caller spot-checks
/// vectors against their source instead and `verifyVectors` is there for a full check.
/// Writing goes to a temporary file in the same folder, synced, then renamed over the old
/// file: a crash leaves either the old graph or the new one.
public enum GraphFile {
  static let magic: [UInt8] = Array("TOMEGRPH".utf8)
  static let version: UInt32 = 1
  static let headerSize = 4_096
  static let page = 4_096
  static let maxSourceBytes = 2_048
  static let headerChecksumOffset = headerSize - 8

  /// Writes `graph` to `url` atomically (temporary file, fsync, rename, fsync of the folder).
  /// - Throws: `GraphFileError.unwritable`.
  public static func write(_ graph: GraphIndex, source: String, to url: URL) throws(GraphFileError) {
    let s = graph.storage
    let n = s.count
    let sourceBytes = Array(source.utf8)
    guard sourceBytes.count <= maxSourceBytes else { throw .unwritable(url.path, "source string too long") }
    var upperStream: [UInt32] = []
    for slot in 0..<UInt32(n) {
      guard let lists = s.upper[slot], !lists.isEmpty else { continue }
      upperStream.append(slot)
      upperStream.append(UInt32(lists.count))
      for list in lists {
        upperStream.append(UInt32(list.count))
        upperStream += list
      }
    }
    let lengths = [n * 8, n, n, n * s.dimension * 2, n * s.stride0 * 4, upperStream.count * 4]
    var offsets: [Int] = []
    var at = headerSize
    for length in lengths {
      offsets.append(at)
      at += (length + page - 1) / page * page
    }
    let total = at

    let sections: [UnsafeRawBufferPointer] = upperStream.withUnsafeBytes { upperBytes in
      [
        UnsafeRawBufferPointer(start: s.ids.base, count: lengths[0]),
        UnsafeRawBufferPointer(start: s.levels.base, count: lengths[1]),
        UnsafeRawBufferPointer(start: s.deleted.base, count: lengths[2]),
        UnsafeRawBufferPointer(start: s.vectors.base, count: lengths[3]),
        UnsafeRawBufferPointer(start: s.links0.base, count: lengths[4]),
        UnsafeRawBufferPointer(start: upperBytes.baseAddress, count: lengths[5]),
      ]
    }
    // `upperStream` is kept alive below while its section is written.
    var header = [UInt8](repeating: 0, count: headerSize)
    header.withUnsafeMutableBytes { h in
      h.copyBytes(from: magic)
      h.storeBytes(of: version.littleEndian, toByteOffset: 8, as: UInt32.self)
      h.storeBytes(of: graph.kind.rawValue.littleEndian, toByteOffset: 12, as: UInt32.self)
      h.storeBytes(of: UInt32(s.dimension).littleEndian, toByteOffset: 16, as: UInt32.self)
      h.storeBytes(of: UInt32(s.maxDegree).littleEndian, toByteOffset: 20, as: UInt32.self)
      h.storeBytes(of: UInt32(s.maxDegree0).littleEndian, toByteOffset: 24, as: UInt32.self)
      h.storeBytes(of: UInt32(graph.parameters.efConstruction).littleEndian, toByteOffset: 28, as: UInt32.self)
      h.storeBytes(of: UInt32(graph.parameters.efSearch).littleEndian, toByteOffset: 32, as: UInt32.self)
      h.storeBytes(of: UInt32(s.maxLevel).littleEndian, toByteOffset: 36, as: UInt32.self)
      h.storeBytes(of: UInt64(n).littleEndian, toByteOffset: 40, as: UInt64.self)
      h.storeBytes(of: UInt64(s.liveCount).littleEndian, toByteOffset: 48, as: UInt64.self)
      h.storeBytes(of: (s.entry.map { UInt64($0) } ?? .max).littleEndian, toByteOffset: 56, as: UInt64.self)
      h.storeBytes(of: graph.parameters.seed.littleEndian, toByteOffset: 64, as: UInt64.self)
      for i in 0..<6 {
        h.storeBytes(of: UInt64(offsets[i]).littleEndian, toByteOffset: 72 + 16 * i, as: UInt64.self)
        h.storeBytes(of: UInt64(lengths[i]).littleEndian, toByteOffset: 80 + 16 * i, as: UInt64.self)
      }
      var structure = Checksum()
      for i in [0, 1, 2, 4, 5] { structure.add(sections[i]) }
      var vectors = Checksum()
      vectors.add(sections[3])
      h.storeBytes(of: structure.value.littleEndian, toByteOffset: 168, as: UInt64.self)
      h.storeBytes(of: vectors.value.littleEndian, toByteOffset: 176, as: UInt64.self)
      h.storeBytes(of: UInt32(sourceBytes.count).littleEndian, toByteOffset: 184, as: UInt32.self)
      UnsafeMutableRawBufferPointer(rebasing: h[188..<(188 + sourceBytes.count)]).copyBytes(from: sourceBytes)
      var whole = Checksum()
      whole.add(UnsafeRawBufferPointer(rebasing: h[0..<headerChecksumOffset]))
      h.storeBytes(of: whole.value.littleEndian, toByteOffset: headerChecksumOffset, as: UInt64.self)
    }

    let folder = url.deletingLastPathComponent()
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    let fd = Glibc.open(temporary.path, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
    guard fd >= 0 else { throw .unwritable(temporary.path, String(cString: strerror(errno))) }
    var failure: String?
    func put(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
      var done = 0
      while done < bytes.count, failure == nil {
        let w = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
        if w < 0 {
          if errno == EINTR { continue }
          failure = String(cString: strerror(errno))
        } else {
          done += w
        }
      }
    }
    header.withUnsafeBytes { put($0, at: 0) }
    withExtendedLifetime(upperStream) {
      for (i, section) in sections.enumerated() where section.count > 0 { put(section, at: offsets[i]) }
    }
    if failure == nil && ftruncate(fd, off_t(total)) != 0 { failure = String(cString: strerror(errno)) }
    if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
    close(fd)
    if let failure {
      unlink(temporary.path)
      throw .unwritable(url.path, failure)
    }
    guard rename(temporary.path, url.path) == 0 else {
      let why = String(cString: strerror(errno))
      unlink(temporary.path)
      throw .unwritable(url.path, why)
    }
    let dirfd = Glibc.open(folder.path, O_RDONLY)
    if dirfd >= 0 {
      fsync(dirfd)
      close(dirfd)
    }
  }

  /// What a graph file says about itself, from its header alone.
  public struct Header: Sendable, Equatable {
    public var kind: GraphIndex.Kind
    public var dimension: Int
    public var nodeCount: Int
    public var liveCount: Int
    public var parameters: GraphIndex.Parameters
    public var degree0: Int
    /// The caller's record of what the graph was built from.
    public var source: String
  }

  /// Maps the graph at `url` and verifies it (header, structure checksum, link ranges; the
  /// vectors too when `verifyVectors`).
  /// - Throws: `GraphFileError.unreadable` or `.corrupt`.
  public static func open(_ url: URL, verifyVectors: Bool = false) throws(GraphFileError) -> (graph: GraphIndex, header: Header) {
    let mapping = try FileMapping(url: url)
    let path = url.path
    let raw = UnsafeRawBufferPointer(start: mapping.base, count: mapping.length)
    guard raw.count >= headerSize else { throw .corrupt(path, "shorter than its header") }
    guard Array(raw[0..<8]) == magic else { throw .corrupt(path, "not a Tome graph (magic)") }
    func u32(_ o: Int) -> Int { Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self))) }
    func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
    var whole = Checksum()
    whole.add(UnsafeRawBufferPointer(rebasing: raw[0..<headerChecksumOffset]))
    guard whole.value == u64(headerChecksumOffset) else { throw .corrupt(path, "header checksum mismatch") }
    guard u32(8) == version else { throw .corrupt(path, "format version \(u32(8)), expected \(version)") }
    guard let kind = GraphIndex.Kind(rawValue: UInt32(u32(12))) else { throw .corrupt(path, "unknown kind \(u32(12))") }
    let dimension = u32(16), m = u32(20), degree0 = u32(24)
    let efConstruction = u32(28), efSearch = u32(32), maxLevel = u32(36)
    let n = Int(u64(40)), live = Int(u64(48)), entryRaw = u64(56), seed = u64(64)
    guard dimension > 0, m >= 2, m <= 255, degree0 >= 1, efConstruction >= 1, efSearch >= 1, maxLevel <= 32, live <= n,
      n < Int(UInt32.max)
    else { throw .corrupt(path, "implausible header values") }
    var offsets: [Int] = []
    var lengths: [Int] = []
    for i in 0..<6 {
      offsets.append(Int(u64(72 + 16 * i)))
      lengths.append(Int(u64(80 + 16 * i)))
    }
    let expected = [n * 8, n, n, n * dimension * 2, n * (degree0 + 1) * 4]
    for i in 0..<5 where lengths[i] != expected[i] { throw .corrupt(path, "section \(i) has \(lengths[i]) bytes, expected \(expected[i])") }
    for i in 0..<6 {
      guard offsets[i] >= headerSize, offsets[i] % page == 0, offsets[i] + lengths[i] <= raw.count, lengths[5] % 4 == 0 else {
        throw .corrupt(path, "section \(i) lies outside the file (truncated?)")
      }
    }
    func section(_ i: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: raw[offsets[i]..<(offsets[i] + lengths[i])]) }
    var structure = Checksum()
    for i in [0, 1, 2, 4, 5] { structure.add(section(i)) }
    guard structure.value == u64(168) else { throw .corrupt(path, "structure checksum mismatch") }
    if verifyVectors {
      var vectors = Checksum()
      vectors.add(section(3))
      guard vectors.value == u64(176) else { throw .corrupt(path, "vector checksum mismatch") }
    }
    let sourceLength = u32(184)
    guard sourceLength <= maxSourceBytes else { throw .corrupt(path, "source string too long") }
    let source = String(decoding: raw[188..<(188 + sourceLength)], as: UTF8.self)

    let base = mapping.base
    let storage = GraphStorage(
      dimension: dimension, maxDegree: m, maxDegree0: degree0, count: n,
      vectors: Region(mapped: (base + offsets[3]).assumingMemoryBound(to: Float16.self), capacity: n * dimension),
      ids: Region(mapped: (base + offsets[0]).assumingMemoryBound(to: Int64.self), capacity: n),
      levels: Region(mapped: (base + offsets[1]).assumingMemoryBound(to: UInt8.self), capacity: n),
      deleted: Region(mapped: (base + offsets[2]).assumingMemoryBound(to: UInt8.self), capacity: n),
      links0: Region(mapped: (base + offsets[4]).assumingMemoryBound(to: UInt32.self), capacity: n * (degree0 + 1)),
      mapping: mapping)
    // Never trust a link: a target out of range would read outside the mapping.
    var liveSeen = 0
    for v in 0..<n {
      if storage.deleted[v] == 0 { liveSeen += 1 } else if storage.deleted[v] != 1 { throw .corrupt(path, "bad tombstone byte") }
      if Int(storage.levels[v]) > maxLevel { throw .corrupt(path, "node level above the maximum") }
      let p = storage.links0.base + v * (degree0 + 1)
      guard Int(p[0]) <= degree0 else { throw .corrupt(path, "layer-0 list over capacity") }
      for i in 0..<Int(p[0]) where Int(p[1 + i]) >= n { throw .corrupt(path, "link out of range") }
    }
    guard liveSeen == live else { throw .corrupt(path, "live count \(live) but \(liveSeen) live nodes") }
    let stream = section(5).bindMemory(to: UInt32.self)
    var i = 0
    func next() throws(GraphFileError) -> Int {
      guard i < stream.count else { throw .corrupt(path, "upper links truncated") }
      defer { i += 1 }
      return Int(UInt32(littleEndian: stream[i]))
    }
    while i < stream.count {
      let slot = try next()
      let levels = try next()
      guard slot < n, levels == Int(storage.levels[slot]), levels >= 1 else { throw .corrupt(path, "upper links disagree with levels") }
      var lists: [[UInt32]] = []
      for _ in 0..<levels {
        let c = try next()
        guard c <= m else { throw .corrupt(path, "upper list over capacity") }
        var list: [UInt32] = []
        for _ in 0..<c {
          let t = try next()
          guard t < n else { throw .corrupt(path, "link out of range") }
          list.append(UInt32(t))
        }
        lists.append(list)
      }
      storage.upper[UInt32(slot)] = lists
    }
    let withUpper = (0..<n).filter { storage.levels[$0] > 0 }.count
    guard withUpper == storage.upper.count else { throw .corrupt(path, "upper links missing for some nodes") }
    if n > 0 {
      guard entryRaw < UInt64(n), Int(storage.levels[Int(entryRaw)]) == maxLevel else { throw .corrupt(path, "bad entry node") }
      storage.entry = UInt32(entryRaw)
    } else {
      guard entryRaw == .max else { throw .corrupt(path, "entry in an empty graph") }
    }
    storage.maxLevel = maxLevel
    storage.liveCount = live
    let parameters = GraphIndex.Parameters(m: m, efConstruction: efConstruction, efSearch: efSearch, seed: seed)
    let graph = GraphIndex(kind: kind, parameters: parameters, storage: storage)
    let header = Header(kind: kind, dimension: dimension, nodeCount: n, liveCount: live, parameters: parameters, degree0: degree0, source: source)
    return (graph, header)
  }
}
