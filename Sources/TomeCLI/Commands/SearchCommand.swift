import ArgumentParser
import Foundation
import TomeCore
import TomeKit
import TomeStore

/// `tome search "query"`: ranked passages with their spans.
struct SearchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "search",
    abstract: "Search the index and print ranked passages as path:first-last.",
    discussion: """
      Ranks chunks by hybrid retrieval: BM25 over their words fused with the sentence encoder's \
      vector similarity (reciprocal-rank fusion). --mode bm25 or dense uses one side only. Any \
      text is accepted: quotes and operators are treated as plain words. Matches are highlighted \
      on a terminal.

      Examples:
        tome search "connection pool timeout"
        tome search --mode bm25 "ENOSPC"
        tome search -k 3 --json "reset password" | jq '.[0].path'
      """)

  @Argument(help: "What to look for.")
  var query: String

  @Option(name: .shortAndLong, help: "Number of results.")
  var k = 10

  @Option(name: .long, help: "Ranking: bm25, dense or hybrid.")
  var mode: RetrievalMode = .hybrid

  @OptionGroup var indexKind: IndexKindOption
  @OptionGroup var model: ModelOptions

  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func validate() throws {
    guard k >= 1 && k <= 1000 else { throw ValidationError("-k must be between 1 and 1000 (got \(k))") }
    guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw ValidationError("the query is empty")
    }
  }

  func run() async throws {
    let collection = try Collection(location: index.location, create: false)
    // An index built with --no-embed has no vectors: hybrid becomes BM25 (said on stderr).
    let hasVectors = try collection.store.meta(.encoder) != nil
    if mode == .dense && !hasVectors { throw RetrievalError.noVectors(collection.location.directory.path) }
    let effective: RetrievalMode = mode == .hybrid && !hasVectors ? .bm25 : mode
    if effective != mode && !output.quiet && !output.json {
      Terminal.error("note: the index has no vectors (ingested with --no-embed); ranking by BM25 only")
    }
    if effective != .bm25 && !output.quiet && !output.json {
      let pending = try collection.store.pendingVectorCount()
      if pending > 0 {
        Terminal.error("note: \(pending) chunks have no vector yet (an ingest was interrupted?); run `tome ingest` to finish embedding")
      }
    }
    let encoder = effective == .bm25 ? nil : try model.directory.loadEncoder()
    let retriever = try HybridRetriever(
      collection: collection, embedder: encoder?.embedder, indexKind: indexKind.indexKind,
      log: { if !output.quiet && !output.json { Terminal.error("note: \($0)") } })
    let results = try retriever.search(query, k: k, mode: effective).results
    if output.json {
      try Terminal.printJSON(results.map(SearchResultJSON.init))
      return
    }
    if results.isEmpty {
      if !output.quiet { Terminal.error("no matches for \"\(query)\" in \(Terminal.displayPath(collection.location.directory.path))") }
      return
    }
    let tty = Terminal.stdoutIsTTY
    for result in results {
      let span = result.chunk.span
      var location = "\(Terminal.displayPath(span.path)):\(span.firstLine)-\(span.lastLine)"
      if let page = span.page { location += "  p. \(page)" }
      var header = "\(result.rank). " + Terminal.cyan(location, tty) + Terminal.dim(String(format: "  score %.2f", result.score), tty)
      if let section = result.chunk.section { header += Terminal.dim("  § \(section)", tty) }
      print(header)
      print("   " + Self.render(result.excerpt, tty: tty))
    }
  }

  /// Replaces highlight markers with ANSI emphasis on a TTY (or drops them), one line.
  static func render(_ excerpt: String, tty: Bool) -> String {
    var out = ""
    var inMatch = false
    var current = ""
    for ch in excerpt {
      if ch == TextSearchHit.highlightStart || ch == TextSearchHit.highlightEnd {
        out += inMatch ? Terminal.highlight(current, tty) : current
        current = ""
        inMatch = ch == TextSearchHit.highlightStart
      } else {
        current.append(ch.isNewline ? " " : ch)
      }
    }
    out += inMatch ? Terminal.highlight(current, tty) : current
    return out.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
  }
}

/// JSON shape of one `tome search --json` result.
struct SearchResultJSON: Encodable {
  var rank: Int
  var chunkID: Int64
  var path: String
  var firstLine: Int
  var lastLine: Int
  var page: Int?
  var byteStart: Int
  var byteEnd: Int
  var section: String?
  var score: Double
  var text: String

  init(_ r: SearchResult) {
    rank = r.rank
    chunkID = r.chunkID.rawValue
    path = r.chunk.span.path
    firstLine = r.chunk.span.firstLine
    lastLine = r.chunk.span.lastLine
    page = r.chunk.span.page
    byteStart = r.chunk.span.byteRange.lowerBound
    byteEnd = r.chunk.span.byteRange.upperBound
    section = r.chunk.section
    score = r.score
    text = r.chunk.text
  }
}
