/// The title of each page of a paged document, read from the page's first short lines.
///
/// A page of a filing or report opens with what it is ("Consolidated Balance Sheets", "Note 7.
/// Debt", "PART II / Item 8 / BALANCE SHEETS"), and only its first chunk contains that line:
/// the chunk holding "Total inventories 5,409" does not say it comes from the balance sheet.
/// The title goes into the header of every chunk of the page, so questions that name the
/// statement or note find its rows. Running headers ("Table of Contents", the company's name)
/// open most pages and say nothing about any; a line that opened at least two earlier pages
/// and more than a quarter of them is left out.
struct PageTitles {
  /// Non-empty lines looked at on each page.
  static let linesRead = 4
  /// Lines kept in a title.
  static let linesKept = 3
  /// A title line is short: at most this many characters and words.
  static let maxCharacters = 60
  static let maxWords = 8

  /// How many pages each candidate line opened so far in this document.
  private var openings: [String: Int] = [:]
  private var pages = 0
  private var linesLookedAt = 0
  private var kept: [String] = []

  /// The current page's title (nil when its first lines are not short or all repeat).
  var current: String? { kept.isEmpty ? nil : kept.joined(separator: " · ") }

  /// The words joined by spaces, with a last word of one lower-case letter other than "a"
  /// put back on the word before it: pdftotext spaces out the last letter of wide headings
  /// ("Consolidated Balance Shee t", "Cash Flow s"), which then match neither "sheet" nor
  /// "flows".
  static func rejoined(_ words: [Substring]) -> String {
    guard words.count >= 2, let last = words.last, last.count == 1, last != "a",
      last.allSatisfy(\.isLowercase), words[words.count - 2].last?.isLetter == true
    else { return words.joined(separator: " ") }
    return words.dropLast(2).map { $0 + " " }.joined() + words[words.count - 2] + last
  }

  /// A new page begins.
  mutating func startPage() {
    pages += 1
    linesLookedAt = 0
    kept = []
  }

  /// Reads the block's lines while the page's first lines are still being read.
  mutating func read(_ block: Block) {
    for line in block.lines where linesLookedAt < Self.linesRead {
      let text = Self.rejoined(line.text.split(whereSeparator: \.isWhitespace))
      guard !text.isEmpty else { continue }
      linesLookedAt += 1
      // A table's first rows are not the page's title (its column headings go to `TableColumns`).
      guard text.count <= Self.maxCharacters, text.split(separator: " ").count <= Self.maxWords,
        text.contains(where: \.isLetter), !TableColumns.isRow(line.text)
      else { continue }
      let earlier = openings[text, default: 0]
      openings[text] = earlier + 1
      let running = earlier >= 2 && Double(earlier) > Double(pages - 1) / 4
      if !running && kept.count < Self.linesKept && !kept.contains(text) { kept.append(text) }
    }
  }
}
