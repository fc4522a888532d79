import Foundation
import Testing
import TomeCore
import TomeBench
import TomeKit
import TomeStore
import TomeTestSupport

@Suite(.serialized) struct DocumentAwareTests {
  let models = ModelDirectory(url: SharedData.models)

  @Test("documents are ranked by the words of their names; words in every name and queries naming nothing rank nothing")
  func ranker() {
    let paths = ["BESTBUY_2019_10K.txt", "BESTBUY_2017_10K.txt", "3M_2018_10K.txt", "AMCOR_2023Q2_10Q.txt", "notes/install-guide.md"]
    let ranker = DocumentRanker(entries: paths.enumerated().map { DocumentRanker.Entry(id: DocumentID(Int64($0.offset + 1)), path: $0.element) })
    #expect(ranker.rank("What is the FY2018 capital expenditure amount for 3M?").map(\.id) == [DocumentID(3)])
    // "Best Buy" names BESTBUY (words run together); the year picks between its two filings.
    #expect(ranker.rank("Best Buy's FY2019 revenue").map(\.id) == [DocumentID(1), DocumentID(2)])
    #expect(ranker.focus("Best Buy's FY2019 revenue", ratio: 1) == [DocumentID(1)])
    #expect(ranker.focus("Best Buy's FY2019 revenue", ratio: 0.3) == [DocumentID(1), DocumentID(2)])
    #expect(ranker.focus("Amcor Q2 2023 net sales", ratio: 1) == [DocumentID(4)])
    #expect(ranker.focus("how do I install it on Linux", ratio: 1) == [DocumentID(5)])
    // "10-K" is in most names: it names nothing; nor does a question about no document.
    #expect(ranker.focus("the 10-K", ratio: 1) == nil)
    #expect(ranker.focus("Were there board nominees with many votes against?", ratio: 1) == nil)
    #expect(DocumentRanker.nameTerms("3M_2018_10K") == ["3m", "2018", "10k"])
    // The day and month of a dated file name name nothing: "FY20" must not pick a May 20 filing.
    let dated = DocumentRanker(
      entries: [
        "FOOTLOCKER_2022_8K_dated-2022-05-20.txt", "PFIZER_2021_10K.txt", "Pfizer_2023Q2_10Q.txt", "3M_2018_10K.txt",
        "AMCOR_2023Q2_10Q.txt",
      ].enumerated().map {
        DocumentRanker.Entry(id: DocumentID(Int64($0.offset + 1)), path: $0.element)
      })
    #expect(dated.focus("Did Pfizer grow its PPNE between FY20 and FY21?", ratio: 1) == [DocumentID(2), DocumentID(3)])
  }

  @Test("a question naming a filing is searched within it; one naming none searches all (real filings, real encoder)")
  func focusedSearch() throws {
    let small = try SmallFinanceBench()
    let encoder = try models.loadEncoder()
    let collection = try small.index(encoder)
    let retriever = try HybridRetriever(collection: collection, embedder: encoder.embedder)
    #expect(retriever.settings == .standard)
    let named = "At the Pepsico AGM held on May 3, 2023, what was the outcome of the shareholder vote?"
    let focus = try #require(retriever.focusedDocuments(named))
    #expect(focus.count == 1)
    let pepsico = "PEPSICO_2023_8K_dated-2023-05-05.txt"
    var strict = retriever
    strict.settings.unfocusedWeight = 0
    for mode in RetrievalMode.allCases {
      // Named documents only…
      let results = try strict.search(named, k: 10, mode: mode).results
      #expect(!results.isEmpty)
      #expect(results.allSatisfy { $0.chunk.span.path.hasSuffix(pepsico) }, "\(mode)")
      // …or first, with the whole collection beside them at half weight (the standard).
      let standard = try retriever.search(named, k: 10, mode: mode).results
      #expect(standard.first?.chunk.span.path.hasSuffix(pepsico) == true, "\(mode)")
    }
    // Unfocused, the same question reaches the other filings too (they share its words).
    var unfocused = retriever
    unfocused.settings.documentFocus = nil
    let everywhere = try unfocused.search(named, k: 10, mode: .bm25).results
    #expect(Set(everywhere.map(\.chunk.span.path)).count > 1)
    let unnamed = "Were there any board member nominees who had substantially more votes against joining than the other nominees?"
    #expect(retriever.focusedDocuments(unnamed) == nil)
    #expect(Set(try retriever.search(unnamed, k: 10, mode: .bm25).results.map(\.chunk.span.path)).count > 1)
  }

