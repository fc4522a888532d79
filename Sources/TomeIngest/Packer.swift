import TomeCore

/// A piece of text the packer places whole: a line, a sentence, a group of words, or a run of
/// characters, with where it came from.
struct Unit: Sendable {
  var text: String
  var tokens: Int
  var firstLine: Int
  var lastLine: Int
  var byteStart: Int
  var byteEnd: Int
  /// The normalised text between the previous unit and this one (used when both share a chunk).
  var gapBefore: String
}

/// Packs blocks into chunks of at most `maxTokens`, with overlap.
///
/// A block that fits in what is left of the current chunk joins it whole; one that fits in an
/// empty chunk starts a new one; a bigger one is cut (sentences or lines, then words, then
/// characters) and its pieces are packed greedily. A new chunk after a full one starts with the
/// trailing whole units (lines or sentences) of the previous chunk worth at most `overlapTokens`.
/// A heading always starts a new chunk (no overlap carried across it), except directly after
/// another heading, so every chunk has one section. Token counts are summed per unit, which is
/// exact for counters that are additive across whitespace (``HeuristicTokenCounter``); the
/// chunk's own `tokenCount` is counted on its final text.
struct Packer {
  let path: String
  let maxTokens: Int
  let overlapTokens: Int
  let counter: any TokenCounter

  private var units: [Unit] = []
  private var tokens = 0
  private var hasBody = false
  private var headings: [Block.Heading] = []
  private var page: Int? = nil
  private var pageTitles = PageTitles()
  private var tableColumns = TableColumns()
  /// Whitespace trimmed off the end of the previous block, owed to the next unit's gap.
  private var trailingGap = ""
  private var ordinal = 0
  private(set) var ready: [Chunk] = []

  /// The document's title in chunk headers: its file name without the extension, with `_` and
  /// `-` read as spaces ("3M_2018_10K.txt" → "3M 2018 10K").
  let title: String?

  init(path: String, maxTokens: Int, overlapTokens: Int, counter: any TokenCounter) {
    self.path = path
    let name = path.split(separator: "/").last.map(String.init) ?? path
    let stem = name.lastIndex(of: ".").map { name[..<$0] }.map(String.init).flatMap { $0.isEmpty ? nil : $0 } ?? name
    let words = stem.split(whereSeparator: { $0 == "_" || $0 == "-" || $0 == " " }).joined(separator: " ")
    title = words.isEmpty ? nil : words
    self.maxTokens = maxTokens
    self.overlapTokens = overlapTokens
    self.counter = counter
  }

  var bufferedBytes: Int {
    units.reduce(0) { $0 + $1.text.utf8.count } + ready.reduce(0) { $0 + $1.text.utf8.count }
  }

  mutating func takeReady() -> Chunk? {
    ready.isEmpty ? nil : ready.removeFirst()
  }

  mutating func add(_ block: Block) {
    if block.page != page {
      flush(carry: false)
      page = block.page
      headings = []
      pageTitles.startPage()
      tableColumns.startPage()
    }
    if page != nil { pageTitles.read(block) }
    tableColumns.read(block)
    if let heading = block.heading {
      if hasBody { flush(carry: false) }
      while let last = headings.last, last.level >= heading.level { headings.removeLast() }
      headings.append(heading)
      // Headings never carry overlap from the previous section.
      for unit in makeUnits(block) { place(unit, isBody: false) }
      return
    }
    let pieces = makeUnits(block)
    guard !pieces.isEmpty else { return }
    let total = pieces.reduce(0) { $0 + $1.tokens }
    if total <= maxTokens && tokens + total > maxTokens {
      // A block that fits an empty chunk is never split, not even to sit under its heading:
      // the heading then stays alone (the section still names it).
      flush(carry: hasBody)
      while tokens + total > maxTokens, !units.isEmpty { dropFirstUnit() }
    }
    for unit in pieces { place(unit, isBody: true) }
  }

  mutating func finish() {
    flush(carry: false)
  }

