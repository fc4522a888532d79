import Foundation
import Testing
import TomeCore
import TomeKit
@testable import TomeReasoning

/// The answer record: its keys, its null rule, and its round trip through JSON, alone and as a
/// `tome batch` line.
@Suite struct AnswerRecordTests {
  /// An answer exercising every field: a verified marker, a marker that names no passage, an
  /// attribution, an unverified quote, a page and no page, a dropped passage, and a parsed
  /// decision (whose unpicked option scores −∞).
  static let answer: Answer = {
    let span = SourceSpan(path: "/docs/a.txt", firstLine: 3, lastLine: 5, byteRange: 10..<90)
    let pdf = SourceSpan(path: "/docs/b.pdf", firstLine: 1, lastLine: 2, page: 7, byteRange: 0..<40)
    let passages = [
      Passage(id: ChunkID(11), text: "line 3\nline 4\nline 5", span: span, score: 0.9, mergedIDs: [ChunkID(12)]),
      Passage(id: ChunkID(20), text: "page text\nmore", span: pdf, score: 0.5),
    ]
    return Answer(
      question: "What is a super-angel?", strategy: "auto→coc", model: "SmolLM2-360M",
      evidence: [Evidence(text: "line 4", path: "/docs/a.txt", firstLine: 4, lastLine: 4, page: nil, score: 0.71, chunkID: ChunkID(11))],
      text: "An angel who invests more [1]. It is \"not in the text\" [9]. They compete with VCs.",
      citations: [
        Citation(number: 1, path: "/docs/a.txt", firstLine: 3, lastLine: 5, page: nil, chunkIDs: [ChunkID(11), ChunkID(12)], verified: true, problem: nil),
        Citation(number: 9, path: nil, firstLine: nil, lastLine: nil, page: nil, chunkIDs: [], verified: false, problem: "no passage 9"),
      ],
      attributions: [
        Attribution(
          sentence: "They compete with VCs.", path: "/docs/b.pdf", firstLine: 2, lastLine: 2, page: 7, chunkID: ChunkID(20),
          overlap: 0.75, similarity: 0.62)
      ],
      unsupportedSentences: ["It is \"not in the text\" [9]."], quotes: [QuoteCheck(text: "not in the text", checkedAgainst: [9], verified: false)],
      unsupported: false, unsupportedWords: ["text"], notFound: false, passages: passages,
      dropped: [Passage(id: ChunkID(30), text: "dropped", span: span, score: 0.1)],
      tokens: TokenCounts(prompt: 812, answer: 24, calls: 2),
      timings: AnswerTimings(retrieval: 0.12, evidence: 0.05, timeToFirstToken: 1.5, total: 3.25),
      trace: [
        TraceStep(kind: .search, label: "retrieve", detail: "super-angel", results: 12, seconds: 0.1),
        TraceStep(
          kind: .decision, label: "route", detail: "which strategy?", promptTokens: 40, answerTokens: 1, seconds: 0.2,
          options: ["rag", "coc"], scores: [-.infinity, 0], chosen: "coc", method: "parsed"),
      ])
  }()

