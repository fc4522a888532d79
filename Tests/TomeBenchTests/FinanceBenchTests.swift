import Foundation
import Testing
import TomeCore
import TomeBench
import TomeKit
import TomeStore
import TomeTestSupport

/// Three real FinanceBench 8-K filings (a few pages each) with their questions, copied from
/// `shared/data/financebench-dev` into a temporary folder of the same layout.
struct SmallFinanceBench {
  static let filings = [
    "FOOTLOCKER_2022_8K_dated-2022-05-20", "PEPSICO_2023_8K_dated-2023-05-05", "AMCOR_2022_8K_dated-2022-07-01",
  ]
  let dir: TemporaryDirectory
  var folder: URL { dir.url.appendingPathComponent("fb") }
  var txt: URL { folder.appendingPathComponent("txt") }

  init() throws {
    dir = try TemporaryDirectory()
    let source = SharedData.data("financebench-dev")
    try FileManager.default.createDirectory(at: folder.appendingPathComponent("txt"), withIntermediateDirectories: true)
    for name in Self.filings {
      try FileManager.default.copyItem(
        at: source.appendingPathComponent("txt/\(name).txt"), to: folder.appendingPathComponent("txt/\(name).txt"))
    }
    for file in ["documents.jsonl", "questions.jsonl"] {
      let lines = try String(contentsOf: source.appendingPathComponent(file), encoding: .utf8)
        .split(separator: "\n").filter { line in Self.filings.contains { line.contains("\"doc_name\": \"\($0)\"") } }
      try dir.write("fb/\(file)", lines.joined(separator: "\n") + "\n")
    }
  }

  /// An index of the three filings, embedded with the real encoder.
  func index(_ encoder: SentenceEncoder) throws -> Collection {
    let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("ix")), create: true)
    _ = try collection.sync(paths: [txt], encoder: encoder)
    return collection
  }
}

@Suite(.serialized) struct FinanceBenchTests {
  let models = ModelDirectory(url: SharedData.models)

  @Test("the dev set loads: 63 filings, 86 questions, every evidence page inside its filing")
  func loadsDevSet() throws {
    let bench = try FinanceBench.load(folder: SharedData.data("financebench-dev"))
    #expect(bench.filings.count == 63)
    #expect(bench.questions.count == 86)
    let tuning = bench.questions(in: .tuning)
    let heldApart = bench.questions(in: .heldApart)
    #expect(tuning.count + heldApart.count == 86 && !tuning.isEmpty && !heldApart.isEmpty)
    // Companies, not questions, are split.
    #expect(Set(tuning.map(\.company)).isDisjoint(with: Set(heldApart.map(\.company))))
    let question = try #require(bench.questions.first { $0.text.hasPrefix("What is the FY2018 capital expenditure amount") })
    #expect(question.evidence == [FinanceBench.Page(document: "3M_2018_10K", page: 59)])
    let pages = try FormFeedPages(url: SharedData.data("financebench-dev/txt/3M_2018_10K.txt"))
    #expect(pages.offsets.count > 59)
    let text = try Data(contentsOf: SharedData.data("financebench-dev/txt/3M_2018_10K.txt"))
    let start = pages.offsets[58] + 1
    let page59 = String(decoding: text[start..<pages.offsets[59]], as: UTF8.self)
    #expect(page59.contains("Purchases of property, plant and equipment"))
    #expect(pages.pages(of: start..<(start + 10)) == 59...59)
    #expect(pages.pages(of: (start - 5)..<(start + 10)) == 58...59)
    #expect(throws: DatasetError.self) { try FinanceBench.load(folder: SharedData.data("financebench-dev"), companies: ["No Such Co"]) }
  }

  @Test("evidence pages are found in a real index of three filings, and a wrong page is not a hit")
  func pageRecall() throws {
    let small = try SmallFinanceBench()
    let bench = try FinanceBench.load(folder: small.folder)
    #expect(bench.filings.count == 3 && bench.questions.count == 3)
    let encoder = try models.loadEncoder()
    let collection = try small.index(encoder)
    let retriever = try HybridRetriever(collection: collection, embedder: encoder.embedder)
    let recall = try bench.pageRecall(of: bench.questions) { try retriever.search($0, k: 10, mode: .hybrid).results }
    #expect(recall.questions == 3)
    #expect(recall.top10 == 3)
    #expect(recall.top1 <= recall.top5 && recall.top5 <= recall.top10)
    // The same search, scored against pages that hold no evidence, hits nothing.
    var moved = bench
    moved.questions = bench.questions.map { q in
      var q = q
      q.evidence = q.evidence.map { FinanceBench.Page(document: $0.document, page: $0.page + 100) }
      return q
    }
    let none = try moved.pageRecall(of: moved.questions) { try retriever.search($0, k: 10, mode: .hybrid).results }
    #expect(none.top10 == 0)
    // Ranks one question at a time (`--ranks`) agree with the counts, and find nothing on
    // pages without evidence.
    var pages = EvidencePages()
    var ranks: [Int?] = []
    for question in bench.questions {
      ranks.append(try pages.rank(of: question, in: try retriever.search(question.text, k: 50, mode: .hybrid).results))
    }
    #expect(ranks.filter { ($0 ?? 99) < 1 }.count == recall.top1)
    #expect(ranks.filter { ($0 ?? 99) < 5 }.count == recall.top5)
    for question in moved.questions {
      #expect(try pages.rank(of: question, in: try retriever.search(question.text, k: 50, mode: .hybrid).results) == nil)
    }
  }
}
