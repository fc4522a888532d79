import Foundation
internal import GRDB
import TomeCore

extension IndexStore {
  /// BM25 search over chunk text with SQLite FTS5.
  ///
  /// The user's text is never passed to FTS5 as syntax: it is split into words and each word
  /// is quoted (`FTS5Query`), so no query can raise a syntax error. Words are OR-ed, and BM25
  /// ranks chunks that match more and rarer words first.
  /// - Returns: up to `limit` hits, best first; empty when the text has no searchable word.
  /// - Complexity: proportional to the postings of the query's words.
  public func searchText(_ text: String, limit: Int) throws -> [TextSearchHit] {
    precondition(limit > 0, "limit must be positive")
    guard let match = FTS5Query.orQuery(text) else { return [] }
    let start = String(TextSearchHit.highlightStart)
    let end = String(TextSearchHit.highlightEnd)
    return try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT c.id, c.document_id, c.ordinal, c.first_line, c.last_line, c.page, c.byte_start, c.byte_end,
                 c.section, c.token_count, c.text, d.path,
                 bm25(chunks_fts) AS rank,
                 snippet(chunks_fts, 0, ?, ?, '…', 40) AS excerpt
          FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
          WHERE chunks_fts MATCH ?
          ORDER BY rank LIMIT ?
          """,
        arguments: [start, end, match, limit]
      ).map { row in
        TextSearchHit(chunk: StoredChunk(row: row), score: -(row["rank"] as Double), excerpt: row["excerpt"])
      }
    }
  }
}

/// Builds FTS5 MATCH expressions from free text without exposing FTS5 syntax to the user.
public enum FTS5Query {
  /// The words of `text` (letters and digits, Unicode-aware), each quoted, joined by OR;
  /// nil when there is no word.
  public static func orQuery(_ text: String) -> String? {
    let words = terms(text)
    guard !words.isEmpty else { return nil }
    return words.map { "\"\($0.replacingOccurrences(of: "\"", with: "\"\""))\"" }.joined(separator: " OR ")
  }

  /// Distinct lower-cased words in order of first appearance (at most 64).
  public static func terms(_ text: String) -> [String] {
    var seen = Set<String>()
    var result: [String] = []
    var current = ""
    func flush() {
      if !current.isEmpty, seen.insert(current).inserted { result.append(current) }
      current = ""
    }
    for scalar in text.lowercased().unicodeScalars {
      if scalar.properties.isAlphabetic || scalar.properties.numericType != nil || scalar == "_" {
        current.unicodeScalars.append(scalar)
      } else {
        flush()
      }
    }
    flush()
    return Array(result.prefix(64))
  }
}