  @Test("fusion settings are stored with the index and read by every later retriever")
  func storedSettings() throws {
    let small = try SmallFinanceBench()
    let encoder = try models.loadEncoder()
    let collection = try small.index(encoder)
    #expect(try collection.fusionSettings() == .standard)
    let fitted = FusionSettings(bm25Weight: 0, denseWeight: 1, rankConstant: 10, documentFocus: nil, headerWeight: 0)
    try collection.setFusionSettings(fitted)
    let reopened = try Collection(location: collection.location, create: false)
    #expect(try reopened.fusionSettings() == fitted)
    let retriever = try HybridRetriever(collection: reopened, embedder: encoder.embedder)
    #expect(retriever.settings == fitted)
    // BM25 and headers weighted 0: hybrid ranks exactly as dense.
    let question = "What was the key agenda of the AMCOR's 8k filing dated 1st July 2022?"
    let hybrid = try retriever.search(question, k: 8, mode: .hybrid).results.map(\.chunkID)
    let dense = try retriever.search(question, k: 8, mode: .dense).results.map(\.chunkID)
    #expect(hybrid == dense)
    try reopened.setFusionSettings(nil)
    #expect(try reopened.fusionSettings() == .standard)
    // Settings stored before the header list existed read with the standard header weight.
    let old = #"{"bm25Weight":0.5,"denseWeight":1,"rankConstant":60,"documentFocus":1,"unfocusedWeight":0.5}"#
    let decoded = try JSONDecoder().decode(FusionSettings.self, from: Data(old.utf8))
    #expect(decoded == FusionSettings(bm25Weight: 0.5, headerWeight: FusionSettings.standard.headerWeight))
    let unfocused = try JSONDecoder().decode(FusionSettings.self, from: Data(old.replacingOccurrences(of: #""documentFocus":1,"#, with: "").utf8))
    #expect(unfocused.documentFocus == nil)
  }

  @Test("fitting picks the setting with the most evidence in the top 5 and keeps the standard one on ties")
  func fit() throws {
    let small = try SmallFinanceBench()
    let bench = try FinanceBench.load(folder: small.folder)
    let encoder = try models.loadEncoder()
    let collection = try small.index(encoder)
    var retriever = try HybridRetriever(collection: collection, embedder: encoder.embedder)
    var scored: [FusionSettings: PageRecall] = [:]
    let grid = Array(FusionFit.grid.prefix(6))
    let best = try FusionFit.best(of: grid) { settings in
      retriever.settings = settings
      let recall = try bench.pageRecall(of: bench.questions) { try retriever.search($0, k: 10, mode: .hybrid).results }
      scored[settings] = recall
      return recall
    }
    #expect(scored.count == grid.count)
    let top = scored.values.map { [$0.top5, $0.top10, $0.top1] }.max { $0.lexicographicallyPrecedes($1) }
    #expect([best.recall.top5, best.recall.top10, best.recall.top1] == top)
    let firstBest = try #require(grid.first { s in scored[s].map { [$0.top5, $0.top10, $0.top1] } == top })
    #expect(best.settings == firstBest)
    #expect(FusionFit.grid.first == .standard && Set(FusionFit.grid).count == FusionFit.grid.count)
    #expect(FusionFit.grid.contains { $0.headerWeight == 0 })
  }

  @Test("fitting by any score: the largest key wins, ties keep the earlier setting; the BM25 grid starts at the standard")
  func fitByKey() {
    let grid = FusionFit.bm25Grid
    #expect(grid.first == .standard && Set(grid).count == grid.count && grid.map(\.bm25Weight).max() == 3)
    // Scores peak at BM25 weight 2, with 0.5 tied with the standard on the first key.
    let scores: [Double: [Double]] = [1: [0.9, 0.5], 0.5: [0.9, 0.6], 0.25: [0.8, 0.9], 0: [0.5, 0.5], 2: [0.95, 0.1], 3: [0.95, 0.1]]
    var asked: [Double] = []
    let best = FusionFit.best(of: grid, score: { settings -> [Double] in
      asked.append(settings.bm25Weight)
      return scores[settings.bm25Weight] ?? []
    }, key: { $0 })
    #expect(asked == grid.map(\.bm25Weight))
    #expect(best.settings.bm25Weight == 2 && best.score == [0.95, 0.1])
    let tied = FusionFit.best(of: grid, score: { _ in 1.0 }, key: { [$0] })
    #expect(tied.settings == .standard)
  }

  @Test("a retrieval dataset splits its queries by position, every document kept")
  func splitQueries() {
    let documents = [RetrievalDataset.Document(name: "d", text: "t")]
    let queries = (0..<5).map { RetrievalDataset.Query(id: "q\($0)", text: "q", relevant: ["d": 1]) }
    let (tuning, heldApart) = RetrievalDataset(name: "x", documents: documents, queries: queries).splitQueries()
    #expect(tuning.queries.map(\.id) == ["q0", "q2", "q4"] && heldApart.queries.map(\.id) == ["q1", "q3"])
    #expect(tuning.documents == documents && heldApart.documents == documents)
  }
}
