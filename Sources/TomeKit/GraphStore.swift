public import Foundation
public import TomeCore
public import TomeIndex
import TomeStore

/// The graph files of an index (`graph-hnsw.bin`, `graph-roar.bin` beside `tome.sqlite`) and
/// their upkeep from SQLite, which stays the source of truth.
///
/// A graph file records, in its header, the encoder, the dimension, the database's random
/// `index_uuid` and the vectors generation it was built at. Opening one:
/// - a file that fails verification (magic, checksums, counts, link ranges), belongs to another
///   encoder or database, or whose sampled vectors differ from SQLite's is **rebuilt** from
///   SQLite: never trusted;
/// - a file of an older generation is **caught up**: vectors added since are inserted, removed
///   ones tombstoned (repaired when tombstones pile up), and the file rewritten; when more than a
///   quarter of the graph changed, it is rebuilt instead (faster, and better linked).
/// Writes go through `GraphFile.write` (temporary file, rename), so a killed build leaves the old
/// graph usable.
public struct GraphStore: Sendable {
  public let collection: Collection
  /// The encoder the index's vectors come from.
  public let encoder: String
  public let dimension: Int
  /// Graph construction parameters for builds and rebuilds.
  public var parameters: GraphIndex.Parameters
  public var roar: RoarGraphBuilder.Configuration
  /// Vectors checked against SQLite when a current graph is opened.
  public var spotChecks = 16

  /// - Throws: `RetrievalError.noVectors` when the index has no vectors yet.
  public init(
    collection: Collection, parameters: GraphIndex.Parameters = .init(), roar: RoarGraphBuilder.Configuration = .init()
  ) throws {
    self.collection = collection
    guard let encoder = try collection.store.meta(.encoder), let d = try collection.store.meta(.encoderDimension).flatMap(Int.init)
    else { throw RetrievalError.noVectors(collection.location.directory.path) }
    self.encoder = encoder
    self.dimension = d
    self.parameters = parameters
    self.roar = roar
  }

  /// The file of one graph kind.
  public func url(_ kind: GraphIndex.Kind) -> URL {
    collection.location.directory.appendingPathComponent(kind == .hnsw ? "graph-hnsw.bin" : "graph-roar.bin")
  }

  /// What opening a graph did.
  public enum Outcome: Sendable, Equatable {
    /// Verified and current.
    case opened
    /// Stale, brought up to date in place.
    case caughtUp(inserted: Int, removed: Int)
    /// Built from SQLite, for the reason given (missing, corrupt, stale past catching up…).
    case rebuilt(reason: String)
  }

  /// A graph ready to search, and how it got so.
  public struct Loaded: Sendable {
    public var graph: GraphIndex
    public var outcome: Outcome
  }

  /// The header's record of what a graph was built from.
  func source(generation: Int64) throws -> String {
    let uuid = try collection.store.meta(.indexUUID) ?? "none"
    return "tome encoder=\(encoder) dimension=\(dimension) index=\(uuid) generation=\(generation) links=\(Self.linkRule)"
  }

  /// The version of the linking rules, recorded in the source. 2: ties go to the newer node and
  /// inserts link with the stored vector; graphs linked by version 1 (no field) left duplicate
  /// chunks, and whole regions behind them, unreachable (11,049 of 305,211 nodes), so they are
  /// rebuilt rather than trusted.
  static let linkRule = 2

  /// Why a graph whose header says `source` cannot serve this index; nil when it can.
  func mismatch(_ recorded: String) throws -> String? {
    let built = Self.generation(in: recorded) ?? -1
    let expected = try source(generation: built)
    if recorded == expected { return nil }
    func withoutLinkRule(_ source: String) -> [Substring] { source.split(separator: " ").filter { !$0.hasPrefix("links=") } }
    if withoutLinkRule(recorded) == withoutLinkRule(expected) {
      return "graph linked by an older Tome's rules (duplicate chunks left unreachable)"
    }
    return "graph built for another index or encoder (\(recorded))"
  }

  static func generation(in source: String) -> Int64? {
    guard let field = source.split(separator: " ").first(where: { $0.hasPrefix("generation=") }) else { return nil }
    return Int64(field.dropFirst("generation=".count))
  }

