import Testing
import TomeCore
import TomeReasoning

@Suite struct CitationCheckerTests {
  static func passage(_ id: Int64, _ text: String, path: String = "/docs/a.txt", lines: ClosedRange<Int> = 1...3) -> Passage {
    Passage(
      id: ChunkID(id), text: text,
      span: SourceSpan(path: path, firstLine: lines.lowerBound, lastLine: lines.upperBound, byteRange: 0..<text.utf8.count),
      score: 1)
  }

  let checker = CitationChecker(numbered: [
    1: passage(10, "Trevor Blackwell has made a handy\ncalculator you can use to find out.", lines: 8...9),
    2: passage(20, "Superangels are angel investors who invest\nlarger amounts, like VCs.", path: "/docs/b.txt", lines: 40...41),
  ])

  @Test("markers resolve to passage spans; [1, 2], [1][2] and repeats are handled")
  func markers() {
    let report = checker.check("Blackwell made a calculator [1]. Superangels invest more [2][1]. See [1, 2].")
    #expect(report.citations.map(\.number) == [1, 2])
    #expect(report.citations.allSatisfy { $0.verified })
    #expect(report.citations[0].path == "/docs/a.txt" && report.citations[0].firstLine == 8 && report.citations[0].lastLine == 9)
    #expect(report.citations[1].chunkIDs == [ChunkID(20)])
    #expect(report.unknownMarkers.isEmpty)
  }

  @Test("an unknown marker is flagged; brackets that are not markers are ignored")
  func unknown() {
    let report = checker.check("It is in [3] and also [see above] and [1].")
    #expect(report.citations.map(\.number) == [3, 1])
    #expect(report.unknownMarkers == [3])
    #expect(report.citations[0].verified == false && report.citations[0].problem != nil)
    #expect(report.citations[1].verified)
  }

  @Test("quotations are verified against the cited passage, across line breaks, case and curly quotes")
  func quotes() {
    let good = checker.check("He says “Trevor Blackwell has made a HANDY calculator” [1].")
    #expect(good.quotes.count == 1 && good.quotes[0].verified && good.quotes[0].checkedAgainst == [1])
    #expect(good.citations[0].verified)
    let wrongPassage = checker.check("The essay says \"Trevor Blackwell has made a handy calculator\" [2].")
    #expect(wrongPassage.quotes[0].verified == false)
    #expect(wrongPassage.citations[0].number == 2 && wrongPassage.citations[0].verified == false)
    let invented = checker.check("He wrote \"a calculator for everyone\" [1].")
    #expect(invented.quotes[0].verified == false && invented.citations[0].verified == false)
    // Multi-line quotation: whitespace is normalised.
    let multiline = checker.check("\"a handy calculator you can use\" [1]")
    #expect(multiline.quotes[0].verified)
    // A single quoted word is not a quotation.
    #expect(checker.check("the \"calculator\" [1]").quotes.isEmpty)
  }

  @Test("support: words from the sources pass, invented content is unsupported, abstention never is")
  func support() {
    let sources = ["Trevor Blackwell has made a handy calculator you can use to find out."]
    let check = SupportCheck()
    #expect(check.check(answer: "Trevor Blackwell made the calculator [1].", sources: sources).unsupported == false)
    let invented = check.check(answer: "Paris is the capital of France and Germany.", sources: sources)
    #expect(invented.unsupported && invented.missingWords.contains("paris"))
    #expect(check.check(answer: "Not found in the collection.", sources: sources).unsupported == false)
  }
}

@Suite struct ContextBudgetTests {
  @Test("passages are kept best first; the lowest-ranked are dropped and returned")
  func dropping() throws {
    let budget = ContextBudget(contextTokens: 100, overheadTokens: 30, answerTokens: 20)
    #expect(budget.available == 50)
    let fit = try budget.fit([20, 20, 20, 5]) { $0 }
    #expect(fit.kept == [20, 20] && fit.dropped == [20, 5] && fit.usedTokens == 40)
    let all = try budget.fit([10, 10]) { $0 }
    #expect(all.dropped.isEmpty && all.usedTokens == 20)
  }

  @Test("a question that leaves no room, or a best passage that does not fit, is an error")
  func errors() {
    #expect(throws: ReasoningError.questionTooLong(tokens: 90, limit: 80)) {
      try ContextBudget(contextTokens: 100, overheadTokens: 90, answerTokens: 20).fit([1]) { $0 }
    }
    #expect(throws: ReasoningError.contextTooSmall(needed: 60, available: 50)) {
      try ContextBudget(contextTokens: 100, overheadTokens: 30, answerTokens: 20).fit([60, 1]) { $0 }
    }
  }
}

@Suite struct SentenceSplitterTests {
  @Test("sentences keep their lines; joined paragraphs (\"die?The\") split; abbreviations do not")
  func split() {
    let text = "by default do they live or die?The startling thing\nis how often. Dr. Smith, e.g. him, agrees.\n\nA new paragraph"
    let s = SentenceSplitter.sentences(in: text, firstLine: 6)
    #expect(s.map(\.text) == [
      "by default do they live or die?", "The startling thing\nis how often.", "Dr. Smith, e.g. him, agrees.",
      "A new paragraph",
    ])
    #expect(s.map(\.firstLine) == [6, 6, 7, 9])
    #expect(s.map(\.lastLine) == [6, 7, 7, 9])
  }
}
