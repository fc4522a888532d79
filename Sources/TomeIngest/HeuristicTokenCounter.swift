public import TomeCore

/// An interim estimate of BERT WordPiece token counts, until the encoder's own tokenizer is wired
/// in through the same ``TokenCounter`` seam.
///
/// Runs of letters and digits are words: one token each, plus one per further six characters
/// beyond the sixth (WordPiece splits rare long words into pieces). Every punctuation mark or
/// symbol is a token, and every CJK ideograph, kana or Hangul syllable is a token. Whitespace is
/// free. The count is additive across whitespace, which the chunker relies on when it sums
/// line counts instead of re-counting whole chunks.
public struct HeuristicTokenCounter: TokenCounter {
  public init() {}

  public var identifier: String { "heuristic-v1" }

  public func tokenCount(_ text: Substring) -> Int {
    // Works on the UTF-8 bytes directly: iterating `unicodeScalars` of a Substring validates
    // every index and dominated chunking time.
    if let count = text.utf8.withContiguousStorageIfAvailable({ Self.count(utf8: $0) }) { return count }
    var copy = String(text)
    return copy.withUTF8 { Self.count(utf8: $0) }
  }

  private static func count(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var tokens = 0
    var wordLength = 0
    var i = 0
    let n = bytes.count
    while i < n {
      let lead = bytes[i]
      if lead < 0x80 {
        i += 1
        switch lead {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A:
          wordLength += 1
        case 0x00...0x20, 0x7F:
          if wordLength > 0 {
            tokens += 1 + (wordLength - 1) / 6
            wordLength = 0
          }
        default:
          if wordLength > 0 {
            tokens += 1 + (wordLength - 1) / 6
            wordLength = 0
          }
          tokens += 1
        }
        continue
      }
      // Decode one scalar (the text is valid UTF-8; stray bytes count as symbols).
      var value = UInt32(lead)
      var length = 1
      if lead & 0xE0 == 0xC0 {
        value = UInt32(lead & 0x1F)
        length = 2
      } else if lead & 0xF0 == 0xE0 {
        value = UInt32(lead & 0x0F)
        length = 3
      } else if lead & 0xF8 == 0xF0 {
        value = UInt32(lead & 0x07)
        length = 4
      }
      if length > 1 && i + length <= n {
        for k in 1..<length { value = value << 6 | UInt32(bytes[i + k] & 0x3F) }
      } else {
        length = 1
      }
      i += length
      let isWordPart: Bool
      if isCJK(value) {
        isWordPart = false
      } else if let scalar = Unicode.Scalar(value) {
        let properties = scalar.properties
        if properties.isWhitespace {
          if wordLength > 0 {
            tokens += 1 + (wordLength - 1) / 6
            wordLength = 0
          }
          continue
        }
        isWordPart =
          properties.isAlphabetic || properties.numericType != nil
          || properties.generalCategory == .nonspacingMark || properties.generalCategory == .spacingMark
      } else {
        isWordPart = false
      }
      if isWordPart {
        wordLength += 1
      } else {
        if wordLength > 0 {
          tokens += 1 + (wordLength - 1) / 6
          wordLength = 0
        }
        tokens += 1
      }
    }
    if wordLength > 0 { tokens += 1 + (wordLength - 1) / 6 }
    return tokens
  }

  private static func isCJK(_ v: UInt32) -> Bool {
    (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x3040...0x30FF).contains(v)
      || (0xAC00...0xD7AF).contains(v) || (0xF900...0xFAFF).contains(v) || (0x20000...0x2FA1F).contains(v)
  }
}