  /// Opens the graph of `kind`, verified and current, rebuilding or catching it up as needed
  /// (and saying which). A RoarGraph rebuild needs `embedder` for its training queries; without
  /// one it is built from the kept queries' absence (connectivity only).
  public func load(_ kind: GraphIndex.Kind, embedder: (any TextEmbedder)?, log: (String) -> Void = { _ in }) throws -> Loaded {
    let file = url(kind)
    guard FileManager.default.fileExists(atPath: file.path) else {
      return Loaded(graph: try build(kind, embedder: embedder, log: log), outcome: .rebuilt(reason: "no graph file"))
    }
    let store = collection.store
    let generation = try store.vectorsGeneration()
    let opened: (graph: GraphIndex, header: GraphFile.Header)
    do {
      opened = try GraphFile.open(file)
    } catch {
      log("\(error); rebuilding from SQLite")
      return Loaded(graph: try build(kind, embedder: embedder, log: log), outcome: .rebuilt(reason: "\(error)"))
    }
    var graph = opened.graph
    let built = Self.generation(in: opened.header.source) ?? -1
    let problem = try mismatch(opened.header.source)
    guard opened.header.kind == kind, opened.header.dimension == dimension, problem == nil else {
      let why = problem ?? "graph of another kind or dimension"
      log("\(file.path): \(why); rebuilding")
      return Loaded(graph: try build(kind, embedder: embedder, log: log), outcome: .rebuilt(reason: why))
    }
    if built == generation {
      if let mismatch = try spotCheck(graph) {
        log("\(file.path): \(mismatch); rebuilding")
        return Loaded(graph: try build(kind, embedder: embedder, log: log), outcome: .rebuilt(reason: mismatch))
      }
      return Loaded(graph: graph, outcome: .opened)
    }
    // Stale: diff the ids against SQLite.
    let stored = Set(try store.vectorIDs().map(\.rawValue))
    let present = Set(graph.ids)
    var inserted = stored.subtracting(present)
    let removed = present.subtracting(stored)
    // SQLite gives a new row max(rowid) + 1, so a deleted top chunk's id can come back with
    // other text: re-check the vectors of the highest common ids and of those above the lowest
    // new one.
    let common = stored.intersection(present)
    let lowestNew = inserted.min() ?? .max
    let suspects = Array(common.filter { $0 >= lowestNew }) + common.sorted().suffix(64)
    let fresh = try store.vectors(ids: suspects.map(ChunkID.init), dimension: dimension)
    for id in Set(suspects) {
      guard let a = fresh[ChunkID(id)], let b = graph.vector(id: id) else { continue }
      if !Self.close(a, b) { inserted.insert(id) }
    }
    if inserted.count + removed.count > max(64, graph.count / 4) {
      let why = "\(inserted.count) vectors added and \(removed.count) removed since the graph was built"
      log("\(file.path): \(why); rebuilding")
      return Loaded(graph: try build(kind, embedder: embedder, log: log), outcome: .rebuilt(reason: why))
    }
    for id in removed { graph.remove(id: id) }
    let added = try store.vectors(ids: inserted.sorted().map(ChunkID.init), dimension: dimension)
    for id in inserted.sorted() {
      guard let v = added[ChunkID(id)] else { continue }
      graph.insert(id: id, vector: v)
    }
    if graph.needsRepair() { graph.repair() }
    try GraphFile.write(graph, source: try source(generation: generation), to: file)
    return Loaded(graph: graph, outcome: .caughtUp(inserted: inserted.count, removed: removed.count))
  }