  static func object(_ data: Data) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  @Test("every key is written, absent values as null; decoding gives the same record")
  func roundTrip() throws {
    let record = AnswerRecord(Self.answer)
    let data = try JSONEncoder().encode(record)
    let json = try Self.object(data)
    #expect(
      Set(json.keys) == [
        "question", "strategy", "model", "answer", "not_found", "unsupported", "unsupported_words", "unsupported_sentences",
        "citations", "attributions", "evidence", "quotes", "passages", "dropped_chunk_ids", "tokens", "timings", "trace",
      ])
    let citations = try #require(json["citations"] as? [[String: Any]])
    let citationKeys: Set<String> = ["n", "path", "first_line", "last_line", "page", "verified", "problem", "chunk_ids"]
    #expect(citations.allSatisfy { Set($0.keys) == citationKeys })
    #expect(citations[1]["path"] is NSNull && citations[1]["first_line"] is NSNull && citations[1]["n"] as? Int == 9)
    #expect(citations[0]["chunk_ids"] as? [Int] == [11, 12] && citations[0]["problem"] is NSNull)
    let attribution = try #require((json["attributions"] as? [[String: Any]])?.first)
    #expect(Set(attribution.keys) == ["sentence", "path", "first_line", "last_line", "page", "chunk_id", "overlap", "similarity"])
    #expect(attribution["page"] as? Int == 7)
    let evidence = try #require((json["evidence"] as? [[String: Any]])?.first)
    #expect(Set(evidence.keys) == ["text", "path", "first_line", "last_line", "page", "score", "chunk_id"] && evidence["page"] is NSNull)
    #expect(Set(try #require((json["quotes"] as? [[String: Any]])?.first).keys) == ["text", "checked_against", "verified"])
    let passages = try #require(json["passages"] as? [[String: Any]])
    #expect(passages.allSatisfy { Set($0.keys) == ["n", "path", "first_line", "last_line", "page", "chunk_ids"] })
    #expect(passages.map { $0["n"] as? Int } == [1, 2] && passages[1]["page"] as? Int == 7)
    #expect(json["dropped_chunk_ids"] as? [Int] == [30])
    #expect(json["tokens"] as? [String: Int] == ["prompt": 812, "answer": 24, "calls": 2])
    #expect(Set(try #require(json["timings"] as? [String: Any]).keys) == ["retrieval", "evidence", "first_token", "total"])
    // Trace steps write every key too, and −∞ (JSON has none) as null.
    let trace = try #require(json["trace"] as? [[String: Any]])
    #expect(trace.allSatisfy { Set($0.keys) == Set(trace[1].keys) } && trace[0]["options"] is NSNull)
    #expect((trace[1]["scores"] as? [Any])?.first is NSNull)

    #expect(try JSONDecoder().decode(AnswerRecord.self, from: data) == record)
  }

  @Test("an answer without a model call: model and first_token are null, not missing")
  func nulls() throws {
    var answer = Self.answer
    answer.model = nil
    answer.timings.timeToFirstToken = nil
    let json = try Self.object(try JSONEncoder().encode(AnswerRecord(answer)))
    #expect(json["model"] is NSNull)
    #expect((json["timings"] as? [String: Any])?["first_token"] is NSNull)
  }

  @Test("decoding needs question and answer; Answer's old JSON (text, camelCase) is not a record")
  func decoding() throws {
    let minimal = try JSONDecoder().decode(AnswerRecord.self, from: Data(#"{"question": "q", "answer": "a"}"#.utf8))
    #expect(minimal.answer == "a" && minimal.citations.isEmpty && minimal.model == nil && minimal.tokens.calls == 0)
    let legacy = #"{"question": "q", "text": "a", "notFound": false, "citations": [], "passages": []}"#
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(AnswerRecord.self, from: Data(legacy.utf8)) }
  }

  @Test("a batch line is the record's keys plus the batch fields, and reads back the same")
  func batchLine() throws {
    let question = BatchQuestion(
      id: .string("q1"), line: 1, question: Self.answer.question, gold: ["an angel who invests more"],
      goldCitations: [GoldCitation(path: "docs/b.pdf", page: 7), GoldCitation(path: "docs/c.txt")],
      extra: ["topic": .string("pg"), "trace": .string("collides")])
    let result = BatchResult(question: question, answer: Self.answer)
    let line = try result.jsonLine()
    let json = try Self.object(Data(line.utf8))
    let recordKeys = Set(try Self.object(try JSONEncoder().encode(AnswerRecord(Self.answer))).keys)
    #expect(Set(json.keys) == recordKeys.union(["id", "gold", "gold_citations", "scores", "topic"]))
    #expect(json["topic"] as? String == "pg" && json["trace"] is [Any])
    let decoded = try JSONDecoder().decode(BatchResult.self, from: Data(line.utf8))
    #expect(decoded.record == result.record && decoded.scores == result.scores && decoded.extra == ["topic": .string("pg")])
    // Cited: the verified [1] (a.txt:3-5) and the attribution (b.pdf p. 7); the unknown [9]
    // does not count. b.pdf p. 7 matches one of the two gold places: P 1/2, R 1/2.
    #expect(result.scores.citationPrecision == 0.5 && result.scores.citationRecall == 0.5)
  }
}
