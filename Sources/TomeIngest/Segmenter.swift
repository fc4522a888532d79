import TomeCore

/// A segment of a document: lines the chunker keeps together when they fit.
struct Block: Sendable {
  /// How an over-budget block is cut.
  enum Mode: Sendable {
    /// Prose: at sentence ends, then words, then characters.
    case prose
    /// Code, fenced and literal blocks, `<pre>`: at line ends, then words, then characters.
    case lines
  }

  /// A heading that starts a section.
  struct Heading: Sendable, Hashable {
    /// 1 is the outermost level.
    var level: Int
    var title: String
  }

  var lines: [TextLine]
  /// The normalised text between the end of the previous block and the start of this one.
  var gapBefore: String
  var mode: Mode
  var heading: Heading? = nil
  /// 1-based page for PDFs.
  var page: Int? = nil

  var bufferedBytes: Int { lines.reduce(0) { $0 + $1.text.utf8.count } }
}

/// Produces blocks one at a time.
protocol BlockSource: AnyObject {
  func nextBlock() throws(IngestError) -> Block?
  /// Bytes held in buffers right now (for the bounded-memory check).
  var bufferedBytes: Int { get }
}

/// Groups lines into ``Block``s according to the document kind, streaming.
///
/// - Text: paragraphs separated by blank lines. With `pagedByFormFeeds`, a form feed is a page
///   break (as in `pdftotext` output): blocks never cross one and carry their 1-based page.
/// - Markdown: paragraphs; ATX (`#`) and one-line setext headings; fenced code (```` ``` ````,
///   `~~~`) kept whole, blank lines included.
/// - reStructuredText: paragraphs; titles underlined (and optionally overlined) with a
///   punctuation character, levels in order of first appearance; literal blocks after `::`
///   kept whole.
/// - Code: blank-line separated blocks, also cut before a top-level declaration.
///
/// A block that grows past `maxBlockBytes` is emitted in parts, so a file with no blank lines
/// still streams in bounded memory.
final class Segmenter: BlockSource {
  private let source: any LineSource
  private let kind: DocumentKind
  private var page: Int?
  private let pagedByFormFeeds: Bool
  private let maxBlockBytes: Int

  private var queue: [Block] = []
  private var finished = false

  private var current: [TextLine] = []
  private var currentBytes = 0
  private var currentMode: Block.Mode = .prose
  private var currentGap = ""
  /// Blank lines (with their separators) seen since the last block line.
  private var gap = ""

  // Markdown fences.
  private var fence: (marker: UInt8, length: Int)? = nil
  // reStructuredText state.
  private var rstStyles: [String] = []
  private var rstLiteralIndent: Int? = nil
  private var rstLiteralPending: [TextLine] = []
  private var rstExpectLiteral: Int? = nil

  /// - Parameters:
  ///   - page: the page every block carries (a PDF page's segmenter).
  ///   - pagedByFormFeeds: count pages from 1 and start a new one at each form feed (text files
  ///     that contain one); `page` is then ignored.
  init(
    source: any LineSource, kind: DocumentKind, page: Int? = nil, pagedByFormFeeds: Bool = false,
    maxBlockBytes: Int = 256 * 1024
  ) {
    self.source = source
    self.kind = kind
    self.page = pagedByFormFeeds ? 1 : page
    self.pagedByFormFeeds = pagedByFormFeeds
    self.maxBlockBytes = maxBlockBytes
  }

  var bufferedBytes: Int {
    source.bufferedBytes + currentBytes + queue.reduce(0) { $0 + $1.bufferedBytes }
      + rstLiteralPending.reduce(0) { $0 + $1.text.utf8.count }
  }

  func nextBlock() throws(IngestError) -> Block? {
    while queue.isEmpty && !finished {
      guard let line = try source.nextLine() else {
        endLiteral()
        flush()
        finished = true
        break
      }
      consume(line)
    }
    return queue.isEmpty ? nil : queue.removeFirst()
  }

