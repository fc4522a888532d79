/// A sentence of a passage, with the lines it occupies in the source file.
public struct SourceSentence: Sendable, Hashable {
  /// The sentence verbatim (internal line breaks kept), trimmed of surrounding whitespace.
  public var text: String
  public var firstLine: Int
  public var lastLine: Int
}

/// Splits passage text into sentences and tracks each sentence's line span.
///
/// A sentence ends at `.`, `!` or `?` (with any closing quotes or brackets) followed by
/// whitespace, or directly by an upper-case letter (collections such as the Paul Graham essays
/// join paragraphs without a space: "die?The"), and at blank lines. A period after a single
/// capital letter or a common abbreviation ("e.g.", "Mr.") does not end a sentence.
public enum SentenceSplitter {
  /// The sentences of `text`, whose first character is on line `firstLine` of its file.
  ///
  /// - Complexity: O(n) in the length of `text`.
  public static func sentences(in text: String, firstLine: Int) -> [SourceSentence] {
    let chars = Array(text)
    var out: [SourceSentence] = []
    var start = 0
    var line = firstLine
    var startLine = firstLine
    var i = 0

    func emit(upTo end: Int) {
      // Trim leading whitespace (moving the start line) and trailing whitespace.
      var s = start
      var sLine = startLine
      while s < end, chars[s].isWhitespace {
        if chars[s] == "\n" { sLine += 1 }
        s += 1
      }
      var e = end
      while e > s, chars[e - 1].isWhitespace { e -= 1 }
      guard e > s else { return }
      let body = chars[s..<e]
      let newlines = body.reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
      out.append(SourceSentence(text: String(body), firstLine: sLine, lastLine: sLine + newlines))
    }

    while i < chars.count {
      let ch = chars[i]
      if ch == "\n", i + 1 < chars.count, isBlankLineAhead(chars, from: i + 1) {
        emit(upTo: i)
        start = i
        startLine = line
      } else if ch == "." || ch == "!" || ch == "?" {
        var j = i + 1
        while j < chars.count, "\"')]\u{201D}\u{2019}".contains(chars[j]) { j += 1 }
        let endsHere: Bool
        if j >= chars.count {
          endsHere = true
        } else if chars[j].isWhitespace {
          endsHere = !(ch == "." && isAbbreviation(chars, dotAt: i))
        } else if chars[j].isUppercase, i > 0, chars[i - 1].isLowercase || chars[i - 1].isNumber {
          endsHere = ch != "." || !isAbbreviation(chars, dotAt: i)
        } else {
          endsHere = false
        }
        if endsHere {
          for k in i..<j where chars[k] == "\n" { line += 1 }
          emit(upTo: j)
          start = j
          startLine = line
          i = j
          continue
        }
      }
      if ch == "\n" { line += 1 }
      i += 1
    }
    emit(upTo: chars.count)
    return out
  }

  /// Whether only spaces/tabs then another newline follow `from` (a blank line).
  private static func isBlankLineAhead(_ chars: [Character], from: Int) -> Bool {
    var k = from
    while k < chars.count, chars[k] == " " || chars[k] == "\t" { k += 1 }
    return k < chars.count && chars[k] == "\n"
  }

  private static let abbreviations: Set<String> = ["e.g", "i.e", "mr", "mrs", "ms", "dr", "st", "vs", "etc", "cf", "no", "jr", "sr", "inc", "ltd", "co"]

  private static func isAbbreviation(_ chars: [Character], dotAt i: Int) -> Bool {
    var k = i
    while k > 0, chars[k - 1].isLetter || chars[k - 1] == "." { k -= 1 }
    let word = String(chars[k..<i]).lowercased()
    if word.count == 1, chars[k].isUppercase { return true }  // an initial: "J. Smith"
    return abbreviations.contains(word)
  }
}
