import Testing
import TomeCore

@Suite struct SourceSpanTests {
  @Test("citation prints path:first-last, a single line once, and the page for PDFs")
  func citation() {
    #expect(SourceSpan(path: "a/b.md", firstLine: 3, lastLine: 9, byteRange: 0..<10).citation == "a/b.md:3-9")
    #expect(SourceSpan(path: "x.txt", firstLine: 4, lastLine: 4, byteRange: 0..<1).citation == "x.txt:4")
    #expect(SourceSpan(path: "r.pdf", firstLine: 1, lastLine: 2, page: 7, byteRange: 0..<1).citation == "r.pdf:1-2 (p. 7)")
  }

  @Test("embedding matrix rows are contiguous slices")
  func matrixRows() {
    var m = EmbeddingMatrix(dimension: 2)
    m.append(row: [1, 2])
    m.append(row: [3, 4])
    #expect(m.count == 2)
    #expect(Array(m[row: 1]) == [3, 4])
  }
}
