import Foundation

/// Pure scoring functions for answers against gold: SQuAD exact match and token F1, multiple
/// choice accuracy, ROUGE-1/2/L and citation precision/recall.
public enum AnswerScoring {
  // MARK: - SQuAD

  /// The official SQuAD v1.1 normalisation: lowercase, drop ASCII punctuation, drop the
  /// articles a/an/the as whole words, collapse whitespace.
  public static func normalize(_ text: String) -> String {
    let lowered = text.lowercased()
    let punctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    let kept = String(lowered.filter { !punctuation.contains($0) })
    let words = kept.split(whereSeparator: { $0.isWhitespace }).filter { $0 != "a" && $0 != "an" && $0 != "the" }
    return words.joined(separator: " ")
  }

  /// 1 when the normalised prediction equals a normalised gold answer, else 0 (0 without gold).
  public static func exactMatch(_ prediction: String, gold: [String]) -> Double {
    let p = normalize(prediction)
    return gold.contains { normalize($0) == p } ? 1 : 0
  }

  /// SQuAD token F1 (bag of normalised words), the best over the gold answers (0 without gold).
  public static func f1(_ prediction: String, gold: [String]) -> Double {
    let p = normalize(prediction).split(separator: " ").map(String.init)
    return gold.map { f1(p, normalize($0).split(separator: " ").map(String.init)) }.max() ?? 0
  }

  static func f1(_ prediction: [String], _ reference: [String]) -> Double {
    let same = overlap(prediction, reference)
    guard same > 0 else { return 0 }
    let precision = Double(same) / Double(prediction.count)
    let recall = Double(same) / Double(reference.count)
    return 2 * precision * recall / (precision + recall)
  }

  /// Size of the multiset intersection of two token lists.
  static func overlap<T: Hashable>(_ a: [T], _ b: [T]) -> Int {
    var counts: [T: Int] = [:]
    for t in b { counts[t, default: 0] += 1 }
    var same = 0
    for t in a where counts[t, default: 0] > 0 {
      counts[t, default: 0] -= 1
      same += 1
    }
    return same
  }