  /// Equal within half-float rounding of a renormalised vector.
  static func close(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 2e-3 }
  }

  /// Compares a seeded sample of the graph's vectors with SQLite's; a reason when they differ.
  func spotCheck(_ graph: GraphIndex) throws -> String? {
    let ids = graph.ids
    guard !ids.isEmpty else { return nil }
    var rng = SeededGenerator(seed: UInt64(ids.count))
    let sample = (0..<min(spotChecks, ids.count)).map { _ in ids[Int.random(in: 0..<ids.count, using: &rng)] }
    let stored = try collection.store.vectors(ids: sample.map(ChunkID.init), dimension: dimension)
    for id in sample {
      guard let v = stored[ChunkID(id)] else { return "chunk \(id) is in the graph but has no vector in SQLite" }
      guard let g = graph.vector(id: id), Self.close(v, g) else { return "the vector of chunk \(id) differs from SQLite's" }
    }
    return nil
  }

  /// Builds the graph of `kind` from every vector in SQLite and writes it.
  ///
  /// RoarGraph's training queries are the kept questions (`queries` table); when there are
  /// fewer than `minimumTrainingQueries`, sentences drawn from sampled chunks are kept as
  /// generated queries first (see `QueryGeneration`).
  @discardableResult
  public func build(_ kind: GraphIndex.Kind, embedder: (any TextEmbedder)?, log: (String) -> Void = { _ in }) throws -> GraphIndex {
    let store = collection.store
    let generation = try store.vectorsGeneration()
    let (ids, matrix) = try store.allVectors(dimension: dimension)
    let raw = ids.map(\.rawValue)
    let started = ContinuousClock.now
    var graph: GraphIndex
    switch kind {
    case .hnsw:
      graph = GraphIndex(kind: .hnsw, dimension: dimension, parameters: parameters)
      graph.insert(ids: raw, vectors: matrix)
    case .roar:
      let queries = try trainingQueries(embedder: embedder, vectorCount: raw.count, log: log)
      log("RoarGraph: \(raw.count) vectors, \(queries.count) training queries")
      graph = RoarGraphBuilder.build(ids: raw, vectors: matrix, trainingQueries: queries, parameters: parameters, configuration: roar)
    }
    log("built \(kind == .hnsw ? "HNSW" : "RoarGraph") over \(raw.count) vectors in \(ContinuousClock.now - started)")
    try GraphFile.write(graph, source: try source(generation: generation), to: url(kind))
    return graph
  }

  /// Enough training queries for a RoarGraph over `vectorCount` vectors: a tenth of them,
  /// between 200 and 20,000 (the paper reports that a tenth still builds a good graph).
  public static func minimumTrainingQueries(vectorCount: Int) -> Int { min(20_000, max(200, vectorCount / 10)) }

  /// The kept queries, embedded; generated ones are added first when too few were asked.
  func trainingQueries(embedder: (any TextEmbedder)?, vectorCount: Int, log: (String) -> Void) throws -> EmbeddingMatrix {
    guard let embedder else { return EmbeddingMatrix(dimension: dimension) }
    let store = collection.store
    var kept = try store.queries()
    let wanted = Self.minimumTrainingQueries(vectorCount: vectorCount)
    if kept.count < wanted {
      let texts = try store.sampleChunkTexts(count: (wanted - kept.count) * 2, seed: 0x70AE)
      let generated = QueryGeneration.queries(from: texts, count: wanted - kept.count, seed: 0x70AE)
      try store.addQueries(generated, source: .generated)
      kept = try store.queries()
      log("\(kept.filter { $0.source == .asked }.count) asked queries kept; generated \(generated.count) from chunk sentences")
    }
    var matrix = EmbeddingMatrix(dimension: dimension)
    let texts = kept.map(\.text)
    var start = 0
    while start < texts.count {
      let end = min(texts.count, start + 64)
      let part = try embedder.embed(passages: Array(texts[start..<end]))
      for r in 0..<part.count { matrix.append(row: part[row: r]) }
      start = end
    }
    return matrix
  }

  /// Removes the graph file of `kind`; returns whether there was one.
  @discardableResult
  public func drop(_ kind: GraphIndex.Kind) throws -> Bool {
    let file = url(kind)
    guard FileManager.default.fileExists(atPath: file.path) else { return false }
    try FileManager.default.removeItem(at: file)
    return true
  }

  /// The state of one graph file, for `tome index status`.
  public struct Status: Sendable {
    public var kind: GraphIndex.Kind
    public var path: String
    public var exists: Bool
    public var bytes: Int
    public var header: GraphFile.Header?
    /// Whether SQLite's vectors changed since the build.
    public var stale: Bool
    /// Why the file cannot be used, when it cannot.
    public var problem: String?
  }

  /// Checks the file of `kind` fully (vectors too) without changing it.
  public func status(_ kind: GraphIndex.Kind) throws -> Status {
    let file = url(kind)
    var status = Status(kind: kind, path: file.path, exists: false, bytes: 0, header: nil, stale: false, problem: nil)
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: file.path) else { return status }
    status.exists = true
    status.bytes = (attributes[.size] as? Int) ?? 0
    do {
      let opened = try GraphFile.open(file, verifyVectors: true)
      status.header = opened.header
      let built = Self.generation(in: opened.header.source) ?? -1
      if let problem = try mismatch(opened.header.source) {
        status.problem = problem
      } else {
        status.stale = built != (try collection.store.vectorsGeneration())
        status.problem = try spotCheck(opened.graph)
      }
    } catch let error as GraphFileError {
      status.problem = "\(error)"
    }
    return status
  }
}

