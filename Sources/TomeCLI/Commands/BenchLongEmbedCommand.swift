import ArgumentParser
import Foundation
import TomeBench
import TomeKit
import TomeReport

/// `tome bench longembed`: LongEmbed's synthetic passkey and needle tasks per long-input mode.
struct LongEmbedBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "longembed",
    abstract: "Acc@1 of the encoder on LongEmbed passkey/needle documents: truncate vs parallel windows vs position interpolation.",
    discussion: """
      For each length, --docs candidate documents and one query per document (LongEmbed, \
      Zhu et al. 2024): passkey hides "<name>'s pass key is <n>" in filler sentences; needle \
      hides a written fact in a window of Paul Graham essay words. Acc@1 is the share of \
      queries whose nearest document is their own. Lengths are words × 4/3 (LongEmbed's \
      recipe); the table also shows the mean WordPiece tokens. Seeded by length.

      Examples:
        tome bench longembed
        tome bench longembed --lengths 512,2048,8192 --docs 10 --plot longembed.svg
        tome bench longembed --tasks passkey --modes truncate,parallelWindows --json le.json
      """)

  @Option(name: .long, help: ArgumentHelp("Document lengths in tokens, comma-separated (k = 1,024).", valueName: "list"))
  var lengths = "256,512,1024,2048,4096"

  @Option(name: .long, help: ArgumentHelp("Long-input modes, comma-separated: truncate, parallelWindows, positionInterpolation.", valueName: "list"))
  var modes = LongEmbedMode.allCases.map(\.rawValue).joined(separator: ",")

  @Option(name: .long, help: ArgumentHelp("Tasks, comma-separated: passkey, needle.", valueName: "list"))
  var tasks = "passkey,needle"

  @Option(name: .long, help: "Candidate documents (= queries) per length.")
  var docs = 20

  @Option(name: .long, help: ArgumentHelp("Folder of the Paul Graham essays (needle task). Default: as for `tome bench niah`.", valueName: "dir"))
  var essays: String?

  @Option(name: .long, help: ArgumentHelp("Write the results as JSON to this file.", valueName: "file"))
  var json: String?

  @Option(name: .long, help: ArgumentHelp("Write grouped bars (lengths × modes, one chart per task) as SVG to this file.", valueName: "file.svg"))
  var plot: String?

  @Option(name: .customLong("report-html"), help: ArgumentHelp("Write an HTML report to this file.", valueName: "file.html"))
  var reportHTML: String?

  @OptionGroup var models: ModelOptions

  var parsedLengths: [Int] { lengths.split(separator: ",").compactMap { NIAHBenchmark.parseLength(String($0)) } }
  var parsedModes: [LongEmbedMode] { modes.split(separator: ",").compactMap { LongEmbedMode(rawValue: $0.trimmingCharacters(in: .whitespaces)) } }
  var parsedTasks: [LongEmbedTask.Kind] {
    tasks.split(separator: ",").compactMap { LongEmbedTask.Kind(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
  }

  func validate() throws {
    for item in lengths.split(separator: ",", omittingEmptySubsequences: false) {
      guard let n = NIAHBenchmark.parseLength(String(item)), n >= 16, n <= 65_536 else {
        throw ValidationError("bad --lengths value '\(item)': use token counts from 16 to 64k, such as 512,2048,8k")
      }
    }
    for item in modes.split(separator: ",", omittingEmptySubsequences: false) where LongEmbedMode(rawValue: item.trimmingCharacters(in: .whitespaces)) == nil {
      throw ValidationError("bad --modes value '\(item)': use \(LongEmbedMode.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    for item in tasks.split(separator: ",", omittingEmptySubsequences: false) where LongEmbedTask.Kind(rawValue: item.trimmingCharacters(in: .whitespaces)) == nil {
      throw ValidationError("bad --tasks value '\(item)': use passkey, needle")
    }
    guard (2...480).contains(docs) else { throw ValidationError("--docs must be between 2 and 480 (got \(docs))") }
  }

  func run() async throws {
    print(SystemReport.kernelSummary)
    var essayWords: [Substring] = []
    if parsedTasks.contains(.needle) {
      essayWords = try LongEmbedTask.essayWords(folder: try NIAHBenchCommand.essaysFolder(essays))
    }
    let evaluation = try LongEmbedEvaluation(models: models.directory)
    var results: [LongEmbedEvaluation.Result] = []
    print("task     length  tokens(mean)  " + parsedModes.map { $0.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0) }.joined())
    for kind in parsedTasks {
      for length in parsedLengths {
        let task =
          kind == .passkey
          ? LongEmbedTask.passkey(length: length, count: docs, seed: UInt64(length))
          : LongEmbedTask.needle(length: length, count: docs, essays: essayWords, seed: UInt64(length) + 1)
        var row = kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) + String(format: "%6d  %12d  ", length, evaluation.meanTokens(task))
        for mode in parsedModes {
          Terminal.error("\(kind.rawValue) \(length): \(mode.rawValue)…")
          let result = try evaluation.evaluate(task, mode: mode)
          results.append(result)
          row += String(format: "%5.1f%%  (%7.1f s)      ", 100 * result.accuracyAt1, result.seconds)
        }
        print(row)
      }
    }
    if let json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(LongEmbedJSON(command: Terminal.commandLine(), documents: docs, results: results))
        .write(to: URL(fileURLWithPath: json))
    }
    let charts = parsedTasks.map { chart(kind: $0, results: results) }
    if let plot {
      // One SVG file: the charts stacked (each chart is a complete <svg>, nested in a parent).
      try Self.stack(charts.map { $0.svg() }).write(to: URL(fileURLWithPath: plot), atomically: true, encoding: .utf8)
    }
    if let reportHTML {
      var page = HTMLReport(
        title: "tome bench longembed", command: Terminal.commandLine(),
        details: ["\(docs) candidate documents and \(docs) queries per length; Acc@1 = the query's own document ranks first."])
      for (kind, chart) in zip(parsedTasks, charts) {
        let rows = results.filter { $0.task == kind }.map {
          [
            "\($0.length)", "\($0.meanTokens)", $0.mode.rawValue, String(format: "%.1f%%", 100 * $0.accuracyAt1),
            String(format: "%.1f", $0.seconds),
          ]
        }
        page.sections.append(.init(
          title: "\(kind.rawValue)", svg: chart.svg(),
          table: .init(header: ["length", "tokens (mean)", "mode", "Acc@1", "seconds"], rows: rows)))
      }
      try page.html().write(to: URL(fileURLWithPath: reportHTML), atomically: true, encoding: .utf8)
    }
  }

  func chart(kind: LongEmbedTask.Kind, results: [LongEmbedEvaluation.Result]) -> BarChart {
    BarChart(
      title: "LongEmbed \(kind.rawValue): Acc@1 by length and long-input mode", subtitle: "\(docs) documents per length",
      categories: parsedLengths.map { "\($0)" }, series: parsedModes.map(\.rawValue),
      values: parsedLengths.map { length in
        parsedModes.map { mode in results.first { $0.task == kind && $0.length == length && $0.mode == mode }?.accuracyAt1 }
      },
      yLabel: "Acc@1", yMaximum: 1)
  }

  /// Stacks complete SVG documents vertically into one.
  static func stack(_ svgs: [String]) -> String {
    var y = 0.0
    var width = 0.0
    var body = ""
    for svg in svgs {
      let w = Self.attribute("width", in: svg) ?? 600
      let h = Self.attribute("height", in: svg) ?? 400
      body += svg.replacingOccurrences(of: "<svg xmlns=\"http://www.w3.org/2000/svg\" ", with: "<svg y=\"\(Int(y))\" ")
      y += h
      width = max(width, w)
    }
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(y))\" viewBox=\"0 0 \(Int(width)) \(Int(y))\">\n"
      + body + "</svg>\n"
  }

  static func attribute(_ name: String, in svg: String) -> Double? {
    guard let range = svg.range(of: " \(name)=\"") else { return nil }
    let rest = svg[range.upperBound...]
    return rest.firstIndex(of: "\"").flatMap { Double(rest[..<$0]) }
  }
}

/// `--json` output of `tome bench longembed`.
struct LongEmbedJSON: Codable {
  var command: String
  var documents: Int
  var results: [LongEmbedEvaluation.Result]
}
