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
    var tokens = 0
    var wordLength = 0
    @inline(__always) func endWord() {
      if wordLength > 0 {
        tokens += 1 + (wordLength - 1) / 6
        wordLength = 0
      }
    }
    for scalar in text.unicodeScalars {
      let v = scalar.value
      if v < 0x80 {
        switch v {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: wordLength += 1
        case 0x00...0x20, 0x7F: endWord()
        default:
          endWord()
          tokens += 1
        }
        continue
      }
      if Self.isCJK(v) {
        endWord()
        tokens += 1
        continue
      }
      let properties = scalar.properties
      if properties.isWhitespace {
        endWord()
      } else if properties.isAlphabetic || properties.numericType != nil
        || properties.generalCategory == .nonspacingMark || properties.generalCategory == .spacingMark
      {
        wordLength += 1
      } else {
        endWord()
        tokens += 1
      }
    }
    endWord()
    return tokens
  }

  private static func isCJK(_ v: UInt32) -> Bool {
    (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x3040...0x30FF).contains(v)
      || (0xAC00...0xD7AF).contains(v) || (0xF900...0xFAFF).contains(v) || (0x20000...0x2FA1F).contains(v)
  }
}
