public import Foundation
public import TomeCore
public import TomeReasoning
import TomeStore

/// One run of a question file over a collection, as `tome batch` and `tome bench qa` do it:
/// opens the job the index keeps for this input and these settings (or resumes it), answers
/// the questions it has no result for, and writes the output file from the stored results.
///
/// The job key covers the input's content, the answering settings and the prompt templates,
/// so the same command resumes and any change starts a new job. Each answer is committed as
/// it finishes (see `BatchRunner`): a killed run loses only the questions in flight.
public struct BatchJob: Sendable {
  public let collection: Collection
  public let input: BatchInput
  public let settings: AnswererSettings
  public let parameters: GenerationParameters
  let record: JobRecord
  /// The questions without a stored result, in input order.
  public let remaining: [BatchQuestion]
  /// The documents each question (by key) is answered within, for those with a `document`.
  let scopes: [String: Set<DocumentID>]

  /// The job's number in the index.
  public var id: Int64 { record.id }
  /// Questions already answered when the job was opened.
  public var done: Int { input.questions.count - remaining.count }

  /// Opens the job for `input` answered with `settings` and `parameters`, created when new;
  /// `restart` drops its stored results first.
  ///
  /// Each question's `document` paths are resolved against the index (relative paths from
  /// the input file's folder, else a unique ending of an indexed path); a question whose
  /// paths name no single document becomes a problem of the job's `input` and is not asked.
  ///
  /// - Parameter inputURL: where `input` was read, recorded with the job.
  /// - Throws: `BatchJobError.noQuestions` when the input has no usable question; store errors.
  public static func open(
    collection: Collection, input: BatchInput, inputURL: URL, settings: AnswererSettings, parameters: GenerationParameters,
    restart: Bool
  ) throws -> BatchJob {
    var input = input
    var scopes: [String: Set<DocumentID>] = [:]
    var usable: [BatchQuestion] = []
    for q in input.questions {
      guard let paths = q.documents else {
        usable.append(q)
        continue
      }
      do {
        scopes[q.key] = try collection.documentIDs(forPaths: paths, workingDirectory: inputURL.deletingLastPathComponent())
        usable.append(q)
      } catch let error as DocumentPathError {
        input.problems.append(BatchInputProblem(file: input.name, line: q.line, message: error.description))
      }
    }
    input.questions = usable
    input.problems.sort { $0.line < $1.line }
    guard !input.questions.isEmpty else {
      throw BatchJobError.noQuestions(file: inputURL.lastPathComponent, skippedLines: input.problems.count)
    }
    let store = collection.store
    let settingsText = BatchRunner.settingsText(settings, parameters: parameters)
    let record = try BatchRunner.openJob(store: store, input: input, inputPath: inputURL.path, settings: settingsText, restart: restart)
    let remaining = try BatchRunner.remaining(input, job: record, store: store)
    return BatchJob(
      collection: collection, input: input, settings: settings, parameters: parameters, record: record, remaining: remaining,
      scopes: scopes)
  }

  /// How many questions can be answered at once with `model`: the in-process model answers
  /// one at a time (it is one compute stream), a server as many as `requested`.
  public static func parallelism(requested: Int, model: LanguageModelSource) -> Int {
    if case .local = model { return 1 }
    return requested
  }

  /// Answers the remaining questions, `parallelism(requested: parallel, model:)` at a time,
  /// reporting each outcome to `onEvent`. Loads the encoder and the model (`environment`
  /// holds an endpoint's bearer token variable, see `LanguageModelSource`).
  ///
  /// - Parameters:
  ///   - recordOrigin: keep each answer as a record of this origin (nil: keep none).
  ///   - recordFailure: told, in one line, when an answer could not be kept as a record.
  /// - Throws: what `Answerer.open` throws; `CancellationError`; store errors. A question's own
  ///   failure is reported in the result (it stays unanswered, so a re-run tries it again).
  public func answer(
    models: ModelDirectory, parallel: Int, environment: [String: String], recordOrigin: RecordOrigin? = nil,
    recordFailure: (@Sendable (String) -> Void)? = nil, onEvent: (BatchRunner.Event) -> Void = { _ in }
  ) async throws -> BatchRunner.Report {
    var answerer = try Answerer.open(
      collection: collection, models: models, settings: settings, environment: environment, recordOrigin: recordOrigin)
    answerer.recordFailure = recordFailure
    let runner = BatchRunner(
      answerer: answerer, store: collection.store, parameters: parameters,
      parallel: Self.parallelism(requested: parallel, model: settings.model))
    return try await runner.run(job: record, questions: remaining, scopes: scopes, onEvent: onEvent)
  }

  /// The number of results stored so far (what a kill keeps).
  public func storedResults() throws -> Int {
    try collection.store.jobResultCount(jobID: record.id)
  }

  /// Every stored result, in input order.
  public func results() throws -> [BatchResult] {
    try BatchRunner.results(of: record, store: collection.store)
  }

  /// Writes every stored result as JSONL to `url` (input order), replacing the file atomically.
  /// - Returns: the number of lines written.
  @discardableResult
  public func writeOutput(to url: URL) throws -> Int {
    try BatchRunner.writeOutput(of: record, store: collection.store, to: url)
  }

  /// `questions.jsonl` → `questions.results.jsonl` in the same folder.
  public static func defaultOutput(for input: URL) -> URL {
    let stem = input.pathExtension == "jsonl" ? input.deletingPathExtension().lastPathComponent : input.lastPathComponent
    return input.deletingLastPathComponent().appendingPathComponent(stem + ".results.jsonl")
  }
}

/// A question file a batch cannot run.
public enum BatchJobError: Error, CustomStringConvertible, Sendable, Hashable {
  /// No line of the file is a usable question.
  case noQuestions(file: String, skippedLines: Int)

  public var description: String {
    switch self {
    case .noQuestions(let file, let skipped): "\(file): no usable question (\(skipped) line(s) skipped)"
    }
  }
}
