import Foundation
import Testing
import TomeCore
import TomeKit
import TomeStore
import TomeTestSupport

@Suite struct CommonTermsTests {
  static let questions = [
    "What is the FY2018 capital expenditure amount (in USD millions) for 3M? Give a response to the question by relying on the details shown in the cash flow statement.",
    "Is 3M a capital-intensive business based on FY2018 data?",
    "what are the risks of the company in the markets it serves",
  ]

  @Test("ingest records the words in half the chunks or more; BM25 leaves them out and ranks as before (real 10-K)")
  func leftOut() throws {
    let dir = try TemporaryDirectory()
    let filing = try dir.write("3M_2018_10K.txt", data: Data(contentsOf: SharedData.data("financebench-dev/txt/3M_2018_10K.txt")))
    let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("index")), create: true)
    _ = try IngestPipeline(collection: collection).run(roots: [filing])
    let store = collection.store
    let recorded = Set(try #require(try store.meta(.commonTerms)).split(separator: " ").map(String.init))
    #expect(recorded.isSuperset(of: ["the", "of", "and"]) && !recorded.contains("inventories") && !recorded.contains("capital"))
    // In headers "the" is rare and the title's words are everywhere.
    let inHeaders = Set(try #require(try store.meta(.commonHeaderTerms)).split(separator: " ").map(String.init))
    #expect(inHeaders.isSuperset(of: ["3m", "2018", "10k"]) && !inHeaders.contains("the"))
    // Each really is in half the chunks or more.
    let chunks = try store.documents().reduce(0) { $0 + $1.chunkCount }
    for term in recorded { #expect(try store.rankText(term, limit: chunks).count * 2 >= chunks, "\(term)") }

    for question in Self.questions {
      for (field, common) in [(TextSearchField.chunk, recorded), (.header, inHeaders)] {
        let every = try store.rankText(question, limit: 50, field: field)
        let lean = try store.rankText(question, limit: 50, field: field, leavingOut: common)
        #expect(lean.map(\.chunk) == every.map(\.chunk))
        for (a, b) in zip(lean, every) { #expect(abs(a.score - b.score) <= 1e-4 * abs(b.score)) }
      }
    }
    // A query of common words only still searches them.
    #expect(FTS5Query.orQuery("the of", leavingOut: recorded) == "\"the\" OR \"of\"")
    #expect(FTS5Query.orQuery("the capital", leavingOut: recorded) == "\"capital\"")

    // Hybrid search (here without vectors) reads the record; without it, the same ranks.
    let lean = try HybridRetriever(collection: collection, embedder: nil, settings: .standard)
    try store.setMeta(.commonTerms, nil)
    try store.setMeta(.commonHeaderTerms, nil)
    let every = try HybridRetriever(collection: collection, embedder: nil, settings: .standard)
    for question in Self.questions {
      #expect(try lean.search(question, k: 10, mode: .hybrid).results.map(\.chunkID) == every.search(question, k: 10, mode: .hybrid).results.map(\.chunkID))
    }
    // The next ingest records them again, even with nothing to re-chunk.
    _ = try IngestPipeline(collection: collection).run(roots: [filing])
    #expect(try store.meta(.commonTerms).map { Set($0.split(separator: " ").map(String.init)) } == recorded)
  }
}