  // MARK: - Dispatch

  private func consume(_ line: TextLine) {
    if line.joinsPrevious && !current.isEmpty {
      append(line, mode: currentMode)
      return
    }
    if pagedByFormFeeds, line.text.utf8.contains(0x0C) {
      consumePaged(line)
      return
    }
    switch kind {
    case .markdown: consumeMarkdown(line)
    case .restructuredText: consumeRST(line)
    case .code: consumeCode(line)
    case .text, .html, .pdf: consumePlain(line)
    }
  }

  private func consumePlain(_ line: TextLine) {
    if line.isBlank {
      flush()
      addBlank(line)
    } else {
      append(line, mode: .prose)
    }
  }

  /// A line holding form feeds: those before its first visible character end the page before
  /// the line, the others end the page after it (pdftotext puts a form feed at the start of
  /// each page's first line).
  private func consumePaged(_ line: TextLine) {
    let bytes = Array(line.text.utf8)
    let total = bytes.reduce(0) { $0 + ($1 == 0x0C ? 1 : 0) }
    var leading = 0
    for byte in bytes {
      if byte == 0x0C {
        leading += 1
      } else if byte != 0x20 && byte != 0x09 {
        break
      }
    }
    if leading > 0 {
      flush()
      page = (page ?? 1) + leading
    }
    consumePlain(line)
    if total > leading {
      flush()
      page = (page ?? 1) + total - leading
    }
  }

  // MARK: - Markdown

  private func consumeMarkdown(_ line: TextLine) {
    let bytes = Array(line.text.utf8)
    if let open = fence {
      append(line, mode: .lines)
      if let marker = Self.fenceMarker(bytes), marker.marker == open.marker, marker.length >= open.length,
        marker.restIsBlank
      {
        fence = nil
        flush()
      }
      return
    }
    if line.isBlank {
      flush()
      addBlank(line)
      return
    }
    if let marker = Self.fenceMarker(bytes) {
      flush()
      fence = (marker.marker, marker.length)
      append(line, mode: .lines)
      return
    }
    if let heading = Self.atxHeading(line.text) {
      flush()
      emitHeading([line], heading)
      return
    }
    if current.count == 1, currentMode == .prose, let level = Self.setextLevel(bytes) {
      let titleLine = current[0]
      let gapBefore = currentGap
      current = []
      currentBytes = 0
      queue.append(
        Block(
          lines: [titleLine, line], gapBefore: gapBefore, mode: .prose,
          heading: .init(level: level, title: titleLine.text.trimmingWhitespace()), page: page))
      return
    }
    append(line, mode: .prose)
  }

  private struct FenceMarker {
    var marker: UInt8
    var length: Int
    var restIsBlank: Bool
  }

  /// A code fence: up to three spaces, then three or more backticks or tildes.
  private static func fenceMarker(_ bytes: [UInt8]) -> FenceMarker? {
    var i = 0
    while i < bytes.count && i < 3 && bytes[i] == 0x20 { i += 1 }
    guard i < bytes.count, bytes[i] == 0x60 || bytes[i] == 0x7E else { return nil }
    let marker = bytes[i]
    var length = 0
    while i < bytes.count && bytes[i] == marker {
      length += 1
      i += 1
    }
    guard length >= 3 else { return nil }
    let rest = bytes[i...]
    if marker == 0x60 && rest.contains(0x60) { return nil }
    return FenceMarker(marker: marker, length: length, restIsBlank: rest.allSatisfy { $0 == 0x20 || $0 == 0x09 })
  }

  /// `# Title` … `###### Title` (optional closing hashes).
  private static func atxHeading(_ text: String) -> Block.Heading? {
    var rest = Substring(text)
    var indent = 0
    while rest.first == " " && indent < 3 {
      rest = rest.dropFirst()
      indent += 1
    }
    var level = 0
    while rest.first == "#" {
      level += 1
      rest = rest.dropFirst()
    }
    guard (1...6).contains(level), rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
    var title = rest.trimmingWhitespace()
    while title.hasSuffix("#") { title.removeLast() }
    title = title.trimmingWhitespace()
    return Block.Heading(level: level, title: title)
  }

