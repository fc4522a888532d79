/// Word-level helpers shared by evidence scoring and the support check.
enum TextAnalysis {
  /// Lower-cased alphanumeric words of `text`.
  static func words(_ text: some StringProtocol) -> [String] {
    text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
  }

  /// Words that carry content: not stop-words, not single letters.
  static func contentWords(_ text: some StringProtocol) -> [String] {
    words(text).filter { ($0.count > 1 || $0.first?.isNumber == true) && !stopWords.contains($0) }
  }

  /// A crude suffix-stripping stem, enough to match "startups" with "startup".
  static func stem(_ word: String) -> String {
    for suffix in ["ing", "ed", "es", "s", "ly"] where word.count > suffix.count + 3 && word.hasSuffix(suffix) {
      return String(word.dropLast(suffix.count))
    }
    return word
  }

  /// Whitespace collapsed to single spaces, lower-cased, curly quotes straightened.
  static func normalised(_ text: some StringProtocol) -> String {
    let mapped = text.lowercased().map { ch -> Character in
      switch ch {
      case "\u{2018}", "\u{2019}": return "'"
      case "\u{201C}", "\u{201D}": return "\""
      default: return ch
      }
    }
    return String(mapped).split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
  }

  static let stopWords: Set<String> = [
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
    "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he",
    "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "itself", "just", "may", "me", "might", "more", "most", "must", "my", "myself", "no", "nor", "not", "now", "of",
    "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she",
    "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there",
    "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "upon", "very", "was", "we",
    "were", "what", "when", "where", "which", "while", "who", "whom", "whose", "why", "will", "with", "would", "you",
    "your", "yours", "yourself", "yourselves", "according", "answer", "passage", "passages", "question", "based",
    "one", "many", "much", "well", "yes", "said", "says", "say", "like", "get", "got", "make", "made", "thing",
    "things", "way", "ways", "s", "t", "don", "doesn", "didn", "isn", "aren", "wasn", "weren", "won", "can't",
  ]
}