  /// `text` without `[n]` / `[n, m]` citation markers (scores judge the words, not the markers).
  public static func strippingCitationMarkers(_ text: String) -> String {
    let stripped = text.replacingOccurrences(of: #"\s*\[\d+(?:\s*,\s*\d+)*\]"#, with: "", options: .regularExpression)
    return stripped.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  // MARK: - Multiple choice

  /// The choice an answer picks (0-based): by letter ("B", "(B)", "B. text", "Answer: B") when it
  /// names one of the choices, else by text (a choice equal to, or the only one contained in,
  /// the normalised answer; the longest when several are contained). nil when none is picked.
  public static func choiceIndex(_ answer: String, choices: [String]) -> Int? {
    guard !choices.isEmpty else { return nil }
    var text = answer.trimmingCharacters(in: .whitespacesAndNewlines)
    for prefix in ["the answer is", "answer:", "answer"] where text.lowercased().hasPrefix(prefix) {
      text = String(text.dropFirst(prefix.count)).trimmingCharacters(in: .whitespacesAndNewlines)
      break
    }
    // A leading letter: "B", "(B)", "B)", "B.", "B:" followed by nothing or a space.
    let chars = Array(text)
    var i = 0
    if i < chars.count, chars[i] == "(" { i += 1 }
    if i < chars.count, let ascii = chars[i].asciiValue, chars[i].isUppercase, chars[i].isLetter {
      let index = Int(ascii) - Int(Character("A").asciiValue ?? 65)
      // A bare letter must be the whole answer ("A bird" is not choice A); with ")", "." or
      // ":" after it, text may follow.
      let j = i + 1
      let bare = j == chars.count
      let marked = j < chars.count && [")", ".", ":"].contains(chars[j]) && (j + 1 == chars.count || chars[j + 1].isWhitespace)
      if index < choices.count, bare || marked { return index }
    }
    let normalized = normalize(text)
    let normalizedChoices = choices.map(normalize)
    if let exact = normalizedChoices.firstIndex(of: normalized), !normalized.isEmpty { return exact }
    let padded = " " + normalized + " "
    let contained = normalizedChoices.enumerated().filter { !$0.element.isEmpty && padded.contains(" " + $0.element + " ") }
    guard let longest = contained.max(by: { $0.element.count < $1.element.count }) else { return nil }
    // Two different choices of the same length both named: ambiguous.
    if contained.filter({ $0.element.count == longest.element.count && $0.element != longest.element }).isEmpty {
      return longest.offset
    }
    return nil
  }

  /// 1 when the answer picks a choice that a gold answer names (by letter or text), else 0.
  public static func multipleChoiceAccuracy(_ answer: String, choices: [String], gold: [String]) -> Double {
    guard let picked = choiceIndex(answer, choices: choices) else { return 0 }
    let correct = Set(gold.compactMap { choiceIndex($0, choices: choices) })
    return correct.contains(picked) ? 1 : 0
  }

  // MARK: - ROUGE

  /// ROUGE-1, ROUGE-2 and ROUGE-L F-measures (Lin 2004).
  public struct ROUGE: Sendable, Hashable, Codable {
    public var rouge1: Double
    public var rouge2: Double
    public var rougeL: Double

    public init(rouge1: Double, rouge2: Double, rougeL: Double) {
      self.rouge1 = rouge1
      self.rouge2 = rouge2
      self.rougeL = rougeL
    }
  }

  /// Tokens as the `rouge-score` package makes them (no stemming): lowercased runs of letters
  /// and digits.
  public static func rougeTokens(_ text: String) -> [String] {
    text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
  }

  /// ROUGE-1/2/L F-measures of `prediction`, each the best over the gold texts (0 without gold).
  public static func rouge(_ prediction: String, gold: [String]) -> ROUGE {
    let p = rougeTokens(prediction)
    var best = ROUGE(rouge1: 0, rouge2: 0, rougeL: 0)
    for g in gold {
      let r = rougeTokens(g)
      best.rouge1 = max(best.rouge1, fMeasure(overlap(ngrams(p, 1), ngrams(r, 1)), p.count, r.count))
      best.rouge2 = max(best.rouge2, fMeasure(overlap(ngrams(p, 2), ngrams(r, 2)), max(p.count - 1, 0), max(r.count - 1, 0)))
      best.rougeL = max(best.rougeL, fMeasure(lcs(p, r), p.count, r.count))
    }
    return best
  }

  static func ngrams(_ tokens: [String], _ n: Int) -> [[String]] {
    guard tokens.count >= n else { return [] }
    return (0...(tokens.count - n)).map { Array(tokens[$0..<($0 + n)]) }
  }

  static func fMeasure(_ matches: Int, _ predicted: Int, _ reference: Int) -> Double {
    guard matches > 0, predicted > 0, reference > 0 else { return 0 }
    let precision = Double(matches) / Double(predicted)
    let recall = Double(matches) / Double(reference)
    return 2 * precision * recall / (precision + recall)
  }

  /// Length of the longest common subsequence.
  /// - Complexity: O(n·m) time, O(m) memory.
  static func lcs(_ a: [String], _ b: [String]) -> Int {
    guard !a.isEmpty, !b.isEmpty else { return 0 }
    var previous = [Int](repeating: 0, count: b.count + 1)
    var current = previous
    for x in a {
      for (j, y) in b.enumerated() {
        current[j + 1] = x == y ? previous[j] + 1 : max(previous[j + 1], current[j])
      }
      swap(&previous, &current)
    }
    return previous[b.count]
  }

  // MARK: - Citations

  /// A place in the collection: a path and an inclusive line range and/or a page.
  public struct CitedPlace: Sendable, Hashable, Codable {
    public var path: String?
    public var lines: ClosedRange<Int>?
    public var page: Int?

    public init(path: String?, lines: ClosedRange<Int>? = nil, page: Int? = nil) {
      self.path = path
      self.lines = lines
      self.page = page
    }
  }

  /// Citation precision (cited places that match a gold place) and recall (gold places that
  /// some citation matches).
  public struct CitationScores: Sendable, Hashable, Codable {
    public var precision: Double
    public var recall: Double
  }

  /// True when both paths name the same file: equal, or one ends with the other at a `/`
  /// (indexes store absolute paths, gold files relative ones).
  public static func samePath(_ a: String, _ b: String) -> Bool {
    if a == b { return true }
    let (long, short) = a.count >= b.count ? (a, b) : (b, a)
    let trimmed = short.hasPrefix("./") ? String(short.dropFirst(2)) : short
    return !trimmed.isEmpty && (long == trimmed || long.hasSuffix("/" + trimmed))
  }

  /// A citation matches a gold place when the paths are the same file and the line ranges
  /// overlap, or the pages are equal. A gold place with neither lines nor page matches any
  /// citation of its file.
  public static func matches(_ cited: CitedPlace, _ gold: CitedPlace) -> Bool {
    guard let c = cited.path, let g = gold.path, samePath(c, g) else { return false }
    if gold.lines == nil && gold.page == nil { return true }
    if let cl = cited.lines, let gl = gold.lines, cl.overlaps(gl) { return true }
    if let cp = cited.page, let gp = gold.page, cp == gp { return true }
    return false
  }

  /// Precision and recall of `cited` against `gold`; nil when there is no gold. Without any
  /// citation the precision is 0 (an uncited answer is not rewarded).
  public static func citationScores(cited: [CitedPlace], gold: [CitedPlace]) -> CitationScores? {
    guard !gold.isEmpty else { return nil }
    let correct = cited.filter { c in gold.contains { matches(c, $0) } }.count
    let found = gold.filter { g in cited.contains { matches($0, g) } }.count
    return CitationScores(
      precision: cited.isEmpty ? 0 : Double(correct) / Double(cited.count), recall: Double(found) / Double(gold.count))
  }
}
