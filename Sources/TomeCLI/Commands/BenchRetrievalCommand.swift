import ArgumentParser
import Foundation
import TomeBench
import TomeKit
import TomeReport

/// `tome bench retrieval`: recall@k, MRR and nDCG@10 per retrieval mode.
struct RetrievalBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "retrieval",
    abstract: "Recall@1/5/20, MRR and nDCG@10 of bm25, dense and hybrid search on a test collection.",
    discussion: """
      squad: every paragraph of a SQuAD v1.1 JSON file is a passage; each question's gold \
      passage is its paragraph. cranfield: the Cranfield 1400 folder (cran.all.1400, cran.qry, \
      cranqrel), graded judgements. The collection is written to a folder, ingested (with \
      embeddings) into a fresh index, and every query is run in each mode.

      Examples:
        tome bench retrieval squad ../shared/data/squad-dev-half/squad-dev-v1.1-articles-00-23.json
        tome bench retrieval cranfield ../shared/data/cranfield --json cranfield.json
        tome bench retrieval cranfield ../shared/data/cranfield --plot cranfield.svg --report-html cranfield.html
      """)

  enum Dataset: String, ExpressibleByArgument, CaseIterable {
    case squad, cranfield
  }

  @Argument(help: "Collection format: squad or cranfield.")
  var dataset: Dataset

  @Argument(help: "The SQuAD JSON file, or the Cranfield folder.")
  var data: String

  @Option(name: .long, parsing: .upToNextOption, help: "Modes to evaluate.")
  var modes: [RetrievalMode] = RetrievalMode.allCases

  @Option(name: .long, help: "Only the first N queries (all by default).")
  var limit: Int?

  @Option(name: .long, help: ArgumentHelp("Also write the results as JSON to this file.", valueName: "file"))
  var json: String?

  @Option(name: .long, help: ArgumentHelp("Write grouped bars of R@1/R@5/MRR/nDCG@10 per mode as SVG to this file.", valueName: "file.svg"))
  var plot: String?

  @Option(name: .customLong("report-html"), help: ArgumentHelp("Write an HTML report (chart, table, command) to this file.", valueName: "file.html"))
  var reportHTML: String?

  @OptionGroup var model: ModelOptions

  func run() async throws {
    print(SystemReport.kernelSummary)
    let url = URL(fileURLWithPath: (data as NSString).expandingTildeInPath)
    var set = try dataset == .squad ? RetrievalDataset.squad(at: url) : RetrievalDataset.cranfield(folder: url)
    if let limit { set.queries = Array(set.queries.prefix(limit)) }
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("tome-bench-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: work) }
    let docs = work.appendingPathComponent(set.name)
    try set.materialise(in: docs)
    Terminal.error("\(set.name): \(set.documents.count) documents, \(set.queries.count) queries; indexing…")

    let collection = try Collection(location: IndexLocation(directory: work.appendingPathComponent("index")), create: true)
    let encoder = try model.directory.loadEncoder()
    let synced = try collection.sync(paths: [docs], encoder: encoder)
    let embedding = synced.embedding
    Terminal.error(String(
      format: "indexed %d chunks in %.1fs, embedded at %.0f tokens/s", synced.ingest.chunks, synced.ingest.elapsed.seconds,
      Double(embedding?.tokens ?? 0) / max(embedding?.elapsed.seconds ?? 0, 1e-9)))

    let evaluation = RetrievalEvaluation(retriever: try HybridRetriever(collection: collection, embedder: encoder.embedder))
    var rows: [BenchRow] = []
    for mode in modes {
      let start = ContinuousClock.now
      let metrics = try evaluation.evaluate(set, mode: mode)
      let seconds = (ContinuousClock.now - start).seconds
      rows.append(BenchRow(dataset: set.name, mode: mode.rawValue, metrics: metrics, millisecondsPerQuery: seconds * 1000 / Double(max(metrics.queries, 1))))
    }
    print("dataset    mode     queries  R@1    R@5    R@20   MRR    nDCG@10  ms/query")
    for r in rows {
      let name = r.dataset.padding(toLength: 10, withPad: " ", startingAt: 0)
      let mode = r.mode.padding(toLength: 8, withPad: " ", startingAt: 0)
      print(String(
        format: "%@ %@ %7d  %.3f  %.3f  %.3f  %.3f  %.3f    %.1f", name, mode, r.metrics.queries,
        r.metrics.recallAt1, r.metrics.recallAt5, r.metrics.recallAt20, r.metrics.mrr, r.metrics.ndcgAt10, r.millisecondsPerQuery))
    }
    if let json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(rows).write(to: URL(fileURLWithPath: json))
    }
    let chart = Self.chart(rows, dataset: set.name)
    if let plot {
      try chart.svg().write(to: URL(fileURLWithPath: plot), atomically: true, encoding: .utf8)
    }
    if let reportHTML {
      let page = HTMLReport(
        title: "tome bench retrieval \(set.name)", command: Terminal.commandLine(),
        details: ["\(set.documents.count) documents, \(set.queries.count) queries."],
        sections: [
          .init(
            title: "Retrieval quality per mode", svg: chart.svg(),
            table: .init(
              header: ["mode", "queries", "R@1", "R@5", "R@20", "MRR", "nDCG@10", "ms/query"],
              rows: rows.map { r in
                [r.mode, "\(r.metrics.queries)"]
                  + [r.metrics.recallAt1, r.metrics.recallAt5, r.metrics.recallAt20, r.metrics.mrr, r.metrics.ndcgAt10].map {
                    String(format: "%.3f", $0)
                  } + [String(format: "%.1f", r.millisecondsPerQuery)]
              }))
        ])
      try page.html().write(to: URL(fileURLWithPath: reportHTML), atomically: true, encoding: .utf8)
    }
  }

  /// Grouped bars: modes × (R@1, R@5, MRR, nDCG@10).
  static func chart(_ rows: [BenchRow], dataset: String) -> BarChart {
    BarChart(
      title: "Retrieval on \(dataset)", subtitle: "\(rows.first?.metrics.queries ?? 0) queries",
      categories: rows.map(\.mode), series: ["R@1", "R@5", "MRR", "nDCG@10"],
      values: rows.map { [$0.metrics.recallAt1, $0.metrics.recallAt5, $0.metrics.mrr, $0.metrics.ndcgAt10] },
      yLabel: "score", yMaximum: 1, digits: 3)
  }
}

/// One line of `tome bench retrieval` output.
struct BenchRow: Codable {
  var dataset: String
  var mode: String
  var metrics: RetrievalMetrics
  var millisecondsPerQuery: Double
}
