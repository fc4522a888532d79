/// Extracts readable text from HTML, keeping for every piece of text the source bytes and line
/// it came from.
///
/// `script`, `style`, `noscript` and `template` content and comments are dropped; entities
/// (a common named set, `&#NNN;`, `&#xHH;`) are decoded; block elements end a paragraph, `<br>`
/// ends a line; whitespace outside `<pre>` collapses to single spaces; `<pre>` is kept line for
/// line. `h1`–`h6` become heading blocks (they set the chunk's section). This is a tolerant scanner,
/// not a full HTML5 parser: it needs no DOM and never fails.
enum HTMLExtractor {
  struct Output {
    var blocks: [Block]
    var firstInvalidOffset: Int?
  }

  static func extract(_ bytes: [UInt8]) -> Output {
    var scanner = Scanner(bytes: bytes)
    scanner.run()
    return Output(blocks: scanner.blocks, firstInvalidOffset: scanner.firstInvalidOffset)
  }

  static let rawTextElements: Set<String> = ["script", "style", "noscript", "template"]
  static let blockElements: Set<String> = [
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "dir", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "frameset", "head", "header", "hgroup", "hr",
    "html", "legend", "li", "main", "menu", "nav", "ol", "p", "section", "summary", "table", "tbody", "tfoot",
    "thead", "title", "tr", "ul", "option", "iframe", "noframes",
  ]
  static let namedEntities: [String: String] = [
    "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}", "copy": "©", "reg": "®",
    "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”",
    "sbquo": "‚", "bdquo": "„", "laquo": "«", "raquo": "»", "bull": "•", "middot": "·", "deg": "°", "plusmn": "±",
    "times": "×", "divide": "÷", "euro": "€", "pound": "£", "yen": "¥", "cent": "¢", "sect": "§", "para": "¶",
    "shy": "\u{00AD}", "iexcl": "¡", "iquest": "¿", "eacute": "é", "egrave": "è", "ecirc": "ê", "euml": "ë",
    "aacute": "á", "agrave": "à", "acirc": "â", "auml": "ä", "aring": "å", "atilde": "ã", "aelig": "æ", "ccedil": "ç",
    "iacute": "í", "igrave": "ì", "icirc": "î", "iuml": "ï", "oacute": "ó", "ograve": "ò", "ocirc": "ô", "ouml": "ö",
    "otilde": "õ", "oslash": "ø", "uacute": "ú", "ugrave": "ù", "ucirc": "û", "uuml": "ü", "ntilde": "ñ", "szlig": "ß",
    "yuml": "ÿ", "Eacute": "É", "Egrave": "È", "Aacute": "Á", "Agrave": "À", "Auml": "Ä", "Ouml": "Ö", "Uuml": "Ü",
    "Ccedil": "Ç", "Ntilde": "Ñ", "rarr": "→", "larr": "←", "uarr": "↑", "darr": "↓", "harr": "↔", "rArr": "⇒",
    "le": "≤", "ge": "≥", "ne": "≠", "asymp": "≈", "infin": "∞", "minus": "−", "frac12": "½", "frac14": "¼",
    "frac34": "¾", "sup2": "²", "sup3": "³", "micro": "µ", "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ",
    "pi": "π", "sigma": "σ", "lambda": "λ", "mu": "μ", "thinsp": "\u{2009}", "ensp": "\u{2002}", "emsp": "\u{2003}",
    "zwj": "\u{200D}", "zwnj": "\u{200C}", "dagger": "†", "Dagger": "‡", "permil": "‰", "prime": "′", "Prime": "″",
  ]

  private struct Scanner {
    let bytes: [UInt8]
    private let lineStarts: [Int]
    private(set) var blocks: [Block] = []
    private(set) var firstInvalidOffset: Int? = nil

    private var lines: [TextLine] = []
    private var text: [UInt8] = []
    private var runs: [Run] = []
    private var pendingSpace = false
    private var preDepth = 0
    private var headingLevel: Int? = nil
    private var i = 0

    init(bytes: [UInt8]) {
      self.bytes = bytes
      var starts = [0]
      for (index, byte) in bytes.enumerated() where byte == 0x0A { starts.append(index + 1) }
      lineStarts = starts
    }

