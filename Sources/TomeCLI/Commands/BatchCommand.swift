import ArgumentParser
import Dispatch
import Foundation
import TomeCore
import TomeKit
import TomeReasoning

/// `tome batch …`: answer a file of questions, resumably, and score the answers.
struct BatchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "batch",
    abstract: "Answer a JSONL file of questions (resumable), score them against gold, compare runs.",
    subcommands: [BatchRunCommand.self, BatchCompareCommand.self],
    defaultSubcommand: BatchRunCommand.self)
}

/// `tome batch [run] QUESTIONS.jsonl`.
struct BatchRunCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Answer every question of a JSONL file and write one result line per question.",
    discussion: """
      Input: one JSON object per line with "id" (string or number, unique) and "question"; \
      optional "gold" (list of answers), "choices" (multiple choice; gold names the right one \
      by letter or text), "gold_citations" (list of {"path", "lines": [first, last], "page"}), \
      "strategy" (rag, coc, agents, gor, infty, mapreduce, attend or auto: overrides --strategy for that question), \
      "document" (a path or a list of paths: answer from those documents only, as `tome ask \
      --document` does; a path that names no indexed document, or several, makes the line a \
      skipped line); any other \
      field is copied to the output line unchanged. Lines that are \
      not valid are reported with their line number and skipped, the other questions are \
      answered, and the run exits 1; repeated ids stop the run before anything is answered. \
      --output and --report may not name the input file (or a link to it).

      Output (--output, default: next to the input, QUESTIONS.results.jsonl for \
      QUESTIONS.jsonl): one line per question in input order, the answer record of `tome ask \
      --json` (answer, citations, attributions, evidence, passages, tokens, timings, trace, …; \
      see "Answer JSON" in the README) with the input's id, gold, choices, gold_citations and \
      other fields and, with gold, scores: em and f1 (SQuAD normalisation, citation markers \
      removed), accuracy (multiple choice), rouge1/rouge2/rouge_l, citation_precision/recall \
      (the verified [n] citations and the attributed sentences against gold_citations).

      The job is kept in the index: each result is committed when its question finishes, and \
      the same input with the same settings resumes where it stopped (Ctrl-C or kill lose only \
      the questions in flight); --restart starts over. The output is written from the stored \
      results, so it is complete after a resume.

      Each answer is also kept in the index as a record (`tome records`); --no-record keeps \
      none. --document PATH (repeatable) scopes every question that has no "document" field.

      Examples:
        tome batch questions.jsonl --index squad
        tome batch questions.jsonl --endpoint http://127.0.0.1:8080 --parallel 8 --report run.json
        tome batch compare a.results.jsonl b.results.jsonl
      """)

  @Argument(help: "Questions, one JSON object per line.")
  var input: String

  @Option(name: .shortAndLong, help: ArgumentHelp("Results file. Default: INPUT's name with .results.jsonl, beside it.", valueName: "file"))
  var output: String?

  @Option(name: .long, help: ArgumentHelp("Also write the summary as JSON to this file.", valueName: "file"))
  var report: String?

  @Flag(name: .long, help: "Delete this job's stored results and answer every question again.")
  var restart = false

  @Option(name: .long, help: ArgumentHelp("Questions answered at once with --endpoint (the in-process model answers one at a time).", valueName: "n"))
  var parallel = 1

  @OptionGroup var answering: AnswerOptions
  @OptionGroup var scope: DocumentOption
  @OptionGroup var recording: RecordOption
  @OptionGroup var models: ModelOptions
  @OptionGroup var index: IndexOptions

  func validate() throws {
    guard (1...256).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 256 (got \(parallel))") }
  }

  func run() async throws {
    let inputURL = URL(fileURLWithPath: (input as NSString).expandingTildeInPath)
    let outputURL = output.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
    let reportURL = report.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
    do {
      var outputs = [(option: "--output", url: outputURL ?? BatchJob.defaultOutput(for: inputURL))]
      if let reportURL { outputs.append((option: "--report", url: reportURL)) }
      try BatchRunner.checkOutputs(outputs, inputs: [inputURL])
    } catch let error as BatchInputError {
      throw CLIError(error.description)
    }
    let collection = try Collection(location: index.location, create: false)
    let execution = BatchExecution(
      inputURL: inputURL, outputURL: outputURL, restart: restart, parallel: parallel, answering: answering, models: models,
      documents: scope.documents, recordOrigin: recording.origin(.batch))
    let summary = try await execution.run(collection: collection)
    if let report { try BatchExecution.writeJSON(summary, to: report) }
    if summary.skippedLines > 0 {
      // The valid questions are answered, but the run is not a success: lines were lost.
      throw CLIError("\(summary.skippedLines) input line(s) were skipped (listed above); fix them and run again")
    }
  }
}

