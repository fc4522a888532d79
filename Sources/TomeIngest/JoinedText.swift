import TomeCore

/// A block's lines joined into one byte string, for cutting an over-budget block into units.
///
/// Cuts are made on UTF-8 offsets of the joined text and mapped back to file offsets and line
/// numbers through the lines' ``Run``s, so a unit cut inside a line still has exact bytes.
struct JoinedText {
  private let bytes: [UInt8]
  private let runs: [Run]
  private let gapBefore: String
  private let counter: any TokenCounter
  private let maxTokens: Int
  private var lastEnd: Int? = nil
  private(set) var units: [Unit] = []

  /// Whitespace after the last unit (trimmed off it); it belongs to the gap before whatever
  /// follows this block.
  var trailing: String {
    guard let lastEnd else { return gapBefore + String(decoding: bytes, as: UTF8.self) }
    return String(decoding: bytes[lastEnd...], as: UTF8.self)
  }

  init(_ block: Block, counter: any TokenCounter, maxTokens: Int) {
    var bytes: [UInt8] = []
    var runs: [Run] = []
    for (index, line) in block.lines.enumerated() {
      if index > 0 { bytes.append(contentsOf: line.separator.utf8) }
      let offset = bytes.count
      bytes.append(contentsOf: line.text.utf8)
      for run in line.runs {
        var shifted = run
        shifted.textStart += offset
        shifted.textEnd += offset
        runs.append(shifted)
      }
    }
    self.bytes = bytes
    self.runs = runs
    self.gapBefore = block.gapBefore
    self.counter = counter
    self.maxTokens = maxTokens
  }

  // MARK: - Candidate ranges

