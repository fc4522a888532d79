import ArgumentParser
import Foundation
import TomeCore
import TomeKit

/// `tome status`: every file's state and the index totals.
struct StatusCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "List indexed, empty, skipped and failed files (with reasons) and totals.")

  @Flag(name: .long, help: "Only list files that were skipped or failed.")
  var problems = false

  @Flag(name: .long, help: "Only print the totals.")
  var summary = false

  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func run() async throws {
    let collection = try Collection(location: index.location, create: false)
    let status = try collection.status()
    let documents = problems ? status.documents.filter { $0.status == .skipped || $0.status == .failed } : status.documents
    if output.json {
      let vectors = try collection.vectors()
      var json = StatusJSON(status: status, documents: documents)
      json.vectors = vectors.count
      json.encoder = vectors.encoder
      try Terminal.printJSON(json)
      return
    }
    let tty = Terminal.stdoutIsTTY
    if !summary {
      for d in documents {
        let state = d.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        var line = "\(state) \(String(format: "%6d", d.chunkCount)) chunks  \(Terminal.displayPath(d.path))"
        if let reason = d.reason { line += Terminal.dim("  (\(Terminal.sanitized(reason)))", tty) }
        print(d.status == .failed ? Terminal.bold(line, tty) : line)
      }
    }
    let t = status.totals
    let embedded = try collection.vectors()
    let vectors = embedded.count
    let encoder = embedded.encoder
    let counts = DocumentStatus.allCases.compactMap { s in t.byStatus[s].map { "\($0) \(s.rawValue)" } }
    print("\(t.documents) files (\(counts.joined(separator: ", "))), \(t.chunks) chunks, \(t.tokens) tokens, \(Terminal.bytes(t.bytes)) in \(Terminal.displayPath(collection.location.directory.path))")
    if let encoder {
      print("vectors: \(vectors) of \(t.chunks) chunks embedded by \(encoder)\(vectors < t.chunks ? " (run `tome ingest` to finish)" : "")")
    } else {
      print("vectors: none (BM25 only; run `tome ingest` without --no-embed for dense and hybrid search)")
    }
  }
}

/// JSON shape of `tome status --json`.
struct StatusJSON: Encodable {
  struct File: Encodable {
    var path: String
    var status: String
    var kind: String?
    var chunks: Int
    var tokens: Int
    var bytes: Int
    var sha256: String
    var reason: String?
  }
  var files: [File]
  var documents: Int
  var chunks: Int
  var tokens: Int
  var bytes: Int
  var roots: [String]
  var vectors = 0
  var encoder: String?

  init(status: CollectionStatus, documents: [DocumentRecord]) {
    files = documents.map {
      File(path: $0.path, status: $0.status.rawValue, kind: $0.kind?.rawValue, chunks: $0.chunkCount, tokens: $0.tokenCount, bytes: $0.size, sha256: $0.sha256, reason: $0.reason)
    }
    self.documents = status.totals.documents
    chunks = status.totals.chunks
    tokens = status.totals.tokens
    bytes = status.totals.bytes
    roots = status.roots
  }
}
