import Foundation
import Testing
import TomeCore
import TomeStore
import TomeTestSupport

@Suite struct SearchTermsTests {
  @Test("numbers with thousands separators are also indexed without them")
  func numbers() {
    #expect(SearchTerms.numbers(in: "Purchases of PP&E (1,577) (1,373) and $12,345.67; 2018; 1,5770; 3.14") == ["1577", "1373", "12345.67"])
    #expect(SearchTerms.numbers(in: "1,000,000 and 1,000,000 again") == ["1000000"])
    #expect(SearchTerms.numbers(in: "no numbers, 12, 3") == [])
  }


  @Test("BM25 finds 1,577 when asked for 1577, and matches header words that are not in the text")
  func numbersAndHeaders() throws {
    let dir = try TemporaryDirectory()
    let store = try IndexStore(directory: dir.url, create: true)
    _ = try store.replaceDocument(path: "/d/3M_2018_10K.txt") { writer in
      try writer.insert(
        Chunk(
          ordinal: 0, text: "Purchases of property, plant and equipment (1,577)",
          span: SourceSpan(path: "/d/3M_2018_10K.txt", firstLine: 1, lastLine: 1, page: 60, byteRange: 0..<51), tokenCount: 8,
          header: "3M 2018 10K | p. 60"))
      try writer.insert(
        Chunk(
          ordinal: 1, text: "Net sales rose in every segment",
          span: SourceSpan(path: "/d/3M_2018_10K.txt", firstLine: 2, lastLine: 2, page: 61, byteRange: 52..<83), tokenCount: 6))
      return DocumentRecord(path: "/d/3M_2018_10K.txt", kind: .text, sha256: "ab", size: 83, modificationTime: 1, status: .indexed, chunkCount: 2, tokenCount: 14)
    }
    #expect(try store.searchText("1577", limit: 5).map(\.chunk.chunk.ordinal) == [0])
    #expect(try store.searchText("1,577", limit: 5).map(\.chunk.chunk.ordinal) == [0])
    // "3M" and "2018" are only in the header; the excerpt still shows the text.
    let hit = try #require(try store.searchText("3M 2018", limit: 5).first)
    #expect(hit.chunk.chunk.ordinal == 0 && hit.chunk.chunk.header == "3M 2018 10K | p. 60")
    #expect(hit.excerpt.hasPrefix("Purchases"))
    #expect(try store.chunks(of: hit.chunk.documentID).map(\.chunk.header) == ["3M 2018 10K | p. 60", nil])
    // Deleting the document removes its FTS rows (the triggers pass header and terms too).
    try store.removeDocuments(paths: ["/d/3M_2018_10K.txt"])
    #expect(try store.searchText("1577 segment 3M", limit: 5).isEmpty)
  }
}
