import Foundation
import Testing
import TomeBench
import TomeKit
import TomeTestSupport

/// Each converter on a small real slice of the shared data: the files it writes hold what
/// the gold citations say they hold.
@Suite(.timeLimit(.minutes(15))) struct BenchmarkConverterTests {
  struct Line: Decodable {
    struct Citation: Decodable { var path: String; var lines: [Int]? }
    var id: String
    var question: String
    var gold: [String]
    var gold_citations: [Citation]
    var document: String?
  }

  func read(_ report: BenchmarkConverter.Report) throws -> [Line] {
    try String(contentsOf: report.questionsFile, encoding: .utf8).split(separator: "\n").map {
      try JSONDecoder().decode(Line.self, from: Data($0.utf8))
    }
  }

  /// Lines `range` (1-based, inclusive) of the file a gold path names under `root`.
  func lines(_ root: URL, _ citation: Line.Citation) throws -> [Substring] {
    let all = try String(contentsOf: root.appendingPathComponent(citation.path), encoding: .utf8)
      .split(separator: "\n", omittingEmptySubsequences: false)
    let range = try #require(citation.lines)
    return Array(all[(range[0] - 1)...(range[1] - 1)])
  }

  @Test("squad: one file per article; each question's cited line holds a gold answer")
  func squad() throws {
    let dir = try TemporaryDirectory()
    let report = try BenchmarkConverter.convert(
      .squad, input: SharedData.data("squad-dev-half/squad-dev-v1.1-articles-00-23.json"), output: dir.url,
      options: .init(limit: 40, seed: 7))
    #expect(report.documents == 24 && report.questions == 40)
    let questions = try read(report)
    #expect(Set(questions.map(\.id)).count == 40)
    for q in questions {
      let citation = try #require(q.gold_citations.first)
      #expect(citation.path.hasPrefix("collection/a"))
      let line = try #require(try lines(dir.url, citation).first)
      #expect(q.gold.contains { line.contains($0) }, "\(q.id): no gold answer on \(citation.path):\(citation.lines ?? [])")
    }
    // The same seed draws the same questions.
    let again = try TemporaryDirectory()
    let second = try BenchmarkConverter.convert(
      .squad, input: SharedData.data("squad-dev-half/squad-dev-v1.1-articles-00-23.json"), output: again.url,
      options: .init(limit: 40, seed: 7))
    #expect(try read(second).map(\.id) == questions.map(\.id))
  }

  @Test("hotpot: one titled file per passage; supporting facts are sentence lines")
  func hotpot() throws {
    let dir = try TemporaryDirectory()
    let report = try BenchmarkConverter.convert(
      .hotpot, input: SharedData.data("hotpotqa-train-sample"), output: dir.url, options: .init(limit: 10))
    #expect(report.documents == 994 && report.questions == 10)
    let corpus = try JSONDecoder().decode(
      [String: [String]].self, from: Data(contentsOf: SharedData.data("hotpotqa-train-sample/hotpotqa_train_corpus.json")))
    for q in try read(report) {
      #expect(!q.gold_citations.isEmpty)
      for c in q.gold_citations {
        let file = try String(contentsOf: dir.url.appendingPathComponent(c.path), encoding: .utf8)
        let title = String(file.prefix { $0 != "\n" })
        let sentences = try #require(corpus[title])
        let line = try #require(try lines(dir.url, c).first)
        let index = try #require(c.lines?.first) - 3
        #expect(sentences[index].trimmingCharacters(in: .whitespaces) == line)
      }
    }
  }

  @Test("qmsum: one transcript per meeting, a turn per line; spans point at turns")
  func qmsum() throws {
    let dir = try TemporaryDirectory()
    let report = try BenchmarkConverter.convert(.qmsum, input: SharedData.data("qmsum-val/Bed002.json"), output: dir.url)
    #expect(report.documents == 1 && report.questions > 3)
    let questions = try read(report)
    #expect(questions.allSatisfy { $0.question.hasPrefix("In meeting Bed002: ") && !$0.gold[0].isEmpty })
    // Each question is scoped to its meeting's transcript, by the path batch resolves.
    #expect(questions.allSatisfy { $0.document == "collection/Bed002.txt" })
    let input = try BatchInput.read(report.questionsFile)
    #expect(input.problems.isEmpty && input.questions.allSatisfy { $0.documents == ["collection/Bed002.txt"] })
    let specific = try #require(questions.first { $0.gold_citations.first?.lines != nil })
    for c in specific.gold_citations {
      for line in try lines(dir.url, c) { #expect(line.contains(": "), "\(line)") }
    }
    let text = try String(contentsOf: report.collection.appendingPathComponent("Bed002.txt"), encoding: .utf8)
    #expect(text.hasPrefix("Meeting Bed002\n\nGrad E: I guess .\n"))
  }

  @Test("babi: one file per story; the supporting fact line names the answer (task 1)")
  func babi() throws {
    let dir = try TemporaryDirectory()
    let report = try BenchmarkConverter.convert(.babi, input: SharedData.data("babi/en"), output: dir.url, options: .init(limit: 12, task: 1))
    #expect(report.documents == 200 && report.questions == 12)
    for q in try read(report) {
      #expect(q.question.hasPrefix("In story "))
      let c = try #require(q.gold_citations.first)
      let line = try #require(try lines(dir.url, c).first)
      #expect(line.contains(q.gold[0]), "\(q.id): \(line) / \(q.gold[0])")
    }
  }
}
