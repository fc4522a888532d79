import Foundation
internal import GRDB
public import TomeCore

extension IndexStore {
  /// BM25 search over chunk text with SQLite FTS5.
  ///
  /// The user's text is never passed to FTS5 as syntax: it is split into words and each word
  /// is quoted (`FTS5Query`), so no query can raise a syntax error. Words are OR-ed, and BM25
  /// ranks chunks that match more and rarer words first.
  /// - Parameter documents: search only the chunks of these documents (nil: all).
  /// - Returns: up to `limit` hits, best first; empty when the text has no searchable word.
  /// - Complexity: proportional to the postings of the query's words.
  /// - Parameter leavingOut: words not to search (``commonTerms(in:share:)``), unless the text
  ///   has no other.
  public func searchText(
    _ text: String, limit: Int, documents: Set<DocumentID>? = nil, leavingOut common: Set<String> = []
  ) throws -> [TextSearchHit] {
    precondition(limit > 0, "limit must be positive")
    guard let match = FTS5Query.orQuery(text, leavingOut: common) else { return [] }
    let within = Self.documentFilter(documents)
    let start = String(TextSearchHit.highlightStart)
    let end = String(TextSearchHit.highlightEnd)
    return try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT c.id, c.document_id, c.ordinal, c.first_line, c.last_line, c.page, c.byte_start, c.byte_end,
                 c.section, c.token_count, c.text, c.header, d.path,
                 bm25(chunks_fts) AS rank,
                 snippet(chunks_fts, 0, ?, ?, '…', 40) AS excerpt
          FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
          WHERE chunks_fts MATCH ?\(within)
          ORDER BY rank LIMIT ?
          """,
        arguments: [start, end, match, limit]
      ).map { row in
        TextSearchHit(chunk: StoredChunk(row: row), score: -(row["rank"] as Double), excerpt: row["excerpt"])
      }
    }
  }
}

extension IndexStore {
  /// The indexed words found in at least `share` of the chunks, in `field` (lower-cased, as
  /// FTS5 stores them after stemming, so only words that are their own stem match a query's).
  ///
  /// BM25 gives a word in half the chunks or more no weight (FTS5 clamps its idf to 1e-6), yet
  /// an OR query still walks its postings and scores every chunk it matches: "the", "of" and
  /// "in" made every chunk of a collection a candidate. Leaving such words out of queries
  /// changes no score and halves the time of a search. A search of one column weighs words by
  /// that column alone ("the" is rare in headers, "10k" in every one), hence one list per field.
  /// - Complexity: one pass over the index's vocabulary.
  public func commonTerms(in field: TextSearchField, share: Double = 0.5) throws -> [String] {
    try write { db in
      let sql: String
      switch field {
      case .chunk:
        try db.execute(sql: "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_rows USING fts5vocab(main, chunks_fts, row)")
        sql = "SELECT term FROM temp.chunks_rows WHERE doc >= ? * (SELECT COUNT(*) FROM chunks) ORDER BY term"
      case .header:
        try db.execute(sql: "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_columns USING fts5vocab(main, chunks_fts, col)")
        sql = "SELECT term FROM temp.chunks_columns WHERE col = 'header' AND doc >= ? * (SELECT COUNT(*) FROM chunks) ORDER BY term"
      }
      return try String.fetchAll(db, sql: sql, arguments: [share])
    }
  }
}

/// Where `IndexStore.rankText` looks for the query's words.
public enum TextSearchField: Sendable {
  /// The chunk's text, header and extra search terms.
  case chunk
  /// The chunk's header only (document title, section, page title, page).
  case header
}

extension IndexStore {
  /// BM25 ranks of the chunks matching `text` in `field`, best first: ids and scores only,
  /// without loading the chunks or cutting excerpts, for lists that are fused before any
  /// chunk is shown (an excerpt per match cost as much as the search).
  /// - Returns: up to `limit` (chunk, −bm25) pairs; empty when the text has no searchable word.
  public func rankText(
    _ text: String, limit: Int, documents: Set<DocumentID>? = nil, field: TextSearchField = .chunk,
    leavingOut common: Set<String> = []
  ) throws -> [(chunk: ChunkID, score: Double)] {
    precondition(limit > 0, "limit must be positive")
    guard let words = FTS5Query.orQuery(text, leavingOut: common) else { return [] }
    let match = field == .header ? "{header} : (\(words))" : words
    let sql =
      documents == nil
      ? "SELECT rowid, bm25(chunks_fts) AS rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?"
      : """
        SELECT c.id, bm25(chunks_fts) AS rank FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid
        WHERE chunks_fts MATCH ?\(Self.documentFilter(documents)) ORDER BY rank LIMIT ?
        """
    return try read { db in
      try Row.fetchAll(db, sql: sql, arguments: [match, limit]).map { (ChunkID($0[0]), -($0[1] as Double)) }
    }
  }

  /// ` AND c.document_id IN (…)` for a restriction to `documents`; empty for none.
  static func documentFilter(_ documents: Set<DocumentID>?) -> String {
    documents.map { ids in " AND c.document_id IN (" + ids.map { "\($0.rawValue)" }.sorted().joined(separator: ",") + ")" } ?? ""
  }

  /// The document of every chunk.
  public func chunkDocuments() throws -> [ChunkID: DocumentID] {
    try read { db in
      var result: [ChunkID: DocumentID] = [:]
      let rows = try Row.fetchCursor(db, sql: "SELECT id, document_id FROM chunks")
      while let row = try rows.next() { result[ChunkID(row[0])] = DocumentID(row[1]) }
      return result
    }
  }

  /// The outermost heading of each document's first chunk (a Markdown or reStructuredText
  /// title), for documents that have one.
  public func documentTitles() throws -> [DocumentID: String] {
    try read { db in
      var result: [DocumentID: String] = [:]
      for row in try Row.fetchAll(db, sql: "SELECT document_id, section FROM chunks WHERE ordinal = 0 AND section IS NOT NULL") {
        let section: String = row[1]
        let title = section.components(separatedBy: " > ").first ?? section
        result[DocumentID(row[0])] = title
      }
      return result
    }
  }
}

/// Extra words indexed with a chunk so that BM25 matches what the text means, not only how
/// it is typeset.
public enum SearchTerms {
  /// Numbers written with thousands separators, without them: "1,577" → 1577, "$12,345.6" →
  /// 12345.6. FTS5 splits "1,577" into 1 and 577, so a question asking for 1577 (or a table
  /// cell of 1,577 asked as "1577") would otherwise never match.
  public static func numbers(in text: String) -> [String] {
    let b = Array(text.utf8)
    func digit(_ k: Int) -> Bool { k < b.count && b[k] >= 0x30 && b[k] <= 0x39 }
    var result: [String] = []
    var seen = Set<String>()
    var i = 0
    while i < b.count {
      // A number starts at a digit that follows no digit, comma or point.
      guard digit(i), i == 0 || !(digit(i - 1) || b[i - 1] == 0x2C || b[i - 1] == 0x2E) else {
        i += 1
        continue
      }
      var j = i
      while digit(j) { j += 1 }
      var joined = Array(b[i..<j])
      var grouped = false
      if j - i <= 3 {
        while j < b.count, b[j] == 0x2C, digit(j + 1), digit(j + 2), digit(j + 3), !digit(j + 4) {
          joined += b[(j + 1)...(j + 3)]
          j += 4
          grouped = true
        }
      }
      if grouped {
        if j < b.count, b[j] == 0x2E, digit(j + 1) {
          joined.append(0x2E)
          j += 1
          while digit(j) {
            joined.append(b[j])
            j += 1
          }
        }
        let number = String(decoding: joined, as: UTF8.self)
        if seen.insert(number).inserted { result.append(number) }
      }
      i = j
    }
    return result
  }
}

/// Builds FTS5 MATCH expressions from free text without exposing FTS5 syntax to the user.
public enum FTS5Query {
  /// The words of `text` (letters and digits, Unicode-aware), each quoted, joined by OR;
  /// nil when there is no word. Words in `common` are left out unless no other remains.
  public static func orQuery(_ text: String, leavingOut common: Set<String> = []) -> String? {
    var words = terms(text)
    let rarer = words.filter { !common.contains($0) }
    if !rarer.isEmpty { words = rarer }
    for number in SearchTerms.numbers(in: text) where !words.contains(number) { words.append(number) }
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