  /// `===` (level 1) or `---` (level 2) under a one-line paragraph.
  private static func setextLevel(_ bytes: [UInt8]) -> Int? {
    let trimmed = bytes.drop { $0 == 0x20 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }
    guard let first = trimmed.first, first == 0x3D || first == 0x2D, trimmed.allSatisfy({ $0 == first }) else {
      return nil
    }
    return first == 0x3D ? 1 : 2
  }

  // MARK: - reStructuredText

  private func consumeRST(_ line: TextLine) {
    if let indent = rstLiteralIndent {
      if line.isBlank {
        rstLiteralPending.append(line)
        return
      }
      if Self.indentation(line.text) > indent {
        for pending in rstLiteralPending { append(pending, mode: .lines) }
        rstLiteralPending = []
        append(line, mode: .lines)
        return
      }
      endLiteral()
    }
    if line.isBlank {
      if let last = current.last, currentMode == .prose, last.text.trimmingWhitespace().hasSuffix("::") {
        rstExpectLiteral = Self.indentation(current[0].text)
      }
      flush()
      addBlank(line)
      return
    }
    if let base = rstExpectLiteral {
      rstExpectLiteral = nil
      if Self.indentation(line.text) > base {
        rstLiteralIndent = base
        append(line, mode: .lines)
        return
      }
    }
    if let style = Self.rstAdornment(line.text) {
      // Title with underline (one paragraph line) or with overline and underline (two).
      if current.count == 1, currentMode == .prose, Self.rstAdornment(current[0].text) == nil,
        current[0].text.trimmingWhitespace().count <= line.text.trimmingWhitespace().count
      {
        emitRSTTitle(lines: current + [line], title: current[0].text, style: style)
        return
      }
      if current.count == 2, currentMode == .prose, Self.rstAdornment(current[0].text) == style {
        emitRSTTitle(lines: current + [line], title: current[1].text, style: "over" + style)
        return
      }
    }
    append(line, mode: .prose)
  }

  private func emitRSTTitle(lines: [TextLine], title: String, style: String) {
    let gapBefore = currentGap
    current = []
    currentBytes = 0
    if !rstStyles.contains(style) { rstStyles.append(style) }
    let level = (rstStyles.firstIndex(of: style) ?? 0) + 1
    queue.append(
      Block(
        lines: lines, gapBefore: gapBefore, mode: .prose,
        heading: .init(level: level, title: title.trimmingWhitespace()), page: page))
  }

  /// The adornment character of a line made of one repeated punctuation mark (at least 2), or nil.
  private static func rstAdornment(_ text: String) -> String? {
    let trimmed = text.trimmingWhitespace()
    guard trimmed.count >= 2, let first = trimmed.first, trimmed.allSatisfy({ $0 == first }) else { return nil }
    guard "=-~^\"'`#*+:._<>!$%&,;?@\\/|".contains(first), first != " " else { return nil }
    return String(first)
  }

  private func endLiteral() {
    guard rstLiteralIndent != nil else { return }
    rstLiteralIndent = nil
    flush()
    for pending in rstLiteralPending { addBlank(pending) }
    rstLiteralPending = []
  }

  // MARK: - Code

  private static let declarationPrefixes: [String] = [
    "func ", "def ", "class ", "struct ", "enum ", "protocol ", "extension ", "actor ", "fn ", "pub ", "impl ",
    "trait ", "mod ", "function ", "export ", "public ", "private ", "internal ", "fileprivate ", "static ",
    "interface ", "type ", "package ", "async ", "final ", "open ", "module ", "object ", "val ", "var ", "let ",
    "const ", "template ", "namespace ", "@interface", "@implementation", "CREATE ", "create ",
  ]

