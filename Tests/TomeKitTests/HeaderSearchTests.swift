import Foundation
import Testing
import TomeCore
import TomeKit
import TomeStore
import TomeTestSupport

@Suite struct HeaderSearchTests {
  /// 3M's FY2018 10-K, indexed without vectors (BM25 and headers only).
  func indexedFiling(_ dir: TemporaryDirectory) throws -> Collection {
    let filing = try dir.write("3M_2018_10K.txt", data: Data(contentsOf: SharedData.data("financebench-dev/txt/3M_2018_10K.txt")))
    let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("index")), create: true)
    _ = try IngestPipeline(collection: collection).run(roots: [filing])
    return collection
  }

  @Test("BM25 over headers finds the statement a question names, which its figures never say (real 10-K)")
  func statementByTitle() throws {
    let dir = try TemporaryDirectory()
    let collection = try indexedFiling(dir)
    var retriever = try HybridRetriever(collection: collection, embedder: nil, settings: .standard)
    let question =
      "What is the FY2018 capital expenditure amount (in USD millions) for 3M? "
      + "Give a response to the question by relying on the details shown in the cash flow statement."
    // FinanceBench's evidence: page 60, the Consolidated Statement of Cash Flows. Its words
    // are also in every discussion of cash flows and capital spending, which BM25 ranks first.
    let bm25 = try retriever.search(question, k: 10, mode: .bm25).results
    #expect(!bm25.contains { $0.chunk.span.page == 60 })
    let withHeaders = try retriever.search(question, k: 10, mode: .hybrid)
    #expect(withHeaders.fellBackToBM25)
    #expect(withHeaders.results.contains { $0.chunk.span.page == 60 })
    // Weighted 0, the header list is left out: hybrid without vectors is BM25 again.
    retriever.settings.headerWeight = 0
    let without = try retriever.search(question, k: 10, mode: .hybrid).results
    #expect(without.map(\.chunkID) == bm25.map(\.chunkID))
  }

  @Test("a header-only search matches header words and nothing in the text")
  func headerField() throws {
    let dir = try TemporaryDirectory()
    let collection = try indexedFiling(dir)
    let ranked = try collection.store.rankText("cash flows statement", limit: 20, field: .header)
    let hits = try collection.store.chunks(ids: ranked.map(\.chunk))
    #expect(hits.count == ranked.count && !hits.isEmpty)
    let first = try #require(hits.first { $0.id == ranked.first?.chunk })
    #expect(first.chunk.header?.contains("Consolidated Statement of Cash Flows") == true)
    #expect(
      hits.allSatisfy { hit in
        ["cash", "flow", "statement"].contains { hit.chunk.header?.localizedCaseInsensitiveContains($0) == true }
      })
    // "expenditure" is in the text of several pages and in no page title.
    let anywhere = try collection.store.rankText("expenditure", limit: 5)
    #expect(anywhere.map(\.chunk) == (try collection.store.searchText("expenditure", limit: 5).map(\.chunk.id)))
    #expect(anywhere.count == 5)
    #expect(try collection.store.rankText("expenditure", limit: 5, field: .header).isEmpty)
    let document = try #require(try collection.store.documents().first?.id)
    #expect(try collection.store.rankText("expenditure", limit: 5, documents: [document]).map(\.chunk) == anywhere.map(\.chunk))
  }
}
