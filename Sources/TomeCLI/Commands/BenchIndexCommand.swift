import ArgumentParser
import Foundation
import TomeCore
import TomeIndex
import TomeKit

/// `tome bench index`: recall@10 against queries per second for the graph indexes on an index's
/// real vectors, with files for the hnswlib side of `Scripts/bench-index.sh`.
struct IndexBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "index",
    abstract: "Measure HNSW and RoarGraph against exact search on an index's vectors (recall@10 vs queries/s).",
    discussion: """
      Query sets: --id-queries takes the vectors of another index (chunks like the base's: \
      in-distribution); --ood-queries embeds one question per line (out-of-distribution). \
      --train-queries are kept in the index as asked questions, RoarGraph's training queries. \
      Ground truth is exact search over the same stored vectors. --out receives the vectors, \
      queries and truth as raw little-endian files (for hnswlib) and results.json. \
      --first-query KIND instead times opening the index and answering one query, as a fresh \
      process does. Run with OPENBLAS_NUM_THREADS=1 for one-thread numbers.
      """)

  @Option(name: .long, help: ArgumentHelp("Output folder.", valueName: "dir"))
  var out: String

  @Option(name: .long, help: ArgumentHelp("Index whose vectors are in-distribution queries.", valueName: "name|path"))
  var idQueries: String?

  @Option(name: .long, help: ArgumentHelp("Questions, one per line: out-of-distribution queries.", valueName: "file"))
  var oodQueries: String?

  @Option(name: .long, help: ArgumentHelp("Questions, one per line, kept as RoarGraph training queries.", valueName: "file"))
  var trainQueries: String?

  @Option(name: .long, help: "Queries per set.")
  var limit = 1_000

  @Option(name: .long, parsing: .upToNextOption, help: "Graph kinds to build and measure.")
  var kinds: [GraphKindArgument] = [.hnsw, .roar]

  @Option(name: .customLong("m"), help: "M for both graphs.")
  var m = 16

  @Option(name: .customLong("ef-construction"), help: "efConstruction (and RoarGraph's connectivity beam).")
  var efConstruction = 200

  @Option(name: .long, help: "Beam widths to sweep, comma-separated.")
  var ef = "10,16,24,32,48,64,96,128,192,256,384"

  @Option(name: .long, help: "Timed passes over each query set per beam width; the fastest counts (the results are the same).")
  var repeats = 3

  @Flag(name: .long, help: "Measure the graph files already built instead of building.")
  var reuse = false

  @Option(name: .customLong("first-query"), help: ArgumentHelp("Only time open + one query with this index kind.", valueName: "kind"))
  var firstQuery: VectorIndexKind?

  @OptionGroup var models: ModelOptions
  @OptionGroup var index: IndexOptions

  func run() async throws {
    let processStart = ContinuousClock.now
    let collection = try Collection(location: index.location, create: false)
    let outURL = URL(fileURLWithPath: out, isDirectory: true)
    try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
    if let firstQuery {
      try timeFirstQuery(collection, kind: firstQuery, out: outURL, start: processStart)
      return
    }
    let graphs = try GraphStore(collection: collection, parameters: .init(m: m, efConstruction: efConstruction))
    let d = graphs.dimension
    let (ids, base) = try collection.allVectors(dimension: d)
    var flat = FlatIndex(dimension: d)
    flat.add(ids: ids.map(\.rawValue), vectors: base)
    try write(flat.vectors, to: outURL.appendingPathComponent("base.f32"))
    try write(flat.ids, to: outURL.appendingPathComponent("base.ids"))
    Terminal.error("base: \(flat.count) vectors of dimension \(d)")

    var sets: [(name: String, queries: EmbeddingMatrix)] = []
    if let idQueries {
      let cwd = Terminal.workingDirectory
      let other = try Collection(location: IndexLocation(argument: idQueries, workingDirectory: cwd), create: false)
      let (_, matrix) = try other.allVectors(dimension: d)
      var rng = SeededGenerator(seed: 15)
      let rows = Array(0..<matrix.count).shuffled(using: &rng).prefix(limit)
      var picked = EmbeddingMatrix(dimension: d)
      for r in rows { picked.append(row: matrix[row: r]) }
      sets.append(("id", picked))
    }
    if let oodQueries {
      let lines = try String(contentsOfFile: oodQueries, encoding: .utf8).split(separator: "\n").map(String.init).prefix(limit)
      sets.append(("ood", try embedCached(Array(lines), name: "ood-queries", out: outURL)))
    }
    if let trainQueries, kinds.contains(.roar), !reuse {
      let lines = try String(contentsOfFile: trainQueries, encoding: .utf8).split(separator: "\n").map(String.init)
      try collection.replaceTrainingQueries(with: lines)
      Terminal.error("kept \(lines.count) training queries")
    }
    var truths: [String: [[Int64]]] = [:]
    var results = BenchIndexJSON(vectors: flat.count, dimension: d, m: m, efConstruction: efConstruction)
    for set in sets {
      try write(set.queries.values, to: outURL.appendingPathComponent("\(set.name)-queries.f32"))
      let started = ContinuousClock.now
      var truth: [[Int64]] = []
      for r in 0..<set.queries.count { truth.append(flat.search(query: Array(set.queries[row: r]), k: 10).map(\.id)) }
      let seconds = (ContinuousClock.now - started).seconds
      truths[set.name] = truth
      try write(truth.flatMap { $0 + Array(repeating: -1, count: 10 - $0.count) }, to: outURL.appendingPathComponent("\(set.name)-truth.i64"))
      results.curves.append(.init(index: "exact", queries: set.name, ef: 0, recall: 1, queriesPerSecond: Double(set.queries.count) / seconds))
    }

    let beams = ef.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    for kind in kinds {
      if !reuse {
        let started = ContinuousClock.now
        var builder = graphs
        builder.roar = .init(queryNeighbors: 100, connectivityBeam: efConstruction)
        let embedder = kind == .roar ? try models.directory.loadEncoder().embedder : nil
        try builder.build(kind.kind, embedder: embedder) { Terminal.error($0) }
        results.builds.append(.init(index: kind.rawValue, seconds: (ContinuousClock.now - started).seconds))
      }
      let (graph, header) = try GraphFile.open(graphs.url(kind.kind), verifyVectors: true)
      let bytes = (try FileManager.default.attributesOfItem(atPath: graphs.url(kind.kind).path)[.size] as? Int) ?? 0
      results.files.append(.init(index: kind.rawValue, bytes: bytes, bytesPerVector: Double(bytes) / Double(max(1, header.liveCount))))
      for set in sets {
        let queries = (0..<set.queries.count).map { Array(set.queries[row: $0]) }
        guard let truth = truths[set.name] else { continue }
        for beam in beams {
          var seconds = Double.infinity
          var hits: [[Neighbor]] = []
          for _ in 0..<max(1, repeats) {
            let started = ContinuousClock.now
            hits = queries.map { graph.search(query: $0, k: 10, ef: beam, filter: nil) }
            seconds = min(seconds, (ContinuousClock.now - started).seconds)
          }
          var found = 0
          for (h, t) in zip(hits, truth) { found += Set(h.map(\.id)).intersection(t).count }
          let recall = Double(found) / Double(truth.reduce(0) { $0 + $1.count })
          results.curves.append(.init(index: kind.rawValue, queries: set.name, ef: beam, recall: recall, queriesPerSecond: Double(queries.count) / seconds))
          Terminal.error(String(format: "%@ %@ ef %d: recall@10 %.4f, %.0f q/s", kind.rawValue, set.name, beam, recall, Double(queries.count) / seconds))
        }
      }
    }
    let data = try JSONEncoder.benchIndex.encode(results)
    try data.write(to: outURL.appendingPathComponent("tome-results.json"))
    print(String(decoding: data, as: UTF8.self))
  }

  /// Question vectors, embedded once and kept in `out` (re-embedded when the count changes).
  func embedCached(_ lines: [String], name: String, out: URL) throws -> EmbeddingMatrix {
    let file = out.appendingPathComponent("\(name).cache.f32")
    let encoder = try models.directory.loadEncoder().embedder
    if let data = try? Data(contentsOf: file), data.count == lines.count * encoder.dimension * 4 {
      let values = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
      return EmbeddingMatrix(dimension: encoder.dimension, values: values)
    }
    var matrix = EmbeddingMatrix(dimension: encoder.dimension)
    var start = 0
    while start < lines.count {
      let end = min(lines.count, start + 64)
      let part = try encoder.embed(passages: Array(lines[start..<end]))
      for r in 0..<part.count { matrix.append(row: part[row: r]) }
      start = end
    }
    try write(matrix.values, to: file)
    return matrix
  }

  /// Opens the dense index of `kind` the way `tome search` does and answers one query (a stored
  /// vector, so no encoder is loaded): what a fresh process pays before its first answer.
  func timeFirstQuery(_ collection: Collection, kind: VectorIndexKind, out: URL, start: ContinuousClock.Instant) throws {
    let dimension = try GraphStore(collection: collection).dimension
    let opened = ContinuousClock.now
    let index: any VectorIndex
    if let graphKind = kind.graphKind {
      index = try GraphStore(collection: collection).load(graphKind, embedder: nil) { Terminal.error($0) }.graph
    } else {
      let (ids, matrix) = try collection.allVectors(dimension: dimension)
      var flat = FlatIndex(dimension: dimension)
      flat.add(ids: ids.map(\.rawValue), vectors: matrix)
      index = flat
    }
    let loaded = ContinuousClock.now
    let query = try collection.vectors(ids: [ChunkID(1)], dimension: dimension).values.first ?? [Float](repeating: 0.05, count: dimension)
    let hits = index.search(query: query, k: 10)
    let done = ContinuousClock.now
    print(String(format: "{\"kind\":\"%@\",\"openMs\":%.2f,\"firstQueryMs\":%.3f,\"sinceStartMs\":%.2f,\"hits\":%d,\"maxRSSKiB\":%d}",
      kind.rawValue, (loaded - opened).seconds * 1000, (done - loaded).seconds * 1000, (done - start).seconds * 1000, hits.count, Self.maxRSS()))
  }

  static func maxRSS() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss
  }

  func write<T>(_ values: [T], to url: URL) throws {
    try values.withUnsafeBytes { try Data($0).write(to: url) }
  }
}

/// `results.json` of `tome bench index`.
struct BenchIndexJSON: Encodable {
  struct Point: Encodable {
    var index: String
    var queries: String
    var ef: Int
    var recall: Double
    var queriesPerSecond: Double
  }
  struct Build: Encodable {
    var index: String
    var seconds: Double
  }
  struct File: Encodable {
    var index: String
    var bytes: Int
    var bytesPerVector: Double
  }
  var vectors: Int
  var dimension: Int
  var m: Int
  var efConstruction: Int
  var curves: [Point] = []
  var builds: [Build] = []
  var files: [File] = []
}

extension JSONEncoder {
  static var benchIndex: JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .prettyPrinted]
    return e
  }
}
