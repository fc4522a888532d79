import Foundation
import Testing
import TomeCore
import TomeTestSupport

import TomeIngest

@Suite struct TextPagesTests {
  @Test("form feeds in a text file are page breaks: chunks carry the page and never cross one")
  func formFeedPages() throws {
    let dir = try TemporaryDirectory()
    // pdftotext's layout: each page after the first starts with a form feed; the file ends with one.
    let text = "Annual report\nfirst page text.\n\n\u{0C}Second page, line one.\nline two.\n\u{0C}\u{0C}Fourth page.\n\u{0C}"
    let url = try dir.write("REPORT_2018_10K.txt", text)
    let (chunks, _) = try chunk(url, display: "REPORT_2018_10K.txt")
    #expect(chunks.map(\.span.page) == [1, 2, 4])
    // Lines and bytes still count in the whole file, so `sed -n` finds the text.
    #expect(chunks.map(\.span.firstLine) == [1, 4, 6])
    expectSpansExact(chunks, file: Array(text.utf8))
    #expect(chunks[1].text.hasPrefix("\u{0C}Second page"))
    #expect(chunks[1].span.citation == "REPORT_2018_10K.txt:4-5 (p. 2)")
  }

  @Test("a text file without form feeds has no pages")
  func noPages() throws {
    let dir = try TemporaryDirectory()
    let url = try dir.write("notes.txt", "One paragraph.\n\nAnother paragraph.\n")
    let (chunks, _) = try chunk(url)
    #expect(!chunks.isEmpty && chunks.allSatisfy { $0.span.page == nil })
  }

  @Test("chunks carry a header of title, section and page, which the encoder embeds with the text")
  func headers() throws {
    let dir = try TemporaryDirectory()
    let paged = try dir.write("3M_2018_10K.txt", "Cash flows\n\u{0C}Purchases of property, plant and equipment (1,577)\n")
    let (pagedChunks, _) = try chunk(paged, display: "filings/3M_2018_10K.txt")
    #expect(pagedChunks.map(\.header) == ["3M 2018 10K | p. 1", "3M 2018 10K | p. 2"])
    #expect(pagedChunks[1].embeddingText == "3M 2018 10K | p. 2\n\n" + pagedChunks[1].text)
    let markdown = try dir.write("install-guide.md", "# Install\n\n## Linux\n\nRun the script.\n")
    let (mdChunks, _) = try chunk(markdown)
    #expect(mdChunks.last?.header == "install guide | Install > Linux")
    // The header is context, not text: spans and text stay exact.
    expectSpansExact(pagedChunks, file: Array("Cash flows\n\u{0C}Purchases of property, plant and equipment (1,577)\n".utf8))
  }
}
