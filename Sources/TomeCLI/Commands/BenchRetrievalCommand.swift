import ArgumentParser
import Foundation
import TomeBench
import TomeKit
import TomeCore
import TomeReasoning
import TomeReport

/// `tome bench retrieval`: recall@k, MRR and nDCG@10 per retrieval mode.
struct RetrievalBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "retrieval",
    abstract: "Recall@1/5/20, MRR and nDCG@10 (or FinanceBench evidence pages in the top 1/5/10) per retrieval mode.",
    discussion: """
      squad: every paragraph of a SQuAD v1.1 JSON file is a passage; each question's gold \
      passage is its paragraph. cranfield: the Cranfield 1400 folder (cran.all.1400, cran.qry, \
      cranqrel), graded judgements. The collection is written to a folder, ingested (with \
      embeddings) into a fresh index, and every query is run in each mode.

      financebench: a FinanceBench folder (txt/ filings with form-feed pages, questions.jsonl, \
      documents.jsonl). Reports how often a chunk on a gold evidence page is in the top 1/5/10, \
      separately for the tuning companies (even positions in name order) and the held-apart ones \
      (odd positions). --companies picks a subset; --work keeps the index and a vector cache so \
      a re-run re-embeds only text that changed.

      Examples:
        tome bench retrieval squad ../shared/data/squad-dev-half/squad-dev-v1.1-articles-00-23.json
        tome bench retrieval cranfield ../shared/data/cranfield --json cranfield.json
        tome bench retrieval cranfield ../shared/data/cranfield --plot cranfield.svg --report-html cranfield.html
        tome bench retrieval financebench ../shared/data/financebench-dev --companies 3M Amazon --work /tmp/fb
      """)

  enum Dataset: String, ExpressibleByArgument, CaseIterable {
    case squad, cranfield, financebench
  }

  @Argument(help: "Collection format: squad or cranfield.")
  var dataset: Dataset

  @Argument(help: "The SQuAD JSON file, or the Cranfield or FinanceBench folder.")
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

  @Option(name: .long, parsing: .upToNextOption, help: "financebench: only these companies (as in documents.jsonl).")
  var companies: [String] = []

  @Option(name: .long, help: ArgumentHelp("financebench: keep the index and vector cache in this folder and reuse them.", valueName: "dir"))
  var work: String?

  /// Which fusion settings a financebench run searches with.
  enum SettingsChoice: String, ExpressibleByArgument, CaseIterable {
    /// Those stored with the index (fitted by --fit), or the standard ones.
    case stored
    /// Equal weights, k 60, named documents searched first (the whole collection at ½ beside them).
    case standard
    /// Equal weights, k 60, the whole collection always (retrieval before issue 16).
    case unfocused
  }

  @Option(name: .long, help: "financebench: fusion settings to search with: stored, standard or unfocused.")
  var settings: SettingsChoice = .stored

  @Flag(
    name: .long,
    help: """
      Fit fusion settings on tuning questions. financebench: the tuning companies' questions, \
      stored with the index (in --work). squad, cranfield: BM25's weight (0–3) on the queries at \
      even positions; the rows are then the queries at odd positions, with a "hybrid fitted" row.
      """)
  var fit = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "financebench: also write, per question and mode, the rank of the first chunk on an evidence page among the first 50 (null: none) as JSON lines to this file.",
      valueName: "file"))
  var ranks: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Also re-rank each query's first N hits by the likelihood of the question after each passage (in-process model; 24–48 is typical).",
      valueName: "n"))
  var rerank: Int?

  @Flag(name: .customLong("kv-pages"), help: "With --rerank: store the chunks' KV pages first, so re-ranking reads only the questions.")
  var kvPages = false

  @Option(name: .long, help: ArgumentHelp("Folder of prompt templates (rerank-question.txt). Default: the repository's Prompts/.", valueName: "dir"))
  var prompts: String?

  @OptionGroup var model: ModelOptions

  func validate() throws {
    if let rerank, !(1...200).contains(rerank) { throw ValidationError("--rerank must be between 1 and 200 (got \(rerank))") }
    if kvPages && rerank == nil { throw ValidationError("--kv-pages is for --rerank") }
    if ranks != nil && dataset != .financebench { throw ValidationError("--ranks is for financebench") }
  }

  /// The re-ranking `--rerank` asks for over `collection` (pages built first with --kv-pages).
  func reranking(_ collection: Collection) throws -> RerankEvaluation? {
    guard let rerank else { return nil }
    let directory = prompts.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath, isDirectory: true) }
      ?? AnswerOptions.defaultPrompts(
        environment: ProcessInfo.processInfo.environment, executable: AnswerOptions.executableURL, workingDirectory: Terminal.workingDirectory)
    let reranker = try PassageReranker(library: PromptLibrary(directory: directory))
    let chatModel = try model.directory.loadChatModel()
    if kvPages {
      try KVCommand.build(collection: collection, model: chatModel, format: .int8, quiet: false)
    }
    return RerankEvaluation(reranker: reranker, model: chatModel, pages: kvPages ? KVPageStore(collection: collection) : nil, depth: rerank)
  }

  func run() async throws {
    print(SystemReport.kernelSummary)
    let url = URL(fileURLWithPath: (data as NSString).expandingTildeInPath)
    if dataset == .financebench {
      try runFinanceBench(folder: url)
      return
    }
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
    var fitted: FusionSettings?
    if fit {
      let (tuning, heldApart) = set.splitQueries()
      fitted = try FusionFit.best(of: FusionFit.bm25Grid, score: { candidate in
        var trial = evaluation
        trial.retriever.settings = candidate
        return try trial.evaluate(tuning, mode: .hybrid)
      }, key: { [$0.recallAt5, $0.mrr] }).settings
      Terminal.error(
        "fitted on \(tuning.queries.count) tuning queries (even positions): \(fitted?.summary ?? ""); rows: the \(heldApart.queries.count) held-apart ones")
      set = heldApart
    }
    var rows: [BenchRow] = []
    func measure(_ mode: RetrievalMode, _ evaluation: RetrievalEvaluation, name: String) throws {
      let start = ContinuousClock.now
      let metrics = try evaluation.evaluate(set, mode: mode)
      let seconds = (ContinuousClock.now - start).seconds
      rows.append(BenchRow(dataset: set.name, mode: name, metrics: metrics, millisecondsPerQuery: seconds * 1000 / Double(max(metrics.queries, 1))))
    }
    for mode in modes { try measure(mode, evaluation, name: mode.rawValue) }
    if let fitted {
      var withFitted = evaluation
      withFitted.retriever.settings = fitted
      try measure(.hybrid, withFitted, name: "hybrid fitted")
    }
    if let reranking = try reranking(collection) {
      let retriever = evaluation.retriever
      for mode in modes {
        let result = try reranking.evaluate(set, retriever: retriever, mode: mode) { done in
          if done % 25 == 0 { Terminal.error("re-ranking \(mode.rawValue): \(done)/\(set.queries.count)") }
        }
        let added = result.secondsPerQuery * 1000
        for (name, metrics) in [("+rerank", result.reranked), ("+fused", result.fused)] {
          rows.append(BenchRow(dataset: set.name, mode: mode.rawValue + name, metrics: metrics, millisecondsPerQuery: added))
        }
        Terminal.error(String(
          format: "re-ranked the first %d hits of %@: %.0f model tokens and %.0f ms per query, %.0f%% of passages from KV pages",
          reranking.depth, mode.rawValue, result.tokensPerQuery, added, result.pagedFraction * 100))
      }
    }
    print("dataset    mode           queries  R@1    R@5    R@20   MRR    nDCG@10  ms/query")
    for r in rows {
      let name = r.dataset.padding(toLength: 10, withPad: " ", startingAt: 0)
      let mode = r.mode.padding(toLength: 14, withPad: " ", startingAt: 0)
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

extension RetrievalBenchCommand {
  /// One line of the FinanceBench table.
  struct PageRow: Codable {
    var part: String
    var mode: String
    var recall: PageRecall
    var millisecondsPerQuery: Double
  }

  func runFinanceBench(folder: URL) throws {
    let bench = try FinanceBench.load(folder: folder, companies: companies.isEmpty ? nil : companies)
    var questions = bench.questions
    if let limit { questions = Array(questions.prefix(limit)) }
    let workURL = work.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
      ?? FileManager.default.temporaryDirectory.appendingPathComponent("tome-bench-\(UUID().uuidString)")
    defer { if work == nil { try? FileManager.default.removeItem(at: workURL) } }
    let companyCount = Set(bench.filings.map(\.company)).count
    Terminal.error("financebench: \(bench.filings.count) filings of \(companyCount) companies, \(questions.count) questions; indexing…")

    let collection = try Collection(location: IndexLocation(directory: workURL.appendingPathComponent("index")), create: true)
    let encoder = try model.directory.loadEncoder()
    var reported = 0
    let synced = try bench.index(into: collection, encoder: encoder, cacheURL: workURL.appendingPathComponent("vectors.sqlite")) { progress in
      guard case .embed(let state) = progress, state.done - reported >= 1000 else { return }
      reported = state.done
      Terminal.error(String(format: "embedding %d/%d chunks (%.1f chunks/s, %d from cache)", state.done, state.total, state.chunksPerSecond, state.cached))
    }
    let ingest = synced.ingest
    let embedded = synced.embedding?.embedded ?? 0, cached = synced.embedding?.cached ?? 0
    let embeddedTokens = synced.embedding?.tokens ?? 0, embeddingSeconds = synced.embedding?.elapsed.seconds ?? 0
    let totals = try collection.totals()
    Terminal.error(String(
      format: "index: %d chunks, %d tokens; ingest %.1fs, embedded %d chunks (%d from cache) at %.0f tokens/s",
      totals.chunks, totals.tokens, ingest.elapsed.seconds, embedded, cached,
      Double(embeddedTokens) / max(embeddingSeconds, 1e-9)))

    var retriever = try HybridRetriever(collection: collection, embedder: encoder.embedder)
    switch settings {
    case .stored: break
    case .standard: retriever.settings = .standard
    case .unfocused: retriever.settings = FusionSettings(documentFocus: nil)
    }
    if fit {
      let tuning = questions.filter { bench.part(of: $0.company) == .tuning }
      var fitter = retriever
      let fitted = try FusionFit.best { candidate in
        fitter.settings = candidate
        return try bench.pageRecall(of: tuning) { try fitter.search($0, k: 10, mode: .hybrid).results }
      }
      try collection.setFusionSettings(fitted.settings)
      retriever.settings = fitted.settings
      Terminal.error(
        "fitted on \(tuning.count) tuning questions: \(fitted.settings.summary) (top-5 \(fitted.recall.top5)/\(fitted.recall.questions)); stored with the index")
    }
    print("settings: \(retriever.settings.summary)")
    var rows: [PageRow] = []
    for part in FinanceBench.Part.allCases {
      let asked = questions.filter { bench.part(of: $0.company) == part }
      guard !asked.isEmpty else { continue }
      for mode in modes {
        var times: [Double] = []
        let recall = try bench.pageRecall(of: asked) { question in
          let start = ContinuousClock.now
          defer { times.append((ContinuousClock.now - start).seconds * 1000) }
          return try retriever.search(question, k: 10, mode: mode).results
        }
        let p50 = times.sorted()[times.count / 2]
        rows.append(PageRow(part: part.rawValue, mode: mode.rawValue, recall: recall, millisecondsPerQuery: p50))
      }
    }
    if let ranks { try writeRanks(bench: bench, questions: questions, retriever: retriever, to: URL(fileURLWithPath: ranks)) }
    if let reranking = try reranking(collection) {
      for part in FinanceBench.Part.allCases {
        let asked = questions.filter { bench.part(of: $0.company) == part }
        guard !asked.isEmpty else { continue }
        var orders: [String: (reranked: [SearchResult], fused: [SearchResult])] = [:]
        var times: [Double] = []
        for question in asked {
          let start = ContinuousClock.now
          let results = try retriever.search(question.text, k: 50, mode: .hybrid).results
          let o = try reranking.rerank(question.text, results)
          times.append((ContinuousClock.now - start).seconds * 1000)
          orders[question.text] = (o.reranked, o.fused)
        }
        let p50 = times.sorted()[times.count / 2]
        let reranked = try bench.pageRecall(of: asked) { orders[$0]?.reranked ?? [] }
        let fused = try bench.pageRecall(of: asked) { orders[$0]?.fused ?? [] }
        rows.append(PageRow(part: part.rawValue, mode: "hybrid+rerank", recall: reranked, millisecondsPerQuery: p50))
        rows.append(PageRow(part: part.rawValue, mode: "hybrid+fused", recall: fused, millisecondsPerQuery: p50))
      }
    }
    print("part        mode            questions  top-1        top-5        top-10       doc@1   p50 ms")
    for r in rows {
      func cell(_ n: Int) -> String { "\(n)/\(r.recall.questions)".padding(toLength: 6, withPad: " ", startingAt: 0) + String(format: " %.2f", r.recall.fraction(n)) }
      print(
        r.part.padding(toLength: 11, withPad: " ", startingAt: 0) + " " + r.mode.padding(toLength: 15, withPad: " ", startingAt: 0)
          + String(format: " %9d  ", r.recall.questions) + cell(r.recall.top1) + "  " + cell(r.recall.top5) + "  " + cell(r.recall.top10)
          + String(format: "  %.2f    %.1f", r.recall.fraction(r.recall.documentTop1), r.millisecondsPerQuery))
    }
    if let json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(rows).write(to: URL(fileURLWithPath: json))
    }
  }
}

extension RetrievalBenchCommand {
  /// One line of `--ranks`: where a question's evidence ranked in one mode.
  struct EvidenceRankLine: Encodable {
    var id: String
    var part: String
    var company: String
    var mode: String
    var question: String
    /// 0-based rank among the first 50 chunks; nil when no chunk on an evidence page is there.
    var rank: Int?
    var evidence: [String]

    enum CodingKeys: String, CodingKey { case id, part, company, mode, question, rank, evidence }

    /// Writes a missing rank as `null`, not by leaving the key out.
    func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(id, forKey: .id)
      try c.encode(part, forKey: .part)
      try c.encode(company, forKey: .company)
      try c.encode(mode, forKey: .mode)
      try c.encode(question, forKey: .question)
      try c.encode(rank, forKey: .rank)
      try c.encode(evidence, forKey: .evidence)
    }
  }

  /// Writes `--ranks`: the questions that miss the top 5, and how far they missed, are what the
  /// table's counts hide.
  func writeRanks(bench: FinanceBench, questions: [FinanceBench.Question], retriever: HybridRetriever, to url: URL) throws {
    var pages = EvidencePages()
    var lines: [String] = []
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    for question in questions {
      for mode in modes {
        let results = try retriever.search(question.text, k: 50, mode: mode).results
        let line = EvidenceRankLine(
          id: question.id, part: bench.part(of: question.company).rawValue, company: question.company, mode: mode.rawValue,
          question: question.text, rank: try pages.rank(of: question, in: results),
          evidence: question.evidence.map { "\($0.document) p. \($0.page + 1)" })
        lines.append(String(decoding: try encoder.encode(line), as: UTF8.self))
      }
    }
    try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
  }
}

/// One line of `tome bench retrieval` output.
struct BenchRow: Codable {
  var dataset: String
  var mode: String
  var metrics: RetrievalMetrics
  var millisecondsPerQuery: Double
}