  private static let closingLines: Set<String> = ["}", "};", "end", ")", "];", "]", "});", "})", "fi", "done", "esac"]

  private func consumeCode(_ line: TextLine) {
    if line.isBlank {
      flush()
      addBlank(line)
      return
    }
    if let previous = current.last, let first = line.text.utf8.first, first != 0x20, first != 0x09 {
      let previousText = previous.text.trimmingWhitespace()
      let previousAtTop = previous.text.utf8.first.map { $0 != 0x20 && $0 != 0x09 } ?? false
      // A top-level construct just closed, or a declaration starts after something that does
      // not introduce it (a doc comment or attribute stays with its declaration).
      let closed = previousAtTop && Self.closingLines.contains(previousText)
      let declares =
        Self.declarationPrefixes.contains(where: { line.text.hasPrefix($0) }) && !Self.attachesToNext(previousText)
      if closed || declares { flush() }
    }
    append(line, mode: .lines)
  }

  /// Comments, attributes and decorators belong with the declaration that follows them.
  private static func attachesToNext(_ line: String) -> Bool {
    line.hasPrefix("//") || line.hasPrefix("#") || line.hasPrefix("@") || line.hasPrefix("*")
      || line.hasPrefix("/*") || line.hasPrefix("--") || line.hasPrefix("\"\"\"") || line.hasSuffix(",")
      || line.hasSuffix("(") || line.hasSuffix("=")
  }

  // MARK: - Block building

  private func addBlank(_ line: TextLine) {
    gap += line.separator + line.text
  }

  private func append(_ line: TextLine, mode: Block.Mode) {
    if current.isEmpty {
      currentGap = gap + line.separator
      gap = ""
      currentMode = mode
    } else if mode != currentMode {
      flush()
      currentGap = line.separator
      currentMode = mode
    }
    current.append(line)
    currentBytes += line.text.utf8.count
    if currentBytes >= maxBlockBytes {
      // Too big to hold: hand out what we have; the rest continues in the next block.
      flush()
    }
  }

  private func emitHeading(_ lines: [TextLine], _ heading: Block.Heading) {
    let gapBefore = gap + (lines.first?.separator ?? "\n")
    gap = ""
    queue.append(Block(lines: lines, gapBefore: gapBefore, mode: .prose, heading: heading, page: page))
  }

  private func flush() {
    guard !current.isEmpty else { return }
    // A table's rows are lines: an over-budget table is cut between rows, not at "sentences".
    let mode = currentMode == .prose && TableColumns.isTable(current.filter { !$0.isBlank }.map(\.text)) ? .lines : currentMode
    queue.append(Block(lines: current, gapBefore: currentGap, mode: mode, page: page))
    current = []
    currentBytes = 0
    currentGap = ""
  }

  private static func indentation(_ text: String) -> Int {
    var count = 0
    for byte in text.utf8 {
      if byte == 0x20 { count += 1 } else if byte == 0x09 { count += 8 - count % 8 } else { break }
    }
    return count
  }
}

/// Blocks already built (HTML).
final class ArrayBlockSource: BlockSource {
  private var blocks: [Block]
  private var index = 0

  init(_ blocks: [Block]) { self.blocks = blocks }

  var bufferedBytes: Int { 0 }

  func nextBlock() throws(IngestError) -> Block? {
    guard index < blocks.count else { return nil }
    defer { index += 1 }
    return blocks[index]
  }
}

extension StringProtocol {
  /// The text without leading and trailing whitespace.
  func trimmingWhitespace() -> String {
    var scalars = Substring(self).unicodeScalars[...]
    while let first = scalars.first, first.properties.isWhitespace { scalars = scalars.dropFirst() }
    while let last = scalars.last, last.properties.isWhitespace { scalars = scalars.dropLast() }
    return String(String.UnicodeScalarView(scalars))
  }
}
