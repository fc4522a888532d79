public import ArgumentParser
import Foundation
import TomeCore
import TomeKit
public import TomeReasoning

extension RecordOrigin: ExpressibleByArgument {}

/// `tome records list | show | prune`: the answers the index keeps (the record graph).
struct RecordsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "records",
    abstract: "List, show or prune the answers kept in the index.",
    discussion: """
      Every answer of `tome ask`, `chat`, `batch` and `serve`'s /v1/ask is kept in the index as \
      a record: the question, the answer, the strategy and model, and edges to the chunks the \
      answer cited and the model was shown (--no-record keeps none). Strategies may read \
      records as short digests of text already read; a citation through one always resolves \
      to its chunks, so answers still cite path:lines. When re-ingest changes or removes a \
      file, the records linked to its chunks go stale: strategies skip them, and \
      `tome records prune --stale` removes them.

        tome records list                         # newest first
        tome records list --origin batch --json   # for scripts
        tome records show 12                      # question, answer, cited lines
        tome records prune --stale                # drop records of changed files
        tome records prune --older-than 30d --strategy rag
      """,
    subcommands: [RecordsListCommand.self, RecordsShowCommand.self, RecordsPruneCommand.self])
}

struct RecordsListCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract: "List records, newest first: id, time, origin, strategy, staleness, question.")

  @OptionGroup var filter: RecordFilterOptions

  @Option(name: .long, help: ArgumentHelp("Most records to list.", valueName: "n"))
  var limit = 50

  @Flag(name: .long, help: "Print a JSON array (the keys of `records show --json`, without sources).")
  var json = false

  @OptionGroup var index: IndexOptions

  func validate() throws {
    guard limit >= 1 else { throw ValidationError("--limit must be at least 1 (got \(limit))") }
  }

  func run() async throws {
    let book = RecordBook(collection: try Collection(location: index.location, create: false))
    let records = try book.list(filter.filter, limit: limit)
    if json { return try Terminal.printJSON(records.map { RecordJSON($0, sources: nil) }) }
    if records.isEmpty { return Terminal.error("no records\(filter.filter.isEmpty ? "" : " match") in this index") }
    for record in records {
      let question = Terminal.sanitized(record.question.split(whereSeparator: \.isNewline).joined(separator: " "))
      let fields: [String?] = [
        String(format: "%5lld", record.id.rawValue), RecordJSON.time(record.created),
        record.origin.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0), Terminal.sanitized(record.strategy),
        record.stale ? "(stale)" : nil, question.count > 90 ? String(question.prefix(89)) + "…" : question,
      ]
      print(fields.compactMap { $0 }.joined(separator: "  "))
    }
  }
}

struct RecordsShowCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show",
    abstract: "Show one record: question, answer, strategy, model, time, staleness, and its chunks as path:lines.")

  @Argument(help: "The record's id (see `tome records list`).")
  var id: Int64

  @Flag(name: .long, help: "Print JSON: id, question, answer, strategy, model, origin, created, stale, cited, shown, sources.")
  var json = false

  @OptionGroup var index: IndexOptions

  func run() async throws {
    let book = RecordBook(collection: try Collection(location: index.location, create: false))
    guard let record = try book.record(RecordID(id)) else {
      throw CLIError("no record \(id) in this index; `tome records list` shows the kept ones")
    }
    let sources = try book.sources(of: record)
    if json { return try Terminal.printJSON(RecordJSON(record, sources: sources)) }
    print("Record \(record.id)\(record.stale ? " (stale: a file it was answered from changed since)" : "")")
    print("Question  \(Terminal.sanitized(record.question, keepNewlines: true))")
    print("Strategy  \(Terminal.sanitized(record.strategy))\(record.model.map { "  model \(Terminal.sanitized($0))" } ?? "")")
    print("Origin    \(record.origin.rawValue)  \(RecordJSON.time(record.created))")
    print("\nAnswer\n\(Terminal.sanitized(record.answer, keepNewlines: true))")
    print("\nSources (* cited)")
    for source in sources {
      let place = source.span.map { Terminal.displayPath($0.citation) } ?? "chunk \(source.chunk) (gone: its file was re-ingested or removed)"
      print("\(source.cited ? "*" : " ") \(place)")
    }
  }
}

