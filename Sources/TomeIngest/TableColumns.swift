import Foundation

/// The column headings of the table a chunk continues, for the chunk's header.
///
/// A long table (a cash-flow statement of sixty rows) fills several chunks, and only the first
/// holds its column headings. The row "Purchases of property, plant and equipment (1,577)
/// (1,373) (1,420)" in the second chunk no longer says which figure is 2018's; with the
/// headings in its header ("columns 2018 · 2017 · 2016") BM25 and the encoder see the years, and
/// so does a reader of the passage. Tables are recognised in two shapes: aligned columns, as
/// `pdftotext -layout` writes a PDF's tables (cells apart by two or more spaces or a tab), and
/// Markdown pipe tables (a row of `|` cells over a `|---|` delimiter row).
///
/// A heading row of aligned columns is one whose cells after the first (the label column's)
/// name periods, at least two of them: a year with at most a few words of dates and spans
/// ("(Millions)  2018  2017  2016", "December 31, 2018   December 31, 2017"). Headings stay in
/// effect until the page ends, a heading starts a section, another heading row replaces them,
/// or the table ends: a Markdown table with its last row, aligned columns at a paragraph of
/// prose.
struct TableColumns {
  /// A block of prose ends the table when one of its lines has more words than this.
  static let proseWords = 12
  /// A period cell ("Fiscal 2019", "Three Months Ended June 30, 2023") has at most these words.
  static let periodWords = 6

  /// Where the headings change: from `line` on (a line number of the document), `columns`
  /// (nil: none), in order of lines.
  private var changes: [(line: Int, columns: String?)] = []
  /// The last headings came from a Markdown table, which ends with its last row.
  private var inPipeTable = false

  /// A new page begins: no table continues across it.
  mutating func startPage() {
    changes = []
  }

  /// Reads a block: a heading, a paragraph of prose or (after a Markdown table) any block that
  /// is not a table ends the current table; a heading row starts a new one on the line after it.
  /// Short lines between the row groups of a statement ("Cash Flows from Investing
  /// Activities") do not end it.
  mutating func read(_ block: Block) {
    let lines = block.lines.filter { !$0.isBlank }
    guard let first = lines.first else { return }
    let table = Self.isTable(lines.map(\.text))
    if block.heading != nil || (!table && (inPipeTable || lines.contains { Self.wordCount($0.text) > Self.proseWords })) {
      changes.append((first.firstLine, nil))
      inPipeTable = false
      return
    }
    for (index, line) in lines.enumerated() {
      if let columns = Self.layoutHeadings(line.text) {
        changes.append((line.lastLine + 1, columns))
        inPipeTable = false
      } else if index + 1 < lines.count, Self.isDelimiterRow(lines[index + 1].text), Self.isPipeRow(line.text) {
        changes.append((lines[index + 1].lastLine + 1, Self.pipeCells(line.text).joined(separator: " · ")))
        inPipeTable = true
      }
    }
  }

  /// The headings in effect at `line`: nil outside a table, or on the heading row itself (a
  /// chunk that starts there holds them in its text).
  func columns(atLine line: Int) -> String? {
    changes.last { $0.line <= line }?.columns
  }

  // MARK: - Recognising rows

  /// True when at least half the lines, and at least one, are table rows: the block is then cut
  /// at line ends, never inside a row.
  static func isTable(_ lines: [String]) -> Bool {
    let rows = lines.filter(isRow).count
    return rows > 0 && rows * 2 >= lines.count
  }

  /// A Markdown pipe row, or a line of aligned cells of which at least one holds a digit.
  static func isRow(_ line: String) -> Bool {
    if isPipeRow(line) { return true }
    let cells = layoutCells(line)
    return cells.count >= 2 && cells.contains { $0.contains(where: \.isNumber) }
  }

  /// The cells of an aligned row: runs of text apart by two or more spaces or a tab.
  static func layoutCells(_ line: String) -> [Substring] {
    var cells: [Substring] = []
    var start: String.Index?
    var end = line.startIndex
    var gap = 0
    var index = line.startIndex
    while index < line.endIndex {
      let character = line[index]
      let next = line.index(after: index)
      if character == " " {
        gap += 1
      } else if character == "\t" {
        gap += 2
      } else {
        if let begun = start, gap >= 2 {
          cells.append(line[begun..<end])
          start = index
        } else if start == nil {
          start = index
        }
        end = next
        gap = 0
      }
      index = next
    }
    if let begun = start { cells.append(line[begun..<end]) }
    return cells
  }

  /// The cells joined by " · " when the line is a heading row of periods; nil otherwise.
  static func layoutHeadings(_ line: String) -> String? {
    let cells = layoutCells(line)
    guard cells.count >= 2, let first = cells.first else { return nil }
    // The first cell may be the label column's heading ("(Millions)", "Year ended").
    let named = isPeriod(first) ? cells[...] : cells.dropFirst()
    guard named.count >= 2, named.allSatisfy(isPeriod) else { return nil }
    return cells.joined(separator: " · ")
  }

  /// A cell that names a period: a year, with at most a few words of dates and spans ("Fiscal
  /// 2019", "December 31, 2018", "Three Months Ended June 30, 2023") and no other figure.
  static func isPeriod(_ cell: Substring) -> Bool {
    let words = cell.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { $0.lowercased() }
    guard words.count <= periodWords, words.contains(where: { isYear(Substring($0)) }) else { return false }
    return words.allSatisfy { word in
      word.allSatisfy(\.isNumber) ? (isYear(Substring(word)) || word.count <= 2) : periodVocabulary.contains(word)
    }
  }

  /// Words that may stand beside a year in a column heading.
  static let periodVocabulary: Set<String> = [
    "fiscal", "fy", "year", "years", "ended", "ending", "end", "as", "of", "at", "months", "weeks", "quarter", "three",
    "six", "nine", "twelve", "q1", "q2", "q3", "q4", "h1", "h2", "first", "second", "third", "fourth", "half", "ytd",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "vs", "change",
    "actual", "estimated", "restated", "to", "and",
  ]

  static func isPipeRow(_ line: String) -> Bool {
    let trimmed = line.drop { $0 == " " }
    return trimmed.hasPrefix("|") && trimmed.filter { $0 == "|" }.count >= 2
  }

  /// `|---|:--:|`: pipes, dashes, colons and spaces, with at least one dash.
  static func isDelimiterRow(_ line: String) -> Bool {
    line.contains("-") && line.contains("|") && line.allSatisfy { "|-: \t".contains($0) }
  }

  static func pipeCells(_ line: String) -> [String] {
    line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }

  private static func isYear(_ digits: Substring) -> Bool {
    digits.count == 4 && (digits.hasPrefix("19") || digits.hasPrefix("20"))
  }

  private static func wordCount(_ text: String) -> Int {
    text.split(whereSeparator: \.isWhitespace).count
  }
}
