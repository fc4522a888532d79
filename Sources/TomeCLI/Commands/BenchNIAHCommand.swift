import ArgumentParser
import Foundation
import TomeCore
import TomeBench
import TomeKit
import TomeReport

/// `tome bench niah`: needle in a haystack over real text, through a real index and the answerer.
struct NIAHBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "niah",
    abstract: "Needle in a haystack: hide a needle at each depth of 4k…1M-token real-text indexes and ask for it.",
    discussion: """
      The haystack is the Paul Graham essays in file-name order, continued with the plain-text \
      files (.txt, .rst, .md) of the --haystack folders, cut to each length in the encoder's \
      WordPiece tokens (k = 1,024, m = 1,048,576). Each essay or file is one document of a real \
      index (built once per length, kept in --work). A needle (passkey, fact, multikey, \
      multivalue) goes in at a sentence boundary at each depth; only that file is re-indexed, \
      then the question is answered by --strategy with the model. A cell is correct when the \
      answer contains the needle's value(s); the tables also say whether the passages shown to \
      the model and the top evidence sentence held it. Runs are seeded (--seed).

      Examples:
        tome bench niah --lengths 4k,8k --depths 0,50,100
        tome bench niah --lengths 4k,8k,16k,32k,64k,128k,256k,512k,1m --kinds passkey \\
          --plot niah.svg --report-html niah.html --json niah.json
        tome bench niah --kinds passkey,fact,multikey,multivalue --haystack /tmp/corpora/python-docs
      """)

  @Option(name: .long, help: ArgumentHelp("Haystack lengths in tokens, comma-separated (4k = 4,096; 1m = 1,048,576).", valueName: "list"))
  var lengths = "4k,8k,16k,32k,64k,128k"

  @Option(name: .long, help: ArgumentHelp("Needle depths in percent, comma-separated.", valueName: "list"))
  var depths = "0,25,50,75,100"

  @Option(name: .long, help: ArgumentHelp("Needle kinds, comma-separated: passkey, fact, multikey, multivalue.", valueName: "list"))
  var kinds = "passkey"

  @Option(name: .long, help: "Seed for needles and keys.")
  var seed: UInt64 = 42

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Folder of the Paul Graham essays. Default: $TOME_SHARED/data/paul_graham_essays/essays, else ../shared/data/… from the working directory.",
      valueName: "dir"))
  var essays: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Further text to continue the haystack with (repeatable). Default: /tmp/corpora/python-docs and /tmp/corpora/linux-docs when present (make them with shared/data/corpora/fetch.sh /tmp/corpora).",
      valueName: "dir"))
  var haystack: [String] = []

  @Option(name: .long, help: ArgumentHelp("Folder for haystack files, indexes and the vector cache, reused by later runs. Default: <temp>/tome-niah.", valueName: "dir"))
  var work: String?

  @Option(name: .long, help: ArgumentHelp("Write the results as JSON to this file.", valueName: "file"))
  var json: String?

  @Option(name: .long, help: ArgumentHelp("Write the accuracy heatmap (depth × length) as SVG to this file.", valueName: "file.svg"))
  var plot: String?

  @Option(name: .customLong("report-html"), help: ArgumentHelp("Write an HTML report (heatmaps, tables, command) to this file.", valueName: "file.html"))
  var reportHTML: String?

  @OptionGroup var answering: AnswerOptions
  @OptionGroup var models: ModelOptions

  var parsedLengths: [Int] { lengths.split(separator: ",").compactMap { NIAHBenchmark.parseLength(String($0)) } }
  var parsedDepths: [Int] { depths.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
  var parsedKinds: [NeedleKind] { kinds.split(separator: ",").compactMap { NeedleKind(rawValue: $0.trimmingCharacters(in: .whitespaces)) } }

  func validate() throws {
    for item in lengths.split(separator: ",", omittingEmptySubsequences: false) where NIAHBenchmark.parseLength(String(item)) == nil {
      throw ValidationError("bad --lengths value '\(item)': use token counts such as 4k, 128k, 1m or 3000")
    }
    for item in depths.split(separator: ",", omittingEmptySubsequences: false) {
      guard let d = Int(item.trimmingCharacters(in: .whitespaces)), (0...100).contains(d) else {
        throw ValidationError("bad --depths value '\(item)': use percentages 0…100 such as 0,25,50,75,100")
      }
    }
    for item in kinds.split(separator: ",", omittingEmptySubsequences: false) where NeedleKind(rawValue: item.trimmingCharacters(in: .whitespaces)) == nil {
      throw ValidationError("bad --kinds value '\(item)': use \(NeedleKind.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    if Set(parsedLengths).count != parsedLengths.count { throw ValidationError("--lengths lists a length twice") }
    if Set(parsedDepths).count != parsedDepths.count { throw ValidationError("--depths lists a depth twice") }
  }

  /// The essays folder: --essays, $TOME_SHARED, or shared/data next to the working directory.
  static func essaysFolder(_ essays: String?) throws -> URL {
    if let essays {
      let url = URL(fileURLWithPath: (essays as NSString).expandingTildeInPath)
      guard FileManager.default.fileExists(atPath: url.path) else { throw CLIError("\(url.path): no such folder (--essays)") }
      return url
    }
    let relative = "data/paul_graham_essays/essays"
    var candidates: [URL] = []
    if let shared = ProcessInfo.processInfo.environment["TOME_SHARED"], !shared.isEmpty {
      candidates.append(URL(fileURLWithPath: shared).appendingPathComponent(relative))
    }
    let cwd = Terminal.workingDirectory
    candidates += [cwd.appendingPathComponent("shared/\(relative)"), cwd.deletingLastPathComponent().appendingPathComponent("shared/\(relative)")]
    guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
      throw CLIError("Paul Graham essays not found (looked in \(candidates.map(\.path).joined(separator: ", "))); pass --essays DIR")
    }
    return found
  }

  /// The --haystack folders, or the default corpora that exist.
  func haystackFolders() throws -> [URL] {
    if !haystack.isEmpty {
      return try haystack.map {
        let url = URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath)
        guard FileManager.default.fileExists(atPath: url.path) else { throw CLIError("\(url.path): no such folder (--haystack)") }
        return url
      }
    }
    return ["/tmp/corpora/python-docs", "/tmp/corpora/linux-docs"].map { URL(fileURLWithPath: $0) }
      .filter { FileManager.default.fileExists(atPath: $0.path) }
  }

  func run() async throws {
    print(SystemReport.kernelSummary)
    let sources = [try Self.essaysFolder(essays)] + (try haystackFolders())
    let workURL = work.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
      ?? FileManager.default.temporaryDirectory.appendingPathComponent("tome-niah")
    if sources.count == 1 && (parsedLengths.max() ?? 0) > 150_000 {
      Terminal.error(
        "note: the essays hold ~161k tokens; for longer haystacks pass --haystack DIR (e.g. /tmp/corpora/python-docs, made by shared/data/corpora/fetch.sh /tmp/corpora)")
    }
    try answering.checkModelFile(models.directory)
    let settings = answering.settings
    let encoder = try models.directory.loadEncoder()
    let model = try settings.model.load(models: models.directory, environment: ProcessInfo.processInfo.environment)
    let benchmark = NIAHBenchmark(
      configuration: .init(
        lengths: parsedLengths, depths: parsedDepths, kinds: parsedKinds, seed: seed, work: workURL, sources: sources,
        settings: settings, parameters: answering.parameters),
      encoder: encoder, model: model)
    Terminal.error("work folder: \(workURL.path)")
    var lastReport = ContinuousClock.now - .seconds(60)
    var builds: [NIAHIndexBuild] = []
    var finished: [NIAHCell] = []
    let command = Terminal.commandLine()
    let report = try await benchmark.run { event in
      switch event {
      case .status(let line):
        Terminal.error(line)
      case .ingest(let length, let p):
        if ContinuousClock.now - lastReport > .seconds(10) || p.filesDone == p.filesTotal {
          lastReport = ContinuousClock.now
          Terminal.error(String(
            format: "  %@ ingest: %d/%d files, %d chunks written, %.1fs", NIAHBenchmark.label(length), p.filesDone, p.filesTotal,
            p.chunksWritten, (ContinuousClock.now - p.started).seconds))
        }
      case .embed(let length, let p):
        if ContinuousClock.now - lastReport > .seconds(10) || p.done == p.total {
          lastReport = ContinuousClock.now
          let rate = p.chunksPerSecond
          let eta = rate > 0 ? Double(p.total - p.done) / rate : 0
          Terminal.error(String(
            format: "  %@ embed: %d/%d chunks (%d from cache), %.1f chunks/s, ~%@ left", NIAHBenchmark.label(length), p.done, p.total,
            p.cached, rate, Terminal.duration(eta)))
        }
      case .built(let b):
        builds.append(b)
        Terminal.error(String(
          format: "  %@ index ready: %d documents, %d chunks (%d embedded, %d from cache) in %@", NIAHBenchmark.label(b.length),
          b.documents, b.chunks, b.chunksEmbedded - b.chunksFromCache, b.chunksFromCache, Terminal.duration(b.seconds)))
      case .cell(let c):
        Terminal.error(String(
          format: "  %@ depth %3d%% %@: %@ (retrieved %@, evidence %@) in %@; answer: %@", NIAHBenchmark.label(c.length), c.depth,
          c.kind.rawValue, c.correct ? "correct" : "wrong", c.inRetrievedPassages ? "yes" : "no", c.inTopEvidence ? "yes" : "no",
          Terminal.duration(c.seconds), String(c.answer.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(80))))
        finished.append(c)
        // Keep the files current, so a run stopped early still leaves its finished cells.
        do {
          try write(benchmark.report(indexes: builds, cells: finished), command: command, complete: false)
        } catch {
          Terminal.error("warning: could not write the partial results: \(error)")
        }
      }
    }
    print(Self.tables(report), terminator: "")
    try write(report, command: command, complete: true)
  }

  /// Writes --json, --plot and --report-html (whichever were asked for).
  func write(_ report: NIAHReport, command: String, complete: Bool) throws {
    if let json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(NIAHJSON(command: command, complete: complete, report: report)).write(to: URL(fileURLWithPath: json))
    }
    if let plot {
      try Self.heatmap(report, kinds: report.kinds).svg().write(to: URL(fileURLWithPath: plot), atomically: true, encoding: .utf8)
    }
    if let reportHTML {
      var page = Self.html(report, command: command)
      if !complete {
        page.details.append("Partial: \(report.cells.count) of \(report.lengths.count * report.depths.count * report.kinds.count) cells so far.")
      }
      try page.html().write(to: URL(fileURLWithPath: reportHTML), atomically: true, encoding: .utf8)
    }
  }

  static func fraction(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "–" }

  /// One depth × length table of `values`.
  static func grid(_ report: NIAHReport, title: String, values: [[String]]) -> String {
    var out = title + "\n" + "depth".padding(toLength: 7, withPad: " ", startingAt: 0)
    out += report.lengths.map { NIAHBenchmark.label($0).leftPadded(8) }.joined() + "\n"
    for (d, depth) in report.depths.enumerated() {
      out += "\(depth)%".padding(toLength: 7, withPad: " ", startingAt: 0) + values[d].map { $0.leftPadded(8) }.joined() + "\n"
    }
    return out + "\n"
  }

  /// The text tables: accuracy, retrieval and evidence hit rates, cell times, index builds.
  static func tables(_ report: NIAHReport) -> String {
    var out = ""
    for kind in report.kinds {
      let cells = report.cells.filter { $0.kind == kind }
      func metric(_ m: (NIAHCell) -> Bool) -> [[String]] { report.accuracy(kinds: [kind], metric: m).map { $0.map(fraction) } }
      out += grid(report, title: "\(kind.rawValue): accuracy (answer contains the needle)", values: metric(\.correct))
      out += grid(report, title: "\(kind.rawValue): needle in the passages shown to the model", values: metric(\.inRetrievedPassages))
      out += grid(report, title: "\(kind.rawValue): needle in the top evidence sentence", values: metric(\.inTopEvidence))
      let seconds = report.depths.map { depth in
        report.lengths.map { length in
          cells.first { $0.depth == depth && $0.length == length }.map { String(format: "%.1f", $0.seconds) } ?? "–"
        }
      }
      out += grid(report, title: "\(kind.rawValue): wall time per cell (s: re-index the needle's file + answer + restore)", values: seconds)
    }
    out += "index builds\nlength   tokens     docs   chunks  embedded  cached   seconds\n"
    for b in report.indexes {
      out += NIAHBenchmark.label(b.length).padding(toLength: 7, withPad: " ", startingAt: 0)
      out += String(
        format: "%9d %8d %8d %9d %7d %9.1f\n", b.tokens, b.documents, b.chunks, b.chunksEmbedded - b.chunksFromCache, b.chunksFromCache,
        b.seconds)
    }
    return out
  }

  static func heatmap(_ report: NIAHReport, kinds: [NeedleKind], metric: (NIAHCell) -> Bool = \.correct, what: String = "answer contains the needle") -> Heatmap {
    Heatmap(
      title: "Needle in a haystack: \(kinds.map(\.rawValue).joined(separator: ", ")) (\(report.strategy))",
      subtitle: "\(URL(fileURLWithPath: report.model).lastPathComponent) · \(what) · seed \(report.seed)",
      columns: report.lengths.map(NIAHBenchmark.label), rows: report.depths.map { "\($0)%" },
      values: report.accuracy(kinds: kinds, metric: metric), xLabel: "haystack length (encoder tokens)", yLabel: "needle depth")
  }

  static func html(_ report: NIAHReport, command: String) -> HTMLReport {
    var page = HTMLReport(
      title: "tome bench niah", command: command,
      details: [
        "Model: \(report.model); encoder: \(report.encoder); tokens counted with \(report.tokenCounter).",
        "Haystack sources, in order: \(report.sources.joined(separator: ", ")).",
        "Generated \(ISO8601DateFormatter().string(from: Date())).",
      ])
    for kind in report.kinds {
      let cells = report.cells.filter { $0.kind == kind }
      let rows = cells.map { c in
        [
          NIAHBenchmark.label(c.length), "\(c.depth)%", String(format: "%.1f%%", c.actualDepth), c.document,
          c.correct ? "yes" : "no", c.inRetrievedPassages ? "yes" : "no", c.inTopEvidence ? "yes" : "no",
          String(format: "%.1f", c.seconds), c.expected.joined(separator: ", "),
          String(c.answer.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(120)),
        ]
      }
      page.sections.append(.init(
        title: "\(kind.rawValue): answer contains the needle", svg: heatmap(report, kinds: [kind]).svg(),
        table: .init(
          header: ["length", "depth", "actual depth", "document", "correct", "retrieved", "evidence", "seconds", "expected", "answer"],
          rows: rows)))
      page.sections.append(.init(
        title: "\(kind.rawValue): needle in the passages shown to the model",
        svg: heatmap(report, kinds: [kind], metric: \.inRetrievedPassages, what: "needle in the retrieved passages").svg()))
    }
    page.sections.append(.init(
      title: "Index builds",
      notes: ["Each length's index is built once and kept in the work folder; 'cached' chunks took their vector from the shared vector cache."],
      table: .init(
        header: ["length", "tokens", "documents", "chunks", "embedded", "cached", "seconds"],
        rows: report.indexes.map {
          [
            NIAHBenchmark.label($0.length), "\($0.tokens)", "\($0.documents)", "\($0.chunks)", "\($0.chunksEmbedded - $0.chunksFromCache)",
            "\($0.chunksFromCache)", String(format: "%.1f", $0.seconds),
          ]
        })))
    return page
  }
}

/// `--json` output of `tome bench niah`.
struct NIAHJSON: Codable {
  var command: String
  /// False while the run is still going (or when it was stopped early).
  var complete: Bool
  var report: NIAHReport
}

extension String {
  /// Right-aligned in a field of `width` characters.
  func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}