  private static func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0B || byte == 0x0C || byte == 0x0D
  }

  /// `[start, end)` with whitespace trimmed from both ends; nil when nothing is left.
  private func trimmed(_ start: Int, _ end: Int) -> Range<Int>? {
    var a = start
    var b = end
    while a < b && Self.isSpace(bytes[a]) { a += 1 }
    while b > a && Self.isSpace(bytes[b - 1]) { b -= 1 }
    return a < b ? a..<b : nil
  }

  /// Sentences: ends at `.`, `!`, `?` (plus closing quotes or brackets) followed by whitespace,
  /// and right after the CJK full stop, exclamation and question marks.
  func sentenceRanges() -> [Range<Int>] {
    var result: [Range<Int>] = []
    var start = 0
    var i = 0
    let n = bytes.count
    while i < n {
      let byte = bytes[i]
      var end: Int? = nil
      if byte == 0x2E || byte == 0x21 || byte == 0x3F {
        var j = i + 1
        while j < n {
          if bytes[j] == 0x22 || bytes[j] == 0x27 || bytes[j] == 0x29 || bytes[j] == 0x5D {
            j += 1
          } else if j + 2 < n, bytes[j] == 0xE2, bytes[j + 1] == 0x80, bytes[j + 2] == 0x9D || bytes[j + 2] == 0x99 {
            j += 3
          } else {
            break
          }
        }
        if j == n || Self.isSpace(bytes[j]) { end = j }
      } else if i + 2 < n,
        (bytes[i] == 0xE3 && bytes[i + 1] == 0x80 && bytes[i + 2] == 0x82)
          || (bytes[i] == 0xEF && bytes[i + 1] == 0xBC && (bytes[i + 2] == 0x81 || bytes[i + 2] == 0x9F))
      {
        end = i + 3
      }
      if let end {
        if let range = trimmed(start, end) { result.append(range) }
        start = end
        i = end
      } else {
        i += 1
      }
    }
    if let range = trimmed(start, n) { result.append(range) }
    return result
  }

  /// Non-blank lines (and fragments joined to them), indentation kept.
  func lineRanges() -> [Range<Int>] {
    var result: [Range<Int>] = []
    var start = 0
    for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x0A {
      if trimmed(start, i) != nil { result.append(start..<i) }
      start = i + 1
    }
    return result
  }

  // MARK: - Cutting

  private func count(_ range: Range<Int>) -> Int {
    counter.tokenCount(Substring(String(decoding: bytes[range], as: UTF8.self)))
  }

  /// Turns ranges into units; ranges over the budget are cut into word groups, and words over
  /// the budget into character runs.
  mutating func cut(_ ranges: [Range<Int>]) {
    for range in ranges {
      let tokens = count(range)
      if tokens <= maxTokens {
        append(range, tokens: tokens)
      } else {
        cutWords(range)
      }
    }
  }

  private mutating func cutWords(_ range: Range<Int>) {
    var group: Range<Int>? = nil
    var groupTokens = 0
    var i = range.lowerBound
    while i < range.upperBound {
      while i < range.upperBound && Self.isSpace(bytes[i]) { i += 1 }
      guard i < range.upperBound else { break }
      var j = i
      while j < range.upperBound && !Self.isSpace(bytes[j]) { j += 1 }
      let word = i..<j
      let tokens = count(word)
      if tokens > maxTokens {
        if let current = group { append(current, tokens: groupTokens) }
        group = nil
        groupTokens = 0
        cutCharacters(word)
      } else if let current = group, groupTokens + tokens <= maxTokens {
        group = current.lowerBound..<j
        groupTokens += tokens
      } else {
        if let current = group { append(current, tokens: groupTokens) }
        group = word
        groupTokens = tokens
      }
      i = j
    }
    if let current = group { append(current, tokens: groupTokens) }
  }

  /// The nearest UTF-8 scalar boundary at or before `offset` (but after `floor`), else after it.
  private func boundary(_ offset: Int, after floor: Int) -> Int {
    var b = offset
    while b > floor && b < bytes.count && bytes[b] & 0xC0 == 0x80 { b -= 1 }
    if b > floor { return b }
    b = floor + 1
    while b < bytes.count && bytes[b] & 0xC0 == 0x80 { b += 1 }
    return b
  }

  private mutating func cutCharacters(_ range: Range<Int>) {
    var a = range.lowerBound
    while a < range.upperBound {
      // Grow the piece exponentially, then binary-search the largest prefix within budget.
      var good = a
      var step = 64
      var probe = boundary(min(a + step, range.upperBound), after: a)
      while count(a..<probe) <= maxTokens {
        good = probe
        if probe >= range.upperBound { break }
        step *= 2
        probe = boundary(min(a + step, range.upperBound), after: a)
      }
      if good < range.upperBound {
        var low = good
        var high = probe
        while true {
          let mid = boundary((low + high) / 2, after: a)
          if mid <= low || mid >= high { break }
          if count(a..<mid) <= maxTokens { low = mid } else { high = mid }
        }
        good = low
      }
      if good == a { good = boundary(a + 1, after: a) }
      let piece = a..<min(good, range.upperBound)
      append(piece, tokens: count(piece))
      a = piece.upperBound
    }
  }

  private mutating func append(_ range: Range<Int>, tokens: Int) {
    let gap: String
    if let lastEnd {
      gap = String(decoding: bytes[lastEnd..<range.lowerBound], as: UTF8.self)
    } else {
      gap = gapBefore + String(decoding: bytes[0..<range.lowerBound], as: UTF8.self)
    }
    lastEnd = range.upperBound
    let start = locateStart(range.lowerBound)
    let end = locateEnd(range.upperBound)
    units.append(
      Unit(
        text: String(decoding: bytes[range], as: UTF8.self), tokens: tokens, firstLine: start.line,
        lastLine: max(end.line, start.line), byteStart: start.offset, byteEnd: max(end.offset, start.offset),
        gapBefore: gap))
  }

  // MARK: - Mapping back to the file

  /// Index of the last run whose `textStart` satisfies `isBefore`.
  private func lastRun(where isBefore: (Int) -> Bool) -> Int? {
    var low = 0
    var high = runs.count
    while low < high {
      let mid = (low + high) / 2
      if isBefore(runs[mid].textStart) { low = mid + 1 } else { high = mid }
    }
    return low > 0 ? low - 1 : nil
  }

  private func locateStart(_ offset: Int) -> (offset: Int, line: Int) {
    guard var index = lastRun(where: { $0 <= offset }) ?? (runs.isEmpty ? nil : 0) else { return (0, 1) }
    var run = runs[index]
    if offset >= run.textEnd && index + 1 < runs.count && run.textEnd > run.textStart {
      index += 1
      run = runs[index]
      return (run.fileStart, run.line)
    }
    if offset <= run.textStart { return (run.fileStart, run.line) }
    if run.isLinear { return (run.fileStart + min(offset, run.textEnd) - run.textStart, run.line) }
    return (run.fileStart, run.line)
  }

  private func locateEnd(_ offset: Int) -> (offset: Int, line: Int) {
    guard let index = lastRun(where: { $0 < offset }) else { return locateStart(offset) }
    let run = runs[index]
    if offset >= run.textEnd || !run.isLinear { return (run.fileEnd, run.line) }
    return (run.fileStart + offset - run.textStart, run.line)
  }
}
