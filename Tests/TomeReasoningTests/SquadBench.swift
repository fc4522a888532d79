import Foundation
import Testing
import TomeCore
import TomeBench
import TomeKit
import TomeReasoning
import TomeTestSupport

/// SQuAD v1.1 answering benchmark (env-gated): `TOME_BENCH=1`, `TOME_BENCH_N` questions
/// (default 50), `TOME_BENCH_K` (default 12), `TOME_BENCH_ORDER` (edge or rank; default both). All paragraphs of the shared dev half are one
/// collection; prints EM/F1, evidence hit rates, citation precision, verified quotes and
/// latency, with edge reordering on and off.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOME_BENCH"] == "1"))
struct SquadBench {
  struct Gold: Decodable {
    struct Article: Decodable { var paragraphs: [Paragraph] }
    struct Paragraph: Decodable { var qas: [QA] }
    struct QA: Decodable {
      struct Text: Decodable { var text: String }
      var id: String
      var answers: [Text]
    }
    var data: [Article]
  }

  static func percentile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
  }

  @Test("SQuAD dev subset: answer quality, evidence, citations and latency")
  func squad() async throws {
    let env = ProcessInfo.processInfo.environment
    let n = Int(env["TOME_BENCH_N"] ?? "") ?? 50
    let k = Int(env["TOME_BENCH_K"] ?? "") ?? 12
    let url = SharedData.data("squad-dev-half/squad-dev-v1.1-articles-00-23.json")
    let dataset = try RetrievalDataset.squad(at: url)
    let gold = try JSONDecoder().decode(Gold.self, from: Data(contentsOf: url))
    var answers: [String: [String]] = [:]
    for a in gold.data { for p in a.paragraphs { for q in p.qas { answers[q.id] = q.answers.map(\.text) } } }

    let dir = try TemporaryDirectory("tome-squad")
    let docs = dir.url.appendingPathComponent("docs")
    try dataset.materialise(in: docs)
    let models = ModelDirectory(url: SharedData.models)
    let encoder = try models.loadEncoder()
    let model = try models.loadChatModel()
    let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("ix")), create: true)
    try collection.sync(paths: [docs], encoder: encoder)
    let retriever = try HybridRetriever(collection: collection, embedder: encoder.embedder)
    let prompts = PromptLibrary(directory: SharedData.repositoryRoot.appendingPathComponent("Prompts"))

    // Every stride-th question, so the subset spans all articles.
    let stride = max(1, dataset.queries.count / n)
    let questions = Array(Swift.stride(from: 0, to: dataset.queries.count, by: stride).prefix(n).map { dataset.queries[$0] })
    let orderings: [EdgeOrdering] = env["TOME_BENCH_ORDER"].map { [EdgeOrdering(rawValue: $0)!] } ?? [.edge, .rank]
    for ordering in orderings {
      let answerer = Answerer(
        retriever: retriever, embedder: encoder.embedder, model: model,
        strategies: StrategyFactory(rag: .init(ordering: ordering)), prompts: prompts, configuration: .init(k: k))
      var em = 0.0, f1 = 0.0, contains = 0, top1 = 0, top2 = 0, cited = 0, citedGood = 0, quotes = 0, quotesOK = 0, notFound = 0
      var ttft: [Double] = [], total: [Double] = [], promptTokens: [Double] = []
      // Citations before (the model's own [n]) and after attribution, and whether they land on
      // the question's gold paragraph (its file).
      var withMarker = 0, withAny = 0, markerOnGold = 0, markers = 0, attributed = 0, attributedOnGold = 0, anyOnGold = 0
      for q in questions {
        let gold = answers[q.id] ?? []
        let a = try await answerer.answer(q.text, parameters: .greedy(maxTokens: 64))
        let prediction = AnswerScoring.strippingCitationMarkers(a.text)
        em += AnswerScoring.exactMatch(prediction, gold: gold)
        f1 += AnswerScoring.f1(prediction, gold: gold)
        let normalisedGold = gold.map(AnswerScoring.normalize)
        func holds(_ text: String) -> Bool { let t = AnswerScoring.normalize(text); return normalisedGold.contains { t.contains($0) } }
        if holds(prediction) { contains += 1 }
        if let e = a.evidence.first, holds(e.text) { top1 += 1 }
        if a.evidence.prefix(2).contains(where: { holds($0.text) }) { top2 += 1 }
        for c in a.citations where c.path != nil {
          cited += 1
          if holds(a.passages[c.number - 1].text) { citedGood += 1 }
        }
        func onGold(_ path: String?) -> Bool {
          // Paragraph files are `<name>.txt` (RetrievalDataset.materialise).
          guard let file = path?.split(separator: "/").last, file.hasSuffix(".txt") else { return false }
          return q.relevant.keys.contains(String(file.dropLast(4)))
        }
        let own = a.citations.filter { $0.path != nil && $0.verified }
        markers += own.count
        markerOnGold += own.filter { onGold($0.path) }.count
        attributed += a.attributions.count
        attributedOnGold += a.attributions.filter { onGold($0.path) }.count
        if !own.isEmpty { withMarker += 1 }
        if !a.citedSpans.isEmpty { withAny += 1 }
        if a.citedSpans.contains(where: { onGold($0.path) }) { anyOnGold += 1 }
        quotes += a.quotes.count
        quotesOK += a.quotes.filter(\.verified).count
        if a.notFound { notFound += 1 }
        if let t = a.timings.timeToFirstToken { ttft.append(t) }
        total.append(a.timings.total)
        promptTokens.append(Double(a.tokens.prompt))
      }
      let count = Double(questions.count)
      let precision: Double = cited == 0 ? .nan : Double(citedGood) / Double(cited)
      print(String(
        format: "squad n=%d k=%d order=%@: EM %.3f F1 %.3f answer-contains %.3f | evidence top1 %.3f top2 %.3f | citation precision %.3f (%d cited) | quotes verified %d/%d | not found %d | prompt tokens p50 %.0f | TTFT p50 %.2fs p95 %.2fs | total p50 %.2fs p95 %.2fs",
        questions.count, k, ordering.rawValue, em / count, f1 / count, Double(contains) / count, Double(top1) / count, Double(top2) / count,
        precision, cited, quotesOK, quotes, notFound,
        Self.percentile(promptTokens, 0.5), Self.percentile(ttft, 0.5), Self.percentile(ttft, 0.95),
        Self.percentile(total, 0.5), Self.percentile(total, 0.95)))
      print(String(
        format: "squad citations: answers citing anything %d/%d with [n] only, %d/%d with attribution | [n] on the gold paragraph %d/%d | attributions on it %d/%d | answers with a citation on it %d/%d",
        withMarker, questions.count, withAny, questions.count, markerOnGold, markers, attributedOnGold, attributed, anyOnGold,
        questions.count))
    }
  }
}
