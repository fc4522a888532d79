import Foundation
public import TomeCore

/// One `[n]` marker of an answer, resolved.
public struct Citation: Sendable, Hashable, Codable {
  /// The number in the marker.
  public var number: Int
  /// The passage's span; nil when `n` names no passage.
  public var path: String?
  public var firstLine: Int?
  public var lastLine: Int?
  public var page: Int?
  /// The cited passage's chunks.
  public var chunkIDs: [ChunkID]
  /// The marker names a passage and every quotation attributed to it occurs in that passage.
  public var verified: Bool
  /// Why it is not verified.
  public var problem: String?
}

/// A quotation found in an answer and whether the source holds it.
public struct QuoteCheck: Sendable, Hashable, Codable {
  public var text: String
  /// The passage numbers it was checked against (the markers of its sentence, else all).
  public var checkedAgainst: [Int]
  public var verified: Bool
}

/// The result of checking an answer's citations.
public struct CitationReport: Sendable, Hashable, Codable {
  /// One entry per distinct marker number, in order of first use.
  public var citations: [Citation]
  public var quotes: [QuoteCheck]
  /// Marker numbers that name no passage.
  public var unknownMarkers: [Int] { citations.filter { $0.path == nil }.map(\.number) }
}

/// Parses `[n]` markers and quotations in an answer and checks them against the numbered
/// passages the model was shown.
///
/// Markers may be `[1]`, `[1, 3]` or `[1][3]`. A quotation ("…" or “…”, at least two words)
/// belongs to the markers of the sentence it is in (or, when that sentence has none, to the
/// next marker; failing that, to every passage) and is verified when its text, with whitespace,
/// case and curly quotes normalised, occurs in one of those passages.
public struct CitationChecker: Sendable {
  /// The passages by their prompt number (1-based).
  public var numbered: [Int: Passage]

  public init(numbered: [Int: Passage]) {
    self.numbered = numbered
  }

  /// A marker found in the text: its number and character offset.
  struct Marker: Hashable {
    var number: Int
    var offset: Int
  }

  /// `[n]` markers in order.
  static func markers(in text: String) -> [Marker] {
    let chars = Array(text)
    var out: [Marker] = []
    var i = 0
    while i < chars.count {
      guard chars[i] == "[" else {
        i += 1
        continue
      }
      var j = i + 1
      var numbers: [Int] = []
      var current = ""
      var valid = true
      while j < chars.count, chars[j] != "]" {
        let c = chars[j]
        if c.isASCII && c.isNumber {
          current.append(c)
        } else if c == "," || c == " " || c == ";" {
          if let n = Int(current) { numbers.append(n) }
          current = ""
        } else {
          valid = false
          break
        }
        j += 1
      }
      if let n = Int(current) { numbers.append(n) }
      if valid, j < chars.count, !numbers.isEmpty, j - i <= 24 {
        out += numbers.map { Marker(number: $0, offset: i) }
        i = j + 1
      } else {
        i += 1
      }
    }
    return out
  }

  /// Quotations (text, offset) of two words or more.
  static func quotations(in text: String) -> [(text: String, offset: Int)] {
    let chars = Array(text)
    var out: [(String, Int)] = []
    var i = 0
    while i < chars.count {
      let c = chars[i]
      let close: Character? = c == "\"" ? "\"" : c == "\u{201C}" ? "\u{201D}" : nil
      guard let close, let end = chars[(i + 1)...].firstIndex(of: close) else {
        i += 1
        continue
      }
      let body = String(chars[(i + 1)..<end]).trimmingCharacters(in: .whitespacesAndNewlines)
        .trimmingCharacters(in: CharacterSet(charactersIn: ".,;:"))
      if body.split(whereSeparator: { $0.isWhitespace }).count >= 2 { out.append((body, i)) }
      i = end + 1
    }
    return out
  }