struct RecordsPruneCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "prune",
    abstract: "Delete the records a filter selects (--older-than, --strategy, --origin, --stale; all must hold), or --all.")

  @Option(
    name: .customLong("older-than"),
    help: ArgumentHelp("Only records older than this age: a number and a unit, s, m, h, d or w (30d, 12h).", valueName: "age"))
  var olderThan: RecordAge?

  @Option(name: .long, help: ArgumentHelp("Only records answered by this strategy (as `records list` shows it, e.g. rag or auto→coc).", valueName: "name"))
  var strategy: String?

  @Option(name: .long, help: ArgumentHelp("Only records of this origin: \(RecordOrigin.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "origin"))
  var origin: RecordOrigin?

  @Flag(name: .long, help: "Only stale records (a file they were answered from changed or was removed).")
  var stale = false

  @Flag(name: .long, help: "Delete every record (needed when no filter is given).")
  var all = false

  @OptionGroup var index: IndexOptions

  func validate() throws {
    let filtered = olderThan != nil || strategy != nil || origin != nil || stale
    if all && filtered { throw ValidationError("--all deletes every record; leave out the filters, or --all") }
    if !all && !filtered { throw ValidationError("\(RecordBookError.unfilteredPrune)") }
  }

  func run() async throws {
    let book = RecordBook(collection: try Collection(location: index.location, create: false))
    let filter = RecordBook.Filter(
      strategy: strategy, origin: origin, stale: stale ? true : nil,
      createdBefore: olderThan.map { Date().addingTimeInterval(-$0.seconds) })
    let removed = try book.prune(filter, everything: all)
    print("pruned \(removed) record\(removed == 1 ? "" : "s"); \(try book.count()) left")
  }
}

/// `--strategy`, `--origin`, `--stale` for `records list`.
struct RecordFilterOptions: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("Only records answered by this strategy (e.g. rag, auto→coc).", valueName: "name"))
  var strategy: String?

  @Option(name: .long, help: ArgumentHelp("Only records of this origin: \(RecordOrigin.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "origin"))
  var origin: RecordOrigin?

  @Flag(name: .long, help: "Only stale records.")
  var stale = false

  var filter: RecordBook.Filter { RecordBook.Filter(strategy: strategy, origin: origin, stale: stale ? true : nil) }
}

/// An age such as `30d` or `12h`: a positive number and a unit (s, m, h, d, w).
struct RecordAge: ExpressibleByArgument {
  var seconds: TimeInterval

  init?(argument: String) {
    let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
    guard let unit = text.last, let count = Double(text.dropLast()), count.isFinite, count > 0 else { return nil }
    let scale: TimeInterval
    switch unit {
    case "s": scale = 1
    case "m": scale = 60
    case "h": scale = 3_600
    case "d": scale = 86_400
    case "w": scale = 604_800
    default: return nil
    }
    seconds = count * scale
  }

  static var defaultCompletionKind: CompletionKind { .default }
}

/// A record as `records list --json` and `records show --json` print it.
struct RecordJSON: Encodable {
  struct Source: Encodable {
    var chunk_id: Int64
    var cited: Bool
    /// `path:lines`; nil when the chunk is gone.
    var citation: String?
    var path: String?
    var first_line: Int?
    var last_line: Int?
    var page: Int?
  }

  var id: Int64
  var question: String
  var answer: String
  var strategy: String
  var model: String?
  var origin: String
  /// ISO 8601, UTC.
  var created: String
  var stale: Bool
  var cited: [Int64]
  var shown: [Int64]
  var sources: [Source]?

  init(_ record: Record, sources: [RecordSource]?) {
    id = record.id.rawValue
    question = record.question
    answer = record.answer
    strategy = record.strategy
    model = record.model
    origin = record.origin.rawValue
    created = record.created.ISO8601Format()
    stale = record.stale
    cited = record.cited.map(\.rawValue)
    shown = record.shown.map(\.rawValue)
    self.sources = sources?.map {
      Source(
        chunk_id: $0.chunk.rawValue, cited: $0.cited, citation: $0.span?.citation, path: $0.span?.path, first_line: $0.span?.firstLine,
        last_line: $0.span?.lastLine, page: $0.span?.page)
    }
  }

  enum CodingKeys: String, CodingKey {
    case id, question, answer, strategy, model, origin, created, stale, cited, shown, sources
  }

  /// Writes every key, an absent value as null (as `AnswerRecord` does); `sources` only when known.
  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(id, forKey: .id)
    try c.encode(question, forKey: .question)
    try c.encode(answer, forKey: .answer)
    try c.encode(strategy, forKey: .strategy)
    try c.encode(model, forKey: .model)
    try c.encode(origin, forKey: .origin)
    try c.encode(created, forKey: .created)
    try c.encode(stale, forKey: .stale)
    try c.encode(cited, forKey: .cited)
    try c.encode(shown, forKey: .shown)
    try c.encodeIfPresent(sources, forKey: .sources)
  }

  /// `yyyy-MM-dd HH:mm` in local time, for text output.
  static func time(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm"
    return formatter.string(from: date)
  }
}
