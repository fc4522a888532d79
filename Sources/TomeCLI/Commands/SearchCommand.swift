import ArgumentParser
import Foundation
import TomeCore
import TomeKit

/// `tome search "query"`: ranked passages with their spans.
struct SearchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "search",
    abstract: "Search the index and print ranked passages as path:first-last.",
    discussion: """
      Ranks chunks by hybrid retrieval: BM25 over their words fused with the sentence encoder's \
      vector similarity and with BM25 over their headers (title, section, page title) \
      (reciprocal-rank fusion). A query that names documents ("3M's FY2018 10-K") searches \
      them first. --mode bm25 or dense uses one side only. Any \
      text is accepted: quotes and operators are treated as plain words. Matches are highlighted \
      on a terminal.

      Examples:
        tome search "connection pool timeout"
        tome search --mode bm25 "ENOSPC"
        tome search -k 3 --json "reset password" | jq '.[0].path'
        tome search --path docs/admin "quota"
      """)

  @Argument(help: "What to look for.")
  var query: String

  @Option(name: .shortAndLong, parsing: .unconditional, help: "Number of results.")
  var k = 10

  @Option(name: .long, help: "Ranking: bm25, dense or hybrid.")
  var mode: RetrievalMode = .hybrid

  @Option(
    name: .customLong("path"),
    help: ArgumentHelp("Only documents under this folder (or this file); repeatable.", valueName: "prefix"))
  var paths: [String] = []

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
    let vectors = try collection.vectors()
    let retriever = try HybridRetriever.open(
      collection: collection, mode: mode, models: model.directory, indexKind: indexKind.indexKind,
      log: { if !output.quiet && !output.json { Terminal.error("note: \($0)") } })
    let scope = paths.isEmpty
      ? nil : try collection.documentIDs(under: paths, workingDirectory: Terminal.workingDirectory)
    let retrieval = try retriever.search(query, k: k, mode: mode, documents: scope)
    if !output.quiet && !output.json {
      if retrieval.fellBackToBM25 && vectors.encoder == nil {
        Terminal.error("note: the index has no vectors (ingested with --no-embed); ranking by BM25 only")
      }
      if mode != .bm25 && vectors.encoder != nil && vectors.pending > 0 {
        Terminal.error("note: \(vectors.pending) chunks have no vector yet (an ingest was interrupted?); run `tome ingest` to finish embedding")
      }
    }
    let results = retrieval.results
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
      if let section = result.chunk.section { header += Terminal.dim("  § \(Terminal.sanitized(section))", tty) }
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
      if ch == SearchResult.highlightStart || ch == SearchResult.highlightEnd {
        out += inMatch ? Terminal.highlight(current, tty) : current
        current = ""
        inMatch = ch == SearchResult.highlightStart
      } else {
        if ch.isNewline {
          current.append(" ")
        } else {
          current += Terminal.sanitized(String(ch))
        }
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
