import ArgumentParser
import Foundation
import TomeBench
import TomeKit
import TomeReport

/// `tome bench qa COLLECTION_DIR QUESTIONS.jsonl`: ingest, answer, score.
struct BenchQACommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "qa",
    abstract: "Ingest a collection, answer a question file with tome batch, print the scores.",
    discussion: """
      Ingests COLLECTION_DIR (with embeddings) into the index COLLECTION_DIR.index beside it, \
      or uses --index as it is, then runs `tome batch QUESTIONS.jsonl` on it (resumable; same \
      output file and answering options) and prints the summary table.

      Example:
        tome bench convert squad ../shared/data/squad-dev-half/squad-dev-v1.1-articles-00-23.json squad50 --limit 50
        tome bench qa squad50/collection squad50/questions.jsonl --json squad50.json
      """)

  @Argument(help: "The folder of documents the questions are about.")
  var collection: String

  @Argument(help: "Questions, one JSON object per line (tome batch's input format).")
  var questions: String

  @Option(name: .long, help: ArgumentHelp("Index to answer from, used as it is (no ingest).", valueName: "name|path"))
  var index: String?

  @Option(name: .shortAndLong, help: ArgumentHelp("Results file. Default: QUESTIONS's name with .results.jsonl, beside it.", valueName: "file"))
  var output: String?

  @Option(name: .long, help: ArgumentHelp("Also write the summary as JSON to this file.", valueName: "file"))
  var json: String?

  @Flag(name: .long, help: "Answer every question again instead of resuming.")
  var restart = false

  @Option(name: .long, help: ArgumentHelp("Questions answered at once with --endpoint.", valueName: "n"))
  var parallel = 1

  @Option(name: .long, help: ArgumentHelp("Write a bar chart of the scores (fractions 0–1) as SVG.", valueName: "file.svg"))
  var plot: String?

  @OptionGroup var answering: AnswerOptions
  @OptionGroup var models: ModelOptions

  func validate() throws {
    guard (1...256).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 256 (got \(parallel))") }
  }

  func run() async throws {
    print(SystemReport.kernelSummary)
    let cwd = Terminal.workingDirectory
    let folder = URL(fileURLWithPath: (collection as NSString).expandingTildeInPath, isDirectory: true).standardizedFileURL
    let index: TomeKit.Collection
    if let name = self.index {
      index = try Collection(location: IndexLocation(argument: name, workingDirectory: cwd), create: false)
    } else {
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
        throw CLIError("\(collection): not a folder")
      }
      let location = IndexLocation(directory: folder.deletingLastPathComponent().appendingPathComponent(folder.lastPathComponent + ".index"))
      index = try Collection(location: location, create: true)
      let encoder = try models.directory.loadEncoder()
      let synced = try index.sync(paths: [folder], encoder: encoder)
      Terminal.error(
        "index \(Terminal.displayPath(location.directory.path)): \(synced.ingest.chunks) chunks written, \(synced.embedding?.embedded ?? 0) embedded")
      for entry in synced.ingest.failed { Terminal.error("failed: \(Terminal.displayPath(entry.path)): \(entry.message)") }
    }
    let execution = BatchExecution(
      inputURL: URL(fileURLWithPath: (questions as NSString).expandingTildeInPath),
      outputURL: output.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) },
      restart: restart, parallel: parallel, answering: answering, models: models)
    let summary = try await execution.run(collection: index)
    if let json { try BatchExecution.writeJSON(summary, to: json) }
    if let plot { try Self.chart(summary, questions: questions).svg().write(to: URL(fileURLWithPath: plot), atomically: true, encoding: .utf8) }
  }

  /// The run's scores that exist (fractions, so latency is left out) as one series of bars.
  static func chart(_ summary: BatchSummary, questions: String) -> BarChart {
    let scores = summary.metrics.filter { $0.name != "latency_s" && $0.value != nil }
    return BarChart(
      title: "tome bench qa: \(URL(fileURLWithPath: questions).lastPathComponent)", subtitle: "\(summary.n) questions",
      categories: scores.map(\.name), series: ["score"], values: scores.map { [$0.value] }, yLabel: "score", yMaximum: 1)
  }
}
