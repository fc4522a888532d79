import Foundation
import Testing
import TomeBench
import TomeKit
import TomeTestSupport

@Suite struct RetrievalEvaluationTests {
  @Test("metrics match a hand-computed example")
  func metrics() {
    var m = RetrievalMetrics()
    // Query 1: relevant doc at rank 2 → R@1 0, R@5 1, RR 1/2; nDCG@10 = (1/log2 3) / 1.
    m.add(ranking: ["x", "a", "y"], relevant: ["a": 1])
    // Query 2: graded; ranking b (gain 1), c (gain 3); ideal c, b.
    m.add(ranking: ["b", "c"], relevant: ["b": 1, "c": 3])
    // Query 3: nothing found.
    m.add(ranking: ["z"], relevant: ["q": 2])
    let avg = m.averaged
    #expect(avg.queries == 3)
    #expect(abs(avg.recallAt1 - 1.0 / 3) < 1e-12)
    #expect(abs(avg.recallAt5 - 2.0 / 3) < 1e-12)
    #expect(abs(avg.mrr - (0.5 + 1 + 0) / 3) < 1e-12)
    let q1 = 1 / log2(3.0)
    let q2 = (1 + 3 / log2(3.0)) / (3 + 1 / log2(3.0))
    #expect(abs(avg.ndcgAt10 - (q1 + q2) / 3) < 1e-12)
  }

  @Test("Cranfield loads 1,400 abstracts and 225 judged queries with Cleverdon gains")
  func cranfield() throws {
    let set = try RetrievalDataset.cranfield(folder: SharedData.data("cranfield"))
    #expect(set.documents.count == 1400)
    #expect(set.queries.count == 225)
    #expect(set.documents[0].name == "cran-1" && set.documents[0].text.hasPrefix("experimental investigation"))
    #expect(!set.documents[0].text.contains("\r"))
    // qrels line "1 184 2": grade 2 → gain 3; grade 1 → gain 4 is the best.
    #expect(set.queries[0].relevant["cran-184"] == 3)
    #expect(set.queries.allSatisfy { $0.relevant.values.allSatisfy { (1...4).contains($0) } })
  }

  @Test("SQuAD: every paragraph is a passage and every question points at its paragraph")
  func squad() throws {
    let set = try RetrievalDataset.squad(at: SharedData.data("squad-dev-half/squad-dev-v1.1-articles-00-23.json"))
    #expect(set.documents.count == 984)
    #expect(set.queries.count == 4807)
    let names = Set(set.documents.map(\.name))
    #expect(set.queries.allSatisfy { $0.relevant.count == 1 && names.contains($0.relevant.keys.first ?? "") })
  }

  @Test("a file that is not SQuAD JSON is a clear error")
  func badSquad() throws {
    let dir = try TemporaryDirectory()
    let file = try dir.write("x.json", "{\"not\": \"squad\"}")
    let error = #expect(throws: DatasetError.self) { try RetrievalDataset.squad(at: file) }
    #expect(error?.description.contains("x.json") == true)
  }
}