/// One `tome batch` run, shared by `batch run` and `bench qa`: the job itself is TomeKit's
/// `BatchJob`; this says what happens on standard error and prints the summary.
struct BatchExecution {
  var inputURL: URL
  var outputURL: URL?
  var restart: Bool
  var parallel: Int
  var answering: AnswerOptions
  var models: ModelOptions
  /// `--document` paths for the questions that name none.
  var documents: [String] = []
  /// The origin answers are recorded with (nil: none are).
  var recordOrigin: RecordOrigin?

  /// Reads the input, opens or resumes the job, answers what is left, writes the output and
  /// prints the summary. Throws `ExitCode.failure` after writing when questions failed.
  func run(collection: TomeKit.Collection) async throws -> BatchSummary {
    var input: BatchInput
    do {
      input = try BatchInput.read(inputURL)
    } catch let error as BatchInputError {
      throw CLIError(error.description)
    }
    if !documents.isEmpty {
      // Checked once here, so a bad --document is one error rather than a problem per line.
      let cwd = Terminal.workingDirectory
      let absolute = try collection.documents(named: documents, workingDirectory: cwd).map(\.path)
      for i in input.questions.indices where input.questions[i].documents == nil { input.questions[i].documents = absolute }
    }
    let output = outputURL ?? BatchJob.defaultOutput(for: inputURL)
    let job = try BatchJob.open(
      collection: collection, input: input, inputURL: inputURL, settings: answering.settings, parameters: answering.parameters,
      restart: restart)
    input = job.input
    for problem in input.problems { Terminal.error("skipped: \(problem)") }
    if job.done > 0 {
      Terminal.error("resuming job \(job.id): \(job.done)/\(input.questions.count) done")
    } else {
      Terminal.error("job \(job.id): \(input.questions.count) questions\(restart ? " (restarted)" : "")")
    }

    var report: BatchRunner.Report?
    if !job.remaining.isEmpty {
      try answering.checkModelFile(models.directory)
      if BatchJob.parallelism(requested: parallel, model: answering.modelSource) < parallel {
        Terminal.error("note: the in-process model answers one question at a time; --parallel applies to --endpoint")
      }
      let interrupt = InterruptNotice(job: job)
      let progress = BatchProgress(total: input.questions.count, done: job.done, tty: Terminal.stderrIsTTY)
      report = try await job.answer(
        models: models.directory, parallel: parallel, environment: ProcessInfo.processInfo.environment,
        recordOrigin: recordOrigin, recordFailure: RecordOption.warn
      ) { event in progress.record(event) }
      progress.finish()
      interrupt.cancel()
    }

    let written = try job.writeOutput(to: output)
    var summary = BatchSummary(results: try job.results(), answeredThisRun: report?.answered ?? 0, elapsedSeconds: report?.elapsedSeconds ?? 0)
    summary.skippedLines = input.problems.count
    print(Self.table(summary))
    Terminal.error("wrote \(written) result(s) to \(Terminal.displayPath(output.path))")
    if let report, !report.failed.isEmpty {
      for f in report.failed { Terminal.error("failed: \(f.question.key) (line \(f.question.line)): \(f.error)") }
      Terminal.error("\(report.failed.count) question(s) failed and stay unanswered; run the same command again to retry them")
      throw ExitCode.failure
    }
    return summary
  }