  private mutating func place(_ unit: Unit, isBody: Bool) {
    if !units.isEmpty && tokens + unit.tokens > maxTokens {
      flush(carry: hasBody)
      while !units.isEmpty && tokens + unit.tokens > maxTokens { dropFirstUnit() }
    }
    units.append(unit)
    tokens += unit.tokens
    if isBody { hasBody = true }
  }

  private mutating func dropFirstUnit() {
    let removed = units.removeFirst()
    tokens -= removed.tokens
    if units.isEmpty { hasBody = false }
  }

  /// Emits the current chunk and keeps its overlap tail when `carry` is true.
  private mutating func flush(carry: Bool) {
    guard let first = units.first, let last = units.last else { return }
    var text = first.text
    for unit in units.dropFirst() {
      text += unit.gapBefore
      text += unit.text
    }
    let span = SourceSpan(
      path: path, firstLine: first.firstLine, lastLine: max(last.lastLine, first.firstLine), page: page,
      byteRange: first.byteStart..<max(last.byteEnd, first.byteStart))
    let section = headings.isEmpty ? nil : headings.map(\.title).joined(separator: " > ")
    let pageTitle = page == nil ? nil : pageTitles.current
    let columns = tableColumns.columns(atLine: first.firstLine).map { "columns " + $0 }
    let header = ([title, section, pageTitle, columns, page.map { "p. \($0)" }] as [String?]).compactMap { $0 }.joined(separator: " | ")
    ready.append(
      Chunk(
        ordinal: ordinal, text: text, span: span, tokenCount: counter.tokenCount(text), section: section,
        header: header.isEmpty ? nil : header))
    ordinal += 1

    var kept: [Unit] = []
    var keptTokens = 0
    if carry && overlapTokens > 0 {
      for unit in units.reversed().dropLast() {
        guard keptTokens + unit.tokens <= overlapTokens else { break }
        kept.insert(unit, at: 0)
        keptTokens += unit.tokens
      }
    }
    units = kept
    tokens = keptTokens
    hasBody = !kept.isEmpty
  }

  // MARK: - Cutting blocks into units

  private mutating func makeUnits(_ block: Block) -> [Unit] {
    let owed = trailingGap
    trailingGap = ""
    var units = cutUnits(block)
    if units.isEmpty {
      trailingGap = owed + trailingGap
    } else {
      units[0].gapBefore = owed + units[0].gapBefore
    }
    return units
  }

  private mutating func cutUnits(_ block: Block) -> [Unit] {
    let lineTokens = block.lines.map { counter.tokenCount($0.text) }
    let total = lineTokens.reduce(0, +)
    let hasFragments = block.lines.contains { $0.joinsPrevious }
    if block.mode == .prose && total <= maxTokens && !hasFragments {
      return lineUnits(block, lineTokens: lineTokens)
    }
    if block.mode == .lines && !hasFragments && lineTokens.allSatisfy({ $0 <= maxTokens }) {
      return lineUnits(block, lineTokens: lineTokens)
    }
    var text = JoinedText(block, counter: counter, maxTokens: maxTokens)
    switch block.mode {
    case .prose: text.cut(text.sentenceRanges())
    case .lines: text.cut(text.lineRanges())
    }
    trailingGap = text.trailing
    return text.units
  }

  /// One unit per non-blank line; blank lines fold into the next unit's gap (blank lines at the
  /// end are owed to the next block).
  private mutating func lineUnits(_ block: Block, lineTokens: [Int]) -> [Unit] {
    var result: [Unit] = []
    var gap = block.gapBefore
    for (index, (line, count)) in zip(block.lines, lineTokens).enumerated() {
      if index > 0 { gap += line.separator }
      if line.isBlank {
        gap += line.text
        continue
      }
      result.append(
        Unit(
          text: line.text, tokens: count, firstLine: line.firstLine, lastLine: line.lastLine,
          byteStart: line.byteStart, byteEnd: line.byteEnd, gapBefore: gap))
      gap = ""
    }
    trailingGap = gap
    return result
  }
}