  /// Checks `answer`.
  public func check(_ answer: String) -> CitationReport {
    let markers = Self.markers(in: answer)
    let chars = Array(answer)
    // Sentence boundaries by offset, for attributing quotations to markers.
    func sentenceRange(around offset: Int) -> Range<Int> {
      var s = offset
      while s > 0, !".!?\n".contains(chars[s - 1]) { s -= 1 }
      var e = offset
      while e < chars.count, !"!?\n".contains(chars[e]), !(chars[e] == "." && (e + 1 == chars.count || chars[e + 1].isWhitespace)) { e += 1 }
      return s..<min(e + 1, chars.count)
    }
    var quotes: [QuoteCheck] = []
    var failedNumbers = Set<Int>()
    for (text, offset) in Self.quotations(in: answer) {
      let range = sentenceRange(around: offset)
      var targets = markers.filter { range.contains($0.offset) }.map(\.number)
      if targets.isEmpty, let next = markers.first(where: { $0.offset > offset }) { targets = [next.number] }
      if targets.isEmpty { targets = numbered.keys.sorted() }
      let needle = TextAnalysis.normalised(text)
      let verified = targets.contains { n in
        guard let passage = numbered[n] else { return false }
        return TextAnalysis.normalised(passage.text).contains(needle)
      }
      if !verified { failedNumbers.formUnion(targets) }
      quotes.append(QuoteCheck(text: text, checkedAgainst: Array(Set(targets)).sorted(), verified: verified))
    }
    var citations: [Citation] = []
    var seen = Set<Int>()
    for marker in markers where seen.insert(marker.number).inserted {
      guard let passage = numbered[marker.number] else {
        citations.append(
          Citation(
            number: marker.number, path: nil, firstLine: nil, lastLine: nil, page: nil, chunkIDs: [], verified: false,
            problem: "no passage [\(marker.number)] was given to the model"))
        continue
      }
      let quoteFailed = failedNumbers.contains(marker.number)
      citations.append(
        Citation(
          number: marker.number, path: passage.span.path, firstLine: passage.span.firstLine,
          lastLine: passage.span.lastLine, page: passage.span.page, chunkIDs: passage.chunkIDs, verified: !quoteFailed,
          problem: quoteFailed ? "a quotation attributed to it does not occur in the passage" : nil))
    }
    return CitationReport(citations: citations, quotes: quotes)
  }
}

/// Whether an answer's content is found in the sources.
///
/// The answer's content words (stop-words, markers and numbers of markers dropped) are stemmed
/// and looked up among the words of the evidence and passages; the answer is unsupported when
/// fewer than `minimumCoverage` of them are found. An answer saying "not found in the
/// collection" is an abstention, never unsupported.
public struct SupportCheck: Sendable, Hashable {
  public var minimumCoverage: Double

  public init(minimumCoverage: Double = 0.6) {
    self.minimumCoverage = minimumCoverage
  }

  /// The outcome.
  public struct Result: Sendable, Hashable, Codable {
    /// Fraction of content words found (1 when there are none).
    public var coverage: Double
    /// Content words not found in any source.
    public var missingWords: [String]
    public var unsupported: Bool
  }

  public func check(answer: String, sources: [String]) -> Result {
    var stripped = answer
    for marker in Set(CitationChecker.markers(in: answer).map(\.number)) {
      stripped = stripped.replacingOccurrences(of: "[\(marker)]", with: " ")
    }
    if TextAnalysis.normalised(stripped).contains(RAGStrategy.notFoundPhrase) {
      return Result(coverage: 1, missingWords: [], unsupported: false)
    }
    let words = TextAnalysis.contentWords(stripped)
    guard !words.isEmpty else { return Result(coverage: 1, missingWords: [], unsupported: false) }
    var known = Set<String>()
    for source in sources { for w in TextAnalysis.words(source) { known.insert(TextAnalysis.stem(w)) } }
    let missing = words.filter { !known.contains(TextAnalysis.stem($0)) }
    let coverage = Double(words.count - missing.count) / Double(words.count)
    var unique: [String] = []
    for w in missing where !unique.contains(w) { unique.append(w) }
    return Result(coverage: coverage, missingWords: unique, unsupported: coverage < minimumCoverage)
  }
}