  /// The summary as an aligned two-column table.
  static func table(_ s: BatchSummary) -> String {
    func value(_ m: MetricMean?) -> String { m.map { String(format: "%.3f  (n=%d)", $0.mean, $0.n) } ?? "–" }
    var rows: [(String, String)] = [("questions", "\(s.n)")]
    rows.append(("exact match", value(s.em)))
    rows.append(("F1", value(s.f1)))
    rows.append(("accuracy", value(s.accuracy)))
    rows.append(("ROUGE-1", value(s.rouge1)))
    rows.append(("ROUGE-2", value(s.rouge2)))
    rows.append(("ROUGE-L", value(s.rougeL)))
    rows.append(("citation precision", value(s.citationPrecision)))
    rows.append(("citation recall", value(s.citationRecall)))
    rows.append(("verified citations", s.verifiedCitations.map { String(format: "%.3f", $0) } ?? "–"))
    rows.append(("mean latency", s.meanLatency.map { String(format: "%.2fs", $0) } ?? "–"))
    rows.append(("questions/min", s.questionsPerMinute.map { String(format: "%.2f", $0) } ?? "– (nothing answered in this run)"))
    return rows.map { $0.0.padding(toLength: 20, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n")
  }

  static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try encoder.encode(value).write(to: URL(fileURLWithPath: (path as NSString).expandingTildeInPath))
  }
}

/// Progress of a batch on standard error: a redrawn line on a terminal (done/total, rate,
/// ETA, running score), else a plain line every 10 questions or 30 seconds.
final class BatchProgress {
  let total: Int
  var done: Int
  let tty: Bool
  let started = ContinuousClock.now
  var lastLine = ContinuousClock.now
  var answeredHere = 0
  var sinceLine = 0
  var f1: [Double] = []
  var accuracy: [Double] = []
  var failed = 0
  let throttle = ProgressThrottle()

  init(total: Int, done: Int, tty: Bool) {
    self.total = total
    self.done = done
    self.tty = tty
  }

  func record(_ event: BatchRunner.Event) {
    switch event {
    case .answered(_, let result):
      done += 1
      answeredHere += 1
      if let f = result.scores.f1 { f1.append(f) }
      if let a = result.scores.accuracy { accuracy.append(a) }
    case .failed:
      failed += 1
    }
    sinceLine += 1
    if tty {
      if throttle.due(final: done == total) { FileHandle.standardError.write(Data(("\r\u{1B}[K" + line()).utf8)) }
    } else if sinceLine >= 10 || ContinuousClock.now - lastLine >= .seconds(30) || done == total {
      Terminal.error(line())
      sinceLine = 0
      lastLine = .now
    }
  }

  func line() -> String {
    let minutes = (ContinuousClock.now - started).seconds / 60
    let rate = minutes > 0 ? Double(answeredHere) / minutes : 0
    var parts = ["\(done)/\(total)", String(format: "%.1f q/min", rate)]
    if rate > 0 && done < total { parts.append("ETA " + Terminal.duration(Double(total - done) / rate * 60)) }
    if !f1.isEmpty { parts.append(String(format: "F1 %.3f", f1.reduce(0, +) / Double(f1.count))) }
    if !accuracy.isEmpty { parts.append(String(format: "accuracy %.3f", accuracy.reduce(0, +) / Double(accuracy.count))) }
    if failed > 0 { parts.append("\(failed) failed") }
    return parts.joined(separator: "  ")
  }

  func finish() {
    if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
  }
}

/// On Ctrl-C, says how much of the job is kept and how to resume, then exits 130. Results
/// are committed one by one, so only the questions in flight are lost.
final class InterruptNotice {
  private let source: any DispatchSourceSignal

  init(job: BatchJob) {
    signal(SIGINT, SIG_IGN)
    source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler {
      let kept = (try? job.storedResults()).map { "\($0)/\(job.input.questions.count)" } ?? "the finished"
      FileHandle.standardError.write(Data("\ninterrupted: \(kept) answers of job \(job.id) are kept; run the same command again to resume\n".utf8))
      exit(130)
    }
    source.resume()
  }

  func cancel() {
    source.cancel()
    signal(SIGINT, SIG_DFL)
  }
}