/// Generated training queries for RoarGraph when users have asked too few questions.
///
/// A sentence of a chunk, embedded on its own, lands nearer a question about that chunk than
/// the whole chunk does (it is short and about one thing), and it costs no model call. It is
/// still passage text, not a question: asked questions are kept first, and these only fill up
/// to the minimum. An LLM-written question per chunk (doc2query) would be closer to real
/// questions and costs about a second of generation per chunk on this hardware.
public enum QueryGeneration {
  /// Up to `count` sentences of 6–40 words, at most one per text, in a seeded order.
  public static func queries(from texts: [String], count: Int, seed: UInt64) -> [String] {
    var rng = SeededGenerator(seed: seed)
    var out: [String] = []
    for text in texts where out.count < count {
      var sentences: [String] = []
      var current: [Substring] = []
      // Sentence ends: a word ending in . ? or ! (abbreviations split too; harmless here).
      for word in text.split(whereSeparator: { $0.isWhitespace }) {
        current.append(word)
        if let last = word.last, ".?!".contains(last) {
          if current.count >= 6 && current.count <= 40 && current.contains(where: { $0.count > 3 && $0.allSatisfy(\.isLetter) }) {
            sentences.append(current.joined(separator: " "))
          }
          current = []
        }
      }
      if let pick = sentences.randomElement(using: &rng) { out.append(pick) }
    }
    return out
  }
}

extension GraphStore {
  /// Vectors from which ingest builds an HNSW graph by itself; below it exact search costs a
  /// few milliseconds per query and loading every vector well under a second.
  public static let autoThreshold = 20_000

  /// The dense index a search uses when none is asked for: the graph kind recorded in the index
  /// (by `tome index build`, or by ingest past `autoThreshold`), else exact.
  public static func chosenKind(_ collection: Collection) throws -> VectorIndexKind {
    try collection.store.meta(.vectorIndex).flatMap(VectorIndexKind.init(rawValue:)) ?? .exact
  }

  /// Keeps the graph in step after an ingest: the chosen graph is caught up (or rebuilt, see
  /// `load`); with none chosen, an HNSW graph is built once the index passes `autoThreshold`.
  /// - Returns: what happened, or nil when the index stays on exact search.
  public func maintain(embedder: (any TextEmbedder)?, log: (String) -> Void = { _ in }) throws -> (GraphIndex.Kind, Outcome)? {
    let chosen = try Self.chosenKind(collection)
    if let kind = chosen.graphKind {
      return (kind, try load(kind, embedder: embedder, log: log).outcome)
    }
    guard try collection.store.vectorCount() >= Self.autoThreshold else { return nil }
    try build(.hnsw, embedder: embedder, log: log)
    try collection.store.setMeta(.vectorIndex, VectorIndexKind.hnsw.rawValue)
    return (.hnsw, .rebuilt(reason: "the index passed \(Self.autoThreshold) vectors"))
  }
}

extension VectorIndexKind {
  /// The graph kind, or nil for exact search.
  public var graphKind: GraphIndex.Kind? {
    switch self {
    case .exact: nil
    case .hnsw: .hnsw
    case .roar: .roar
    }
  }
}

extension Collection {
  /// Keeps a question asked of this index: the training queries of a RoarGraph
  /// (`tome index build --kind roar`) are the questions users asked.
  public func recordAskedQuestion(_ question: String) throws {
    try store.addQueries([question], source: .asked)
  }
}

extension GraphStore {
  /// Makes `kind` the dense index of `search`, `ask` and the other answering commands (nil or
  /// `.exact`: exact search).
  public static func choose(_ kind: VectorIndexKind?, for collection: Collection) throws {
    try collection.store.setMeta(.vectorIndex, kind == .exact ? nil : kind?.rawValue)
  }
}

extension Collection {
  /// Every stored vector with its chunk, in chunk order (what exact search loads).
  public func allVectors(dimension: Int) throws -> (ids: [ChunkID], matrix: EmbeddingMatrix) {
    try store.allVectors(dimension: dimension)
  }

  /// The stored vectors of `ids` (those that have one).
  public func vectors(ids: [ChunkID], dimension: Int) throws -> [ChunkID: [Float]] {
    try store.vectors(ids: ids, dimension: dimension)
  }

  /// Replaces every kept question with `questions`, as asked ones (a benchmark's training set).
  public func replaceTrainingQueries(with questions: [String]) throws {
    try store.removeQueries(source: nil)
    try store.addQueries(questions, source: .asked)
  }
}
