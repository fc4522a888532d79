public import ArgumentParser
import Foundation
public import TomeCore
import TomeIndex
import TomeKit

extension VectorIndexKind: ExpressibleByArgument {}

/// `--index-kind exact|hnsw|roar`, for the commands that search.
struct IndexKindOption: ParsableArguments {
  @Option(
    name: .customLong("index-kind"),
    help: ArgumentHelp(
      "Dense index: exact, hnsw or roar. Default: the graph chosen by `tome index build` (or by ingest past \(GraphStore.autoThreshold) vectors), else exact.",
      valueName: "kind"))
  var indexKind: VectorIndexKind?
}

/// Graph kinds as command-line choices.
enum GraphKindArgument: String, ExpressibleByArgument, CaseIterable {
  case hnsw, roar

  var kind: GraphIndex.Kind { self == .hnsw ? .hnsw : .roar }
}

/// `tome index build | status | drop`: the approximate vector index beside the SQLite file.
struct IndexCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "index",
    abstract: "Build, check or drop the graph vector index (HNSW or RoarGraph).",
    discussion: """
      Exact vector search reads every vector; above ~\(GraphStore.autoThreshold) chunks a proximity \
      graph answers in a fraction of the time, from a memory-mapped file beside tome.sqlite \
      (graph-hnsw.bin, graph-roar.bin). SQLite stays the source of truth: a graph that fails its \
      checks is rebuilt, and one older than the vectors is caught up, when a search opens it.

        tome index build                 # HNSW; search and ask use it from now on
        tome index build --kind roar     # RoarGraph, shaped by the questions asked so far
        tome index status                # kind, size, counts, stale or not, problems
        tome index drop                  # back to exact search
      """,
    subcommands: [IndexBuildCommand.self, IndexStatusCommand.self, IndexDropCommand.self])
}

struct IndexBuildCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "build",
    abstract: "Build a graph over every vector and make it the index's dense search.",
    discussion: """
      HNSW links each chunk to its nearest chunks; RoarGraph links chunks that are near \
      neighbours of the same question (RoarGraph, VLDB 2024), which routes questions better. \
      RoarGraph's training queries are the questions asked with `tome ask` (kept in the index); \
      when fewer than a tenth of the chunk count were asked, sentences drawn from chunks fill up.
      """)

  @Option(name: .long, help: "Graph kind: hnsw or roar.")
  var kind: GraphKindArgument = .hnsw

  @Option(name: .customLong("m"), help: "Links per node (HNSW's M; RoarGraph's projected degree).")
  var m = 16

  @Option(name: .customLong("ef-construction"), help: "Beam width while building.")
  var efConstruction = 200

  @Option(name: .customLong("ef-search"), help: "Default beam width of a search.")
  var efSearch = 64

  @OptionGroup var models: ModelOptions
  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func validate() throws {
    guard (2...128).contains(m) else { throw ValidationError("--m must be between 2 and 128 (got \(m))") }
    guard efConstruction >= 1 && efSearch >= 1 else { throw ValidationError("--ef-construction and --ef-search must be positive") }
  }

  func run() async throws {
    let collection = try Collection(location: index.location, create: false)
    var graphs = try GraphStore(collection: collection, parameters: .init(m: m, efConstruction: efConstruction, efSearch: efSearch))
    graphs.roar = .init(queryNeighbors: 100, connectivityBeam: efConstruction)
    let embedder = kind == .roar ? try models.directory.loadEncoder().embedder : nil
    let started = ContinuousClock.now
    let graph = try graphs.build(kind.kind, embedder: embedder) { if !output.quiet && !output.json { Terminal.error($0) } }
    let seconds = (ContinuousClock.now - started).seconds
    try GraphStore.choose(kind == .hnsw ? .hnsw : .roar, for: collection)
    let status = try graphs.status(kind.kind)
    if output.json {
      try Terminal.printJSON(IndexStatusJSON(status))
    } else if !output.quiet {
      print(String(format: "built %@ over %d vectors in %@ (%@, %d bytes per vector) → %@", kind.rawValue, graph.count,
        Terminal.duration(seconds), ByteCountFormatter.string(fromByteCount: Int64(status.bytes), countStyle: .file),
        status.bytes / max(1, graph.count), Terminal.displayPath(status.path)))
    }
  }
}

struct IndexStatusCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status", abstract: "Show each graph file: kind, size, counts, whether it is current, and problems.")

  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func run() async throws {
    let collection = try Collection(location: index.location, create: false)
    let chosen = try GraphStore.chosenKind(collection)
    guard try collection.vectors().encoder != nil else {
      if output.json { try Terminal.printJSON([IndexStatusJSON]()) } else { print("dense search: none (the index has no vectors)") }
      return
    }
    let graphs = try GraphStore(collection: collection)
    let statuses = try GraphIndex.Kind.allCases.map { try graphs.status($0) }
    if output.json {
      try Terminal.printJSON(statuses.map(IndexStatusJSON.init))
      return
    }
    print("dense search: \(chosen.rawValue)")
    for s in statuses {
      let name = s.kind == .hnsw ? "hnsw" : "roar"
      guard s.exists else {
        print("\(name): none")
        continue
      }
      var line = "\(name): \(Terminal.displayPath(s.path)), \(ByteCountFormatter.string(fromByteCount: Int64(s.bytes), countStyle: .file))"
      if let h = s.header {
        line += ", \(h.liveCount) vectors (\(h.nodeCount - h.liveCount) deleted), M \(h.parameters.m), efConstruction \(h.parameters.efConstruction)"
      }
      if s.stale { line += ", stale (caught up at the next search)" }
      if let p = s.problem { line += ", BAD: \(p) (rebuilt at the next search)" }
      print(line)
    }
  }
}

struct IndexDropCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "drop", abstract: "Delete graph files and go back to exact search.")

  @Option(name: .long, help: "Drop only this kind (default: both).")
  var kind: GraphKindArgument?

  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func run() async throws {
    let collection = try Collection(location: index.location, create: false)
    let kinds = kind.map { [$0] } ?? GraphKindArgument.allCases
    var dropped: [String] = []
    if try collection.vectors().encoder != nil {
      let graphs = try GraphStore(collection: collection)
      for k in kinds where try graphs.drop(k.kind) { dropped.append(k.rawValue) }
    }
    if kinds.map(\.rawValue).contains(try GraphStore.chosenKind(collection).rawValue) {
      try GraphStore.choose(nil, for: collection)
    }
    if !output.quiet {
      print(dropped.isEmpty ? "no graph to drop; dense search is exact" : "dropped \(dropped.joined(separator: ", ")); dense search is \(try GraphStore.chosenKind(collection).rawValue)")
    }
  }
}

/// JSON shape of one graph's status.
struct IndexStatusJSON: Encodable {
  var kind: String
  var path: String
  var exists: Bool
  var bytes: Int
  var vectors: Int?
  var deleted: Int?
  var m: Int?
  var efConstruction: Int?
  var stale: Bool
  var problem: String?

  init(_ s: GraphStore.Status) {
    kind = s.kind == .hnsw ? "hnsw" : "roar"
    path = s.path
    exists = s.exists
    bytes = s.bytes
    vectors = s.header?.liveCount
    deleted = s.header.map { $0.nodeCount - $0.liveCount }
    m = s.header?.parameters.m
    efConstruction = s.header?.parameters.efConstruction
    stale = s.stale
    problem = s.problem
  }
}