    private func line(of offset: Int) -> Int {
      var low = 0
      var high = lineStarts.count
      while low < high {
        let mid = (low + high) / 2
        if lineStarts[mid] <= offset { low = mid + 1 } else { high = mid }
      }
      return max(low, 1)
    }

    mutating func run() {
      let n = bytes.count
      while i < n {
        let byte = bytes[i]
        if byte == 0x3C {  // <
          if scanMarkup() { continue }
          emitLiteral(i, i + 1)
          i += 1
        } else if byte == 0x26 {  // &
          scanEntity()
        } else if preDepth > 0 {
          if byte == 0x0A {
            endLine(keepEmpty: true)
            i += 1
          } else if byte == 0x0D {
            i += 1
          } else {
            var j = i
            while j < n && bytes[j] != 0x3C && bytes[j] != 0x26 && bytes[j] != 0x0A && bytes[j] != 0x0D { j += 1 }
            emitLiteral(i, j)
            i = j
          }
        } else if Self.isSpace(byte) {
          pendingSpace = true
          i += 1
        } else {
          var j = i
          while j < n && bytes[j] != 0x3C && bytes[j] != 0x26 && !Self.isSpace(bytes[j]) { j += 1 }
          emitLiteral(i, j)
          i = j
        }
      }
      endBlock()
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
      byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
      (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D
    }

    private func starts(with literal: String, at offset: Int, caseInsensitive: Bool = false) -> Bool {
      starts(with: Array(literal.utf8), at: offset, caseInsensitive: caseInsensitive)
    }

    private func starts(with pattern: [UInt8], at offset: Int, caseInsensitive: Bool) -> Bool {
      guard offset + pattern.count <= bytes.count else { return false }
      for (k, expected) in pattern.enumerated() {
        var actual = bytes[offset + k]
        if caseInsensitive, (0x41...0x5A).contains(actual) { actual += 0x20 }
        if actual != expected { return false }
      }
      return true
    }

    private func find(_ literal: String, from offset: Int, caseInsensitive: Bool = false) -> Int? {
      let pattern = Array(literal.utf8)
      guard let head = pattern.first else { return offset }
      var k = offset
      while k < bytes.count {
        var byte = bytes[k]
        if caseInsensitive, (0x41...0x5A).contains(byte) { byte += 0x20 }
        if byte == head && starts(with: pattern, at: k, caseInsensitive: caseInsensitive) { return k }
        k += 1
      }
      return nil
    }

    /// Handles markup at `i` (a `<`); false when it is not markup and should be text.
    private mutating func scanMarkup() -> Bool {
      if starts(with: "<!--", at: i) {
        i = (find("-->", from: i + 4).map { $0 + 3 }) ?? bytes.count
        return true
      }
      if starts(with: "<!", at: i) || starts(with: "<?", at: i) {
        i = (find(">", from: i + 2).map { $0 + 1 }) ?? bytes.count
        return true
      }
      var j = i + 1
      let closing = j < bytes.count && bytes[j] == 0x2F
      if closing { j += 1 }
      let nameStart = j
      while j < bytes.count && Self.isNameByte(bytes[j]) { j += 1 }
      guard j > nameStart, (0x41...0x5A).contains(bytes[nameStart]) || (0x61...0x7A).contains(bytes[nameStart])
      else { return false }
      let name = String(decoding: bytes[nameStart..<j], as: UTF8.self).lowercased()
      // Find the end of the tag, skipping quoted attribute values.
      var quote: UInt8? = nil
      while j < bytes.count {
        let byte = bytes[j]
        if let q = quote {
          if byte == q { quote = nil }
        } else if byte == 0x22 || byte == 0x27 {
          quote = byte
        } else if byte == 0x3E {
          break
        }
        j += 1
      }
      i = min(j + 1, bytes.count)
      handle(tag: name, closing: closing)
      return true
    }

    private mutating func handle(tag name: String, closing: Bool) {
      if !closing && HTMLExtractor.rawTextElements.contains(name) {
        if let end = find("</" + name, from: i, caseInsensitive: true) {
          i = (find(">", from: end).map { $0 + 1 }) ?? bytes.count
        } else {
          i = bytes.count
        }
        pendingSpace = true
        return
      }
      if name.count == 2, name.first == "h", let level = Int(name.dropFirst()), (1...6).contains(level) {
        endBlock()
        headingLevel = closing ? nil : level
        return
      }
      switch name {
      case "br":
        endLine(keepEmpty: preDepth > 0)
      case "pre", "listing", "xmp":
        endBlock()
        if closing {
          preDepth = max(0, preDepth - 1)
        } else {
          preDepth += 1
          // A newline right after <pre> is not content.
          if i < bytes.count, bytes[i] == 0x0D { i += 1 }
          if i < bytes.count, bytes[i] == 0x0A { i += 1 }
        }
      case "td", "th", "img", "input", "button", "select", "textarea", "label":
        pendingSpace = true
      default:
        if HTMLExtractor.blockElements.contains(name) { endBlock() }
      }
    }

    private mutating func scanEntity() {
      var j = i + 1
      while j < bytes.count && j - i <= 33 && (Self.isNameByte(bytes[j]) || bytes[j] == 0x23) { j += 1 }
      guard j < bytes.count, bytes[j] == 0x3B, j > i + 1 else {
        emitLiteral(i, i + 1)
        i += 1
        return
      }
      let name = String(decoding: bytes[(i + 1)..<j], as: UTF8.self)
      var decoded: String? = HTMLExtractor.namedEntities[name]
      if decoded == nil, name.hasPrefix("#") {
        let digits = name.dropFirst()
        let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
        if let value { decoded = String(Unicode.Scalar(value) ?? "\u{FFFD}") }
      }
      guard let decoded else {
        emitLiteral(i, i + 1)
        i += 1
        return
      }
      emit(Array(decoded.utf8), fileStart: i, fileEnd: j + 1)
      i = j + 1
    }

    /// Appends source bytes `[start, end)` verbatim (decoded lossily if need be).
    private mutating func emitLiteral(_ start: Int, _ end: Int) {
      guard end > start else { return }
      let decoded = bytes.withUnsafeBytes { raw in
        LineDecoder.decode(
          UnsafeRawBufferPointer(rebasing: raw[start..<end]), fileOffset: start, lineNumber: line(of: start),
          joinsPrevious: false)
      }
      if firstInvalidOffset == nil, let offset = decoded.firstInvalidOffset { firstInvalidOffset = offset }
      separate()
      let base = text.count
      text.append(contentsOf: decoded.line.text.utf8)
      for var run in decoded.line.runs {
        run.textStart += base
        run.textEnd += base
        runs.append(run)
      }
    }

    /// Appends decoded text that stands for source bytes `[fileStart, fileEnd)` (an entity).
    private mutating func emit(_ decoded: [UInt8], fileStart: Int, fileEnd: Int) {
      separate()
      runs.append(
        Run(
          textStart: text.count, textEnd: text.count + decoded.count, fileStart: fileStart, fileEnd: fileEnd,
          line: line(of: fileStart)))
      text.append(contentsOf: decoded)
    }

    /// Inserts the collapsed space before new text when whitespace was seen since the last text.
    private mutating func separate() {
      if pendingSpace && preDepth == 0 && !text.isEmpty { text.append(0x20) }
      pendingSpace = false
    }

    private mutating func endLine(keepEmpty: Bool) {
      pendingSpace = false
      if text.isEmpty && !keepEmpty { return }
      lines.append(TextLine(text: String(decoding: text, as: UTF8.self), runs: runs))
      text = []
      runs = []
    }

    private mutating func endBlock() {
      endLine(keepEmpty: false)
      while let first = lines.first, first.isBlank { lines.removeFirst() }
      while let last = lines.last, last.isBlank { lines.removeLast() }
      guard !lines.isEmpty else { return }
      var block = Block(lines: lines, gapBefore: blocks.isEmpty ? "" : "\n\n", mode: preDepth > 0 ? .lines : .prose)
      if let level = headingLevel {
        block.heading = Block.Heading(level: level, title: lines.map { $0.text.trimmingWhitespace() }.joined(separator: " "))
      }
      blocks.append(block)
      lines = []
    }
  }
}
