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
    // Each page's first short line is its title.
    #expect(
      pagedChunks.map(\.header) == [
        "3M 2018 10K | Cash flows | p. 1", "3M 2018 10K | Purchases of property, plant and equipment (1,577) | p. 2",
      ])
    #expect(pagedChunks[1].embeddingText == pagedChunks[1].header! + "\n\n" + pagedChunks[1].text)
    let markdown = try dir.write("install-guide.md", "# Install\n\n## Linux\n\nRun the script.\n")
    let (mdChunks, _) = try chunk(markdown)
    #expect(mdChunks.last?.header == "install guide | Install > Linux")
    // The header is context, not text: spans and text stay exact.
    expectSpansExact(pagedChunks, file: Array("Cash flows\n\u{0C}Purchases of property, plant and equipment (1,577)\n".utf8))
  }

  @Test("every chunk of a page carries the page's title; running headers and long lines are not titles")
  func pageTitles() throws {
    let dir = try TemporaryDirectory()
    var pages: [String] = []
    for n in 1...6 {
      // "Table of Contents" opens every page (a running header); a statement's title and its
      // spaced-out last letter, as pdftotext writes wide headings, open page 5.
      let opening = n == 5 ? "Consolidated Balance Shee t\nAt December 31" : "Notes \(n)"
      let body = (1...40).map { "Row \($0) of page \(n) with enough words to fill the chunks, 1,\($0)00 and 2,\($0)50." }
      pages.append("Table of Contents\n" + opening + "\n\n" + body.joined(separator: "\n"))
    }
    let url = try dir.write("ACME_2018_10K.txt", pages.joined(separator: "\n\u{0C}"))
    let (chunks, _) = try chunk(url, maxTokens: 128)
    let fifth = chunks.filter { $0.span.page == 5 }
    #expect(fifth.count >= 3)
    #expect(fifth.allSatisfy { $0.header == "ACME 2018 10K | Consolidated Balance Sheet · At December 31 | p. 5" })
    // Seen on two earlier pages, and on more than a quarter of them, the running header goes.
    #expect(chunks.first { $0.span.page == 2 }?.header == "ACME 2018 10K | Table of Contents · Notes 2 | p. 2")
    #expect(chunks.first { $0.span.page == 4 }?.header == "ACME 2018 10K | Notes 4 | p. 4")
    // A page that opens with a long line has no title.
    let long = try dir.write("long.txt", "x\n\u{0C}" + String(repeating: "a long line of body text ", count: 8) + "\n")
    #expect(try chunk(long).chunks.last?.header == "long | p. 2")
  }

  @Test("on a real 10-K, the rows of the cash flow statement know they belong to it")
  func realFilingPageTitles() throws {
    let (chunks, _) = try chunk(SharedData.data("financebench-dev/txt/3M_2018_10K.txt"))
    // Page 60 (0-based 59, FinanceBench's evidence for 3M's FY2018 capital expenditure).
    let statement = chunks.filter { $0.span.page == 60 }
    #expect(statement.count >= 2)
    #expect(statement.allSatisfy { $0.header?.contains("Consolidated Statement of Cash Flows") == true })
    #expect(statement.contains { !$0.text.contains("Cash Flow") })
    #expect(!chunks.contains { ($0.span.page ?? 0) > 3 && $0.header?.contains("Table of Contents") == true })
  }

  @Test("a table is embedded by its labels, prose whole")
  func tableLabels() throws {
    let span = SourceSpan(path: "t.txt", firstLine: 1, lastLine: 1, byteRange: 0..<1)
    let table = Chunk(
      ordinal: 0, text: "Merchandise inventories\n\n5,409\n\n5,209\nTotal current assets\n8,870\n$\n(1,577)", span: span,
      tokenCount: 20,
      header: "BESTBUY 2019 10K | Consolidated Balance Sheets | p. 52")
    #expect(table.embeddedBody == "Merchandise inventories\nTotal current assets")
    #expect(table.embeddingText == "BESTBUY 2019 10K | Consolidated Balance Sheets | p. 52\n\nMerchandise inventories\nTotal current assets")
    // Half the lines with words is prose with figures, not a table; figures alone stay as they are.
    let prose = Chunk(ordinal: 0, text: "Net sales rose 3%.\n2018\nThe rest is words.\n42", span: span, tokenCount: 12)
    #expect(prose.embeddingText == prose.text)
    let figures = Chunk(ordinal: 0, text: "1,577\n262\n13", span: span, tokenCount: 6)
    #expect(figures.embeddedBody == figures.text)
    // On the real 10-K the cash flow statement is embedded by its row labels; the discussion
    // of capital spending on page 39 is embedded word for word.
    let (chunks, _) = try chunk(SharedData.data("financebench-dev/txt/3M_2018_10K.txt"))
    let statement = chunks.filter { $0.span.page == 60 }
    #expect(statement.map(\.embeddedBody).joined().contains("Purchases of property, plant and equipment (PP&E)"))
    let tables = statement.filter { $0.embeddedBody != $0.text }
    #expect(!tables.isEmpty)
    #expect(tables.allSatisfy { $0.embeddedBody.split(separator: "\n").allSatisfy { $0.contains(where: \.isLetter) } })
    let discussion = try #require(chunks.first { $0.span.page == 39 && $0.text.contains("capital spending") })
    #expect(discussion.embeddedBody == discussion.text)
  }
}
