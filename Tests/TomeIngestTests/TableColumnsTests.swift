import Foundation
import Testing
import TomeCore
import TomeTestSupport

@testable import TomeIngest

@Suite struct TableColumnsTests {
  @Test("rows, cells and column headings as pdftotext -layout writes a statement")
  func layoutLines() {
    #expect(TableColumns.layoutCells("(Millions)                 2018      2017      2016") == ["(Millions)", "2018", "2017", "2016"])
    #expect(TableColumns.layoutCells("  Net income\t\t5,363  4,869 ") == ["Net income", "5,363", "4,869"])
    #expect(TableColumns.layoutHeadings("(Millions)                 2018      2017      2016") == "(Millions) · 2018 · 2017 · 2016")
    #expect(TableColumns.layoutHeadings("          2018      2017") == "2018 · 2017")
    #expect(
      TableColumns.layoutHeadings("                  December 31, 2018     December 31, 2017")
        == "December 31, 2018 · December 31, 2017")
    #expect(
      TableColumns.layoutHeadings("Three Months Ended June 30,   2023    2022") == "Three Months Ended June 30, · 2023 · 2022")
    // Figures are a row, not headings; one year is not a heading row; nor is prose in two
    // columns that happens to name two years.
    #expect(TableColumns.layoutHeadings("Net income                 5,363     4,869") == nil)
    #expect(TableColumns.layoutHeadings("Total 2018                 2,019     2,018") == nil)
    #expect(TableColumns.layoutHeadings("(Millions)                 2018") == nil)
    #expect(TableColumns.layoutHeadings("In 2018 sales rose          compared with 2017") == nil)
    #expect(TableColumns.isRow("Net income                 5,363     4,869"))
    #expect(!TableColumns.isRow("Net income rose to 5,363 million in 2018."))
    #expect(!TableColumns.isRow("Risk factors        Legal proceedings"))
    #expect(TableColumns.isRow("| Q1 | 120 |") && TableColumns.isDelimiterRow("|---|:---:|") && !TableColumns.isDelimiterRow("| a | b |"))
  }

  @Test("a PDF statement over several chunks: each continuation carries the column headings, rows stay whole")
  func pdfStatement() throws {
    let labels = ["Net sales", "Cost of sales", "Depreciation and amortization", "Accounts receivable", "Inventories"]
    let rows = (0..<56).map { i in [labels[i % labels.count] + " \(i / labels.count + 1)", "\(1_000 + 7 * i)", "(\(900 + 5 * i))", "\(800 + 3 * i)"] }
    let statement: [[String]] =
      [["Example Corp and Subsidiaries"], ["Consolidated Statement of Cash Flows"], ["(Millions)", "2018", "2017", "2016"]]
      + rows + [["Purchases of property, plant and equipment", "(1,577)", "(1,373)", "(1,420)"]]
    let notes: [[String]] = [
      ["Note 7. Segments"], ["The company reports three segments, which the tables below compare."],
      ["(Millions)", "Fiscal 2019", "Fiscal 2018"], ["Industrial", "5,100", "4,900"], ["Consumer", "3,200", "3,050"],
    ]
    let dir = try TemporaryDirectory()
    let url = try dir.write("EXAMPLE_2018_10K.pdf", data: makeTablePDF(pages: [statement, notes]))
    let layout = try runCommand("/usr/bin/pdftotext", ["-layout", "-enc", "UTF-8", url.path, "-"])
    let layoutLines = Set(layout.split(whereSeparator: \.isNewline).map(String.init))
    for overlap in [0, 32] {
      let (chunks, _) = try chunk(url, display: "EXAMPLE_2018_10K.pdf", maxTokens: 160, overlap: overlap)
      let pageOne = chunks.filter { $0.span.page == 1 }
      try #require(pageOne.count >= 3)
      // The first chunk holds the heading row itself; every later one names the columns.
      #expect(pageOne[0].text.contains("2018") && pageOne[0].header?.contains("columns") == false)
      for continuation in pageOne.dropFirst() {
        #expect(continuation.header == "EXAMPLE 2018 10K | Example Corp and Subsidiaries · Consolidated Statement of Cash Flows | columns (Millions) · 2018 · 2017 · 2016 | p. 1")
        #expect(continuation.embeddingText.hasPrefix(continuation.header! + "\n\n"))
      }
      let capex = try #require(pageOne.first { $0.text.contains("Purchases of property") })
      #expect(capex.ordinal > 0 && capex.header?.contains("2018 · 2017 · 2016") == true)
      // Tables are cut between rows: every line of every chunk is a whole line of the layout.
      let cut = chunks.flatMap { $0.text.split(whereSeparator: \.isNewline) }.map { $0.replacingOccurrences(of: "\u{0C}", with: "") }
        .filter { !$0.allSatisfy(\.isWhitespace) && !layoutLines.contains($0) }
      #expect(cut.isEmpty, "rows cut apart: \(cut)")
      // Page 2: the statement's columns end with its page; the note's table has its own.
      let pageTwo = chunks.filter { $0.span.page == 2 }
      #expect(!pageTwo.isEmpty && pageTwo.allSatisfy { $0.header?.contains("2016") != true })
    }
  }

  @Test("a Markdown pipe table: continuations carry its heading row, up to its last row")
  func markdownTable() throws {
    var text = "# Quarterly results\n\nThe table lists every quarter since the company began reporting them.\n\n"
    text += "| Quarter | Revenue | Margin |\n|---|---:|---:|\n"
    for i in 0..<90 { text += "| Q\(i % 4 + 1) \(1990 + i / 4) | \(1_000 + 13 * i) | \(20 + i % 7)% |\n" }
    text += "\n" + (1...60).map { "Note \($0) explains one of the figures above.\n" }.joined() + "\n"
    text += String(repeating: "Margins rose in most years because the company raised prices and cut its costs. ", count: 30) + "\n"
    let dir = try TemporaryDirectory()
    let url = try dir.write("results.md", text)
    let (chunks, _) = try chunk(url)
    let table = chunks.filter { $0.text.contains("| Q") }
    try #require(table.count >= 3)
    #expect(table[0].header?.contains("columns") == false)
    for continuation in table.dropFirst() {
      #expect(continuation.header == "results | Quarterly results | columns Quarter · Revenue · Margin")
      // Cut between rows: each chunk starts on a row, and every row in it is whole.
      let lines = continuation.text.split(separator: "\n")
      #expect(lines.first?.hasPrefix("| Q") == true)
      #expect(lines.filter { $0.hasPrefix("|") }.allSatisfy { $0.hasSuffix("% |") })
    }
    // The table ends with its last row, even before short lines that are not prose.
    let after = chunks.filter { !$0.text.contains("| Q") }
    #expect(after.count >= 2 && after.allSatisfy { $0.header?.contains("columns") == false })
  }

  @Test("a real 10-K as pdftotext wrote it without -layout: no column headings are invented")
  func realFilingUnchanged() throws {
    let (chunks, _) = try chunk(SharedData.data("financebench-dev/txt/3M_2018_10K.txt"))
    #expect(chunks.count > 300)
    #expect(chunks.allSatisfy { $0.header?.contains("| columns ") != true })
  }
}
