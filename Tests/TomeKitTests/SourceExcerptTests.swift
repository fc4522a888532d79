import Foundation
import Testing
import TomeCore
import TomeKit
import TomeReasoning
import TomeTestSupport

@Suite struct SourceExcerptTests {
  func passage(_ path: String, _ lines: ClosedRange<Int>, _ text: String, page: Int? = nil) -> Passage {
    Passage(
      id: ChunkID(1), text: text, span: SourceSpan(path: path, firstLine: lines.lowerBound, lastLine: lines.upperBound, page: page, byteRange: 0..<1),
      score: 1)
  }

  @Test("the cited lines with two lines of context each side, clipped at the file's ends; CRLF files too")
  func lines() throws {
    let dir = try TemporaryDirectory()
    let text = (1...9).map { "line \($0)" }.joined(separator: "\r\n") + "\r\n"
    try dir.write("a.txt", text)
    let path = dir.url.appendingPathComponent("a.txt").path
    let middle = SourceExcerpt(passage: passage(path, 4...5, "line 4\nline 5"))
    guard case .lines(let shown) = middle.content else { Issue.record("expected lines, got \(middle.content)"); return }
    #expect(shown.map(\.number) == Array(2...7))
    #expect(shown.filter(\.cited).map(\.text) == ["line 4", "line 5"])
    guard case .lines(let start) = SourceExcerpt(passage: passage(path, 1...1, "line 1"), context: 3).content else {
      Issue.record("expected lines")
      return
    }
    #expect(start.map(\.number) == [1, 2, 3, 4])
  }

  @Test("a changed or deleted file shows the indexed text, marked stale; PDF pages and HTML show it unmarked")
  func indexedText() throws {
    let dir = try TemporaryDirectory()
    try dir.write("a.txt", "one\ntwo\nthree\n")
    let path = dir.url.appendingPathComponent("a.txt").path
    #expect(SourceExcerpt(passage: passage(path, 2...2, "deux")).content == .indexedText("deux", stale: true))
    #expect(SourceExcerpt(passage: passage(path + ".gone", 2...2, "two")).content == .indexedText("two", stale: true))
    #expect(SourceExcerpt(passage: passage(path, 2...2, "two", page: 3)).content == .indexedText("two", stale: false))
    try dir.write("b.html", "<p>one</p>\n")
    let html = dir.url.appendingPathComponent("b.html").path
    #expect(SourceExcerpt(passage: passage(html, 1...1, "one")).content == .indexedText("one", stale: false))
  }
}
