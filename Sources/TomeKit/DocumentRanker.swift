import Foundation
public import TomeCore

/// Ranks the documents of a collection by how well a query names them: by the words of their
/// file names and titles, not their content.
///
/// Real questions often name their document ("3M's FY2018 10-K", "Best Buy Q2 FY2024", "the
/// install guide"). Chunk-level retrieval over a collection of similar documents (a company's
/// filings of several years, or filings of many companies) then finds the right passage in
/// the wrong document. A document is *named* when a word of the query (or two or three
/// adjacent words run together: "Best Buy" names `BESTBUY_2019_10K.txt`) is a word of its
/// name; words in more than half of the names ("10k" in a folder of 10-Ks) name nothing.
/// Names are scored like BM25 without length normalisation: the sum of the rarer matched
/// words' inverse document frequencies. A query that names nothing ranks nothing, and
/// retrieval then searches the whole collection.
public struct DocumentRanker: Sendable {
  /// A document as the ranker sees it.
  public struct Entry: Sendable, Hashable {
    public var id: DocumentID
    /// The words of its file name and title (see ``DocumentRanker/nameTerms(_:)``).
    public var terms: Set<String>

    public init(id: DocumentID, path: String, title: String? = nil) {
      self.id = id
      let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
      terms = Set(DocumentRanker.nameTerms(stem + " " + (title ?? "")))
    }
  }

  /// A named document and how strongly the query names it (> 0).
  public struct Match: Sendable, Hashable {
    public var id: DocumentID
    public var score: Double
  }

  let entries: [Entry]
  let idf: [String: Double]

  public init(entries: [Entry]) {
    self.entries = entries
    var counts: [String: Int] = [:]
    for entry in entries {
      for term in entry.terms { counts[term, default: 0] += 1 }
    }
    let n = Double(entries.count)
    var idf: [String: Double] = [:]
    for (term, count) in counts where Double(count) <= n / 2 || entries.count == 1 {
      idf[term] = log(1 + (n - Double(count) + 0.5) / (Double(count) + 0.5))
    }
    self.idf = idf
  }

  /// The documents the query names, best first (ties by id); empty when it names none.
  public func rank(_ query: String) -> [Match] {
    let asked = Self.queryTerms(query)
    var matches: [Match] = []
    for entry in entries {
      var score = 0.0
      for term in asked where entry.terms.contains(term) { score += idf[term] ?? 0 }
      if score > 0 { matches.append(Match(id: entry.id, score: score)) }
    }
    return matches.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id.rawValue < $1.id.rawValue }
  }

  /// The documents named at least `ratio` times as strongly as the best one; nil when the
  /// query names no document (search everything).
  public func focus(_ query: String, ratio: Double) -> Set<DocumentID>? {
    let ranked = rank(query)
    guard let best = ranked.first?.score else { return nil }
    return Set(ranked.prefix { $0.score >= best * ratio - 1e-9 }.map(\.id))
  }

  /// Lower-cased words of letters and digits, each also split where letters and digits meet
  /// ("FY2018" → fy2018, fy, 2018; "3M" → 3m), without one-letter words, common function
  /// words, and numbers of fewer than four digits: the "05" and "20" of a date in a file name
  /// would otherwise be named by any question that mentions "FY20".
  public static func nameTerms(_ text: String) -> [String] {
    var result: [String] = []
    for word in words(text) {
      result.append(word)
      let parts = runs(word)
      if parts.count > 1 { result += parts }
    }
    return result.filter { term in
      term.count >= 2 && !stopWords.contains(term)
        && (term.count >= 4 || !term.unicodeScalars.allSatisfy { $0.properties.numericType != nil })
    }
  }

  /// ``nameTerms(_:)`` of the query plus two and three adjacent words run together, since
  /// file names often glue a name's words ("BESTBUY", "AMERICANWATERWORKS").
  static func queryTerms(_ text: String) -> Set<String> {
    let plain = words(text)
    var terms = Set(nameTerms(text))
    for width in 2...3 where plain.count >= width {
      for start in 0...(plain.count - width) {
        terms.insert(plain[start..<(start + width)].joined())
      }
    }
    return terms
  }

  /// Lower-cased runs of letters and digits ("3M's" → 3m, s).
  static func words(_ text: String) -> [String] {
    var result: [String] = []
    var current = ""
    for scalar in text.lowercased().unicodeScalars {
      if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
        current.unicodeScalars.append(scalar)
      } else if !current.isEmpty {
        result.append(current)
        current = ""
      }
    }
    if !current.isEmpty { result.append(current) }
    return result
  }

  /// A word cut where letters and digits meet.
  static func runs(_ word: String) -> [String] {
    var result: [String] = []
    var current = ""
    var digits: Bool?
    for scalar in word.unicodeScalars {
      let isDigit = scalar.properties.numericType != nil
      if let digits, digits != isDigit {
        result.append(current)
        current = ""
      }
      current.unicodeScalars.append(scalar)
      digits = isDigit
    }
    if !current.isEmpty { result.append(current) }
    return result
  }

  static let stopWords: Set<String> = [
    "the", "an", "and", "or", "of", "in", "on", "at", "to", "for", "by", "with", "from", "as", "is", "are", "was",
    "were", "be", "it", "its", "this", "that", "what", "which", "who", "how", "why", "when", "where", "does", "do",
    "did", "has", "have", "had", "not", "no", "if", "than", "then", "there", "their", "all", "any", "can", "our",
  ]
}
