import Foundation
import Testing
import TomeKit

/// Scores against a hand-checked fixture. Each line is a question with gold and, in
/// "answer"/"cited", what a run produced. The expected values were worked out by hand
/// (below each line) and cross-checked once with a ten-line Python script.
@Suite struct AnswerScoringTests {
  static let fixture = #"""
    {"id": 1, "question": "Which team won Super Bowl 50?", "gold": ["Denver Broncos", "Broncos"], "answer": "The Denver Broncos [1].", "cited": [{"path": "/idx/collection/a00.txt", "lines": [3, 3]}], "gold_citations": [{"path": "collection/a00.txt", "lines": [3, 3]}]}
    {"id": 2, "question": "Where was it played?", "gold": ["Levi's Stadium", "Santa Clara"], "answer": "Santa Clara, California", "cited": [{"path": "/x/collection/a00.txt", "lines": [5, 7]}, {"path": "/x/collection/a01.txt", "lines": [3, 3]}], "gold_citations": [{"path": "collection/a00.txt", "lines": [7, 7]}]}
    {"id": 3, "question": "What colour was emphasised?", "gold": ["Gold"], "answer": "gold", "cited": []}
    {"id": 4, "question": "When was it played?", "gold": ["February 7, 2016"], "answer": "I do not know", "cited": [], "gold_citations": [{"path": "collection/a00.txt", "lines": [9, 9]}]}
    {"id": 5, "question": "Capital of France?", "choices": ["London", "Paris", "Rome"], "gold": ["B"], "answer": "(B) Paris [2]", "cited": []}
    {"id": 6, "question": "Capital of France, again?", "choices": ["London", "Paris", "Rome"], "gold": ["Paris"], "answer": "I think it is Rome.", "cited": []}
    {"id": 7, "question": "What is the answer?", "gold": ["42"], "answer": "forty two", "cited": [{"path": "/docs/report.pdf", "lines": [1, 4], "page": 3}, {"path": "/docs/report.pdf", "lines": [1, 2], "page": 5}], "gold_citations": [{"path": "report.pdf", "page": 3}, {"path": "other.pdf", "page": 1}]}
    {"id": 8, "question": "Summarise the meeting", "gold": ["The budget was discussed and the team agreed to reduce costs."], "answer": "the team discussed the budget and agreed to cut costs", "cited": []}
    """#

  // Hand-computed scores per id: em, f1, accuracy, rouge1, rouge2, rougeL, citation P, R.
  //
  // 1: markers stripped → "The Denver Broncos." → "denver broncos" = gold 1: EM 1, F1 1.
  //    ROUGE tokens [the denver broncos] vs [denver broncos]: R1 P 2/3 R 1 → 0.8;
  //    bigrams {the denver, denver broncos} vs {denver broncos}: 1 of 2 / 1 of 1 → 2/3;
  //    LCS 2 → 0.8. Cited a00.txt:3 matches gold a00.txt:3 by suffix: P 1, R 1.
  // 2: "santa clara california" vs "santa clara": 2 shared, P 2/3 R 1 → F1 0.8, EM 0.
  //    "Levi's Stadium" → [levi s stadium] shares nothing; R1 0.8, R2 (1 of 2, 1 of 1) 2/3,
  //    RL 0.8. Cited a00.txt:5-7 overlaps gold 7; a01.txt:3 does not: P 1/2, R 1/1.
  // 3: "gold" = "gold": EM 1, F1 1, R1 1, R2 0 (no bigrams), RL 1; no gold citations.
  // 4: "i do not know" vs "february 7 2016": all 0. Gold citation, nothing cited: P 0, R 0.
  // 5: "(B) Paris" picks B by letter; gold "B" → accuracy 1 (no EM/F1 for multiple choice).
  // 6: "i think it is rome" contains choice "rome" (C); gold "Paris" is B → accuracy 0.
  // 7: "forty two" vs "42": EM 0, F1 0, ROUGE 0. report.pdf p.3 matches gold (report.pdf, p.3);
  //    p.5 matches nothing; other.pdf is never cited: P 1/2, R 1/2.
  // 8: SQuAD tokens (articles dropped) pred [team discussed budget and agreed to cut costs] (8),
  //    gold [budget was discussed and team agreed to reduce costs] (9), 7 shared: F1 14/17.
  //    ROUGE tokens keep "the": pred 10, gold 11, 9 unigrams shared: R1 18/21;
  //    bigrams shared {the team, the budget, agreed to} of 9 and 10: R2 6/19;
  //    LCS "the discussed and agreed to costs" = 6: RL 12/21.
  static let expected: [Int: [Double?]] = [
    1: [1, 1, nil, 0.8, 2.0 / 3, 0.8, 1, 1],
    2: [0, 0.8, nil, 0.8, 2.0 / 3, 0.8, 0.5, 1],
    3: [1, 1, nil, 1, 0, 1, nil, nil],
    4: [0, 0, nil, 0, 0, 0, 0, 0],
    5: [nil, nil, 1, nil, nil, nil, nil, nil],
    6: [nil, nil, 0, nil, nil, nil, nil, nil],
    7: [0, 0, nil, 0, 0, 0, 0.5, 0.5],
    8: [0, 14.0 / 17, nil, 18.0 / 21, 6.0 / 19, 12.0 / 21, nil, nil],
  ]

  /// Each fixture line as a result: its "cited" places become the record's citations (the
  /// first verified) and are scored as cited.
  static func scoredFixture() throws -> [BatchResult] {
    let input = try BatchInput.parse(Data(fixture.utf8), name: "fixture.jsonl")
    #expect(input.problems.isEmpty)
    return try input.questions.map { q in
      struct Place: Codable { var path: String; var lines: [Int]?; var page: Int? }
      var places: [Place] = []
      if case .array(let items)? = q.extra["cited"] {
        places = try JSONDecoder().decode([Place].self, from: try JSONEncoder().encode(items))
      }
      guard case .string(let answer)? = q.extra["answer"] else { throw BatchInputError(description: "fixture without answer") }
      let citations: [[String: Any]] = places.enumerated().map { i, p in
        [
          "n": i + 1, "path": p.path, "first_line": p.lines?.first ?? NSNull(), "last_line": p.lines?.last ?? NSNull(),
          "page": p.page ?? NSNull(), "verified": i == 0, "problem": NSNull(), "chunk_ids": [Int](),
        ]
      }
      let line: [String: Any] = ["id": 0, "question": q.question, "answer": answer, "citations": citations]
      var result = try JSONDecoder().decode(BatchResult.self, from: try JSONSerialization.data(withJSONObject: line))
      result.id = q.id
      let cited = places.map { p in
        AnswerScoring.CitedPlace(path: p.path, lines: p.lines.flatMap { $0.count == 2 ? $0[0]...$0[1] : nil }, page: p.page)
      }
      result.scores = BatchResult.score(answer: answer, cited: cited, question: q)
      return result
    }
  }

  @Test("every score of the hand-checked fixture")
  func fixtureScores() throws {
    for result in try Self.scoredFixture() {
      let id = Int(result.id.scalarText ?? "") ?? -1
      let want = try #require(Self.expected[id])
      let s = result.scores
      let got = [s.em, s.f1, s.accuracy, s.rouge1, s.rouge2, s.rougeL, s.citationPrecision, s.citationRecall]
      for (name, (g, w)) in zip(["em", "f1", "accuracy", "rouge1", "rouge2", "rougeL", "citationP", "citationR"], zip(got, want)) {
        switch (g, w) {
        case (nil, nil): break
        case (let g?, let w?): #expect(abs(g - w) < 1e-9, "id \(id) \(name): \(g) ≠ \(w)")
        default: Issue.record("id \(id) \(name): got \(String(describing: g)), want \(String(describing: w))")
        }
      }
    }
  }

  @Test("summary means over the fixture: each metric over the questions it applies to")
  func fixtureSummary() throws {
    let summary = BatchSummary(results: try Self.scoredFixture())
    #expect(summary.n == 8)
    // EM over 6 gold questions: 1 + 0 + 1 + 0 + 0 + 0 = 2 → 1/3.
    #expect(summary.em?.n == 6 && abs((summary.em?.mean ?? 0) - 1.0 / 3) < 1e-9)
    // F1: (1 + 0.8 + 1 + 0 + 0 + 14/17) / 6.
    #expect(abs((summary.f1?.mean ?? 0) - (2.8 + 14.0 / 17) / 6) < 1e-9)
    #expect(summary.accuracy?.n == 2 && summary.accuracy?.mean == 0.5)
    // Citation P over ids 1, 2, 4, 7: (1 + 0.5 + 0 + 0.5) / 4; R: (1 + 1 + 0 + 0.5) / 4.
    #expect(abs((summary.citationPrecision?.mean ?? 0) - 0.5) < 1e-9)
    #expect(abs((summary.citationRecall?.mean ?? 0) - 0.625) < 1e-9)
    // 5 citations in all, the first of each answer verified: 3 of 5.
    #expect(summary.verifiedCitations == 0.6)
  }

  @Test("SQuAD normalisation: case, punctuation, articles, whitespace")
  func normalisation() {
    #expect(AnswerScoring.normalize("  The  Denver-Broncos, an  Apple a day ") == "denverbroncos apple day")
    #expect(AnswerScoring.normalize("Theory") == "theory")
    #expect(AnswerScoring.exactMatch("the Broncos!", gold: ["Broncos"]) == 1)
    #expect(AnswerScoring.exactMatch("x", gold: []) == 0)
    #expect(AnswerScoring.strippingCitationMarkers("Paris [1][2], France [1, 3].") == "Paris, France.")
  }

  @Test("multiple choice: letters in several forms, text, ambiguity")
  func choices() {
    let c = ["red apple", "green pear", "blue plum"]
    #expect(AnswerScoring.choiceIndex("B", choices: c) == 1)
    #expect(AnswerScoring.choiceIndex("(C)", choices: c) == 2)
    #expect(AnswerScoring.choiceIndex("A. red apple", choices: c) == 0)
    #expect(AnswerScoring.choiceIndex("Answer: B", choices: c) == 1)
    #expect(AnswerScoring.choiceIndex("D", choices: c) == nil)
    #expect(AnswerScoring.choiceIndex("It is the green pear.", choices: c) == 1)
    #expect(AnswerScoring.choiceIndex("red apple or blue plum", choices: c) == nil)
    #expect(AnswerScoring.choiceIndex("A bird", choices: c) == nil)
  }

  @Test("citation paths match by suffix at a path boundary only")
  func paths() {
    #expect(AnswerScoring.samePath("/a/b/collection/x.txt", "collection/x.txt"))
    #expect(AnswerScoring.samePath("x.txt", "/tmp/x.txt"))
    #expect(!AnswerScoring.samePath("/tmp/myx.txt", "x.txt"))
    #expect(!AnswerScoring.samePath("/tmp/x.txt", "y.txt"))
  }
}
