public import Foundation
public import TomeCore
package import TomeStore
import TomeReasoning
import TomeIngest

/// Runs a batch job (through `BatchJob`, which opens it): answers each question not yet answered, committing each result as its
/// question finishes, so a killed job loses only the questions in flight and a re-run resumes.
///
/// Results live in the index's `job_results` table (one row per question id), which is the
/// single source for the output file.
public struct BatchRunner: Sendable {
  /// What happens while a job runs, in the order it happens.
  public enum Event: Sendable {
    /// A question was answered and its result committed.
    case answered(BatchQuestion, BatchResult)
    /// A question failed; it stays unanswered, so a re-run tries it again.
    case failed(BatchQuestion, String)
  }

  /// A question that could not be answered, and why.
  public struct Failure: Sendable {
    public var question: BatchQuestion
    public var error: String
  }

  /// What a run did.
  public struct Report: Sendable {
    public var answered: Int
    public var failed: [Failure]
    public var elapsedSeconds: Double
  }

  public var answerer: Answerer
  package var store: IndexStore
  public var parameters: GenerationParameters
  /// Questions answered at once.
  public var parallel: Int

  package init(answerer: Answerer, store: IndexStore, parameters: GenerationParameters, parallel: Int = 1) {
    precondition(parallel >= 1, "parallel must be at least 1")
    self.answerer = answerer
    self.store = store
    self.parameters = parameters
    self.parallel = parallel
  }

  /// The settings that change answers, as text: retrieval, the strategy and every strategy's
  /// options (re-ranking, filters, layers), KV pages on or off, model, the prompt templates
  /// (their folder and a digest of what they say) and sampling.
  public static func settingsText(_ settings: AnswererSettings, parameters: GenerationParameters) -> String {
    let prompts = settings.prompts.standardizedFileURL
    return "\(settings.retrieval) \(settings.strategy) \(settings.strategies) kv-pages=\(settings.kvPages) \(settings.model) "
      + "prompts=\(prompts.path)@\(templatesDigest(prompts)) \(parameters)"
  }

  /// SHA-256 over the names and contents of the `.txt` templates in `directory`, in name order,
  /// so that editing a prompt starts a new job instead of mixing old and new answers.
  /// An unreadable folder digests as empty; opening the answerer reports it properly.
  static func templatesDigest(_ directory: URL) -> String {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
      .filter { $0.hasSuffix(".txt") }.sorted()
    var hash = SHA256()
    for name in names {
      hash.update(Data((name + "\n").utf8))
      hash.update((try? Data(contentsOf: directory.appendingPathComponent(name))) ?? Data())
      hash.update(Data("\n".utf8))
    }
    return hash.finalize()
  }

  /// The shape of a stored result line (`BatchResult`), part of the job key. A job stored by a
  /// Tome that wrote another shape is not resumed, since its lines would not decode and the
  /// output would mix two shapes; the same command starts a new job. Change it when the keys
  /// of a result line change.
  static let resultFormat = "answer-record-1"

  /// The job key: SHA-256 of the input's digest, the settings text and the result format.
  public static func jobKey(inputDigest: String, settings: String) -> String {
    var hash = SHA256()
    hash.update(Data((inputDigest + "\n" + settings + "\n" + resultFormat).utf8))
    return hash.finalize()
  }

  /// The job for `input` with `settings`, created when new; `restart` drops its results.
  package static func openJob(
    store: IndexStore, input: BatchInput, inputPath: String, settings: String, restart: Bool
  ) throws -> JobRecord {
    let key = jobKey(inputDigest: input.digest, settings: settings)
    var job = try store.openJob(key: key, inputPath: inputPath, settings: settings, total: input.questions.count)
    if restart {
      try store.restartJob(id: job.id)
      job.status = .running
      job.finishedAt = nil
    }
    return job
  }

  /// The questions of `input` that `job` has not answered yet, in input order.
  package static func remaining(_ input: BatchInput, job: JobRecord, store: IndexStore) throws -> [BatchQuestion] {
    let done = try store.answeredQuestionIDs(jobID: job.id)
    return input.questions.filter { !done.contains($0.key) }
  }

  /// Answers `questions` for `job`, up to `parallel` at once, reporting each outcome to
  /// `onEvent` (called on the caller's task, one at a time). Marks the job finished when
  /// every question of the job has a result.
  ///
  /// - Throws: `CancellationError` when the task is cancelled; store errors when a result
  ///   cannot be committed. A question's own failure is reported, not thrown.
  /// - Parameter scopes: the documents a question (by key) is answered within; a question
  ///   without an entry is answered over the whole collection.
  package func run(
    job: JobRecord, questions: [BatchQuestion], scopes: [String: Set<DocumentID>] = [:], onEvent: (Event) -> Void = { _ in }
  ) async throws -> Report {
    let started = ContinuousClock.now
    var answered = 0
    var failed: [Failure] = []
    try await withThrowingTaskGroup(of: Event.self) { group in
      var next = 0
      func addNext() {
        guard next < questions.count else { return }
        let q = questions[next]
        next += 1
        let answerer = self.answerer
        let parameters = self.parameters
        let store = self.store
        let documents = scopes[q.key]
        group.addTask {
          do {
            let answer = try await answerer.answer(q.question, strategy: q.strategy, parameters: parameters, documents: documents)
            let result = BatchResult(question: q, answer: answer)
            try store.saveJobResult(JobResultRecord(jobID: job.id, questionID: q.key, line: q.line, result: try result.jsonLine()))
            return .answered(q, result)
          } catch is CancellationError {
            throw CancellationError()
          } catch let error as StoreError {
            throw error
          } catch {
            return .failed(q, "\(error)".split(whereSeparator: \.isNewline).joined(separator: " "))
          }
        }
      }
      for _ in 0..<parallel { addNext() }
      while let event = try await group.next() {
        switch event {
        case .answered: answered += 1
        case .failed(let q, let message): failed.append(Failure(question: q, error: message))
        }
        onEvent(event)
        try Task.checkCancellation()
        addNext()
      }
    }
    if try store.jobResultCount(jobID: job.id) >= job.total { try store.finishJob(id: job.id) }
    return Report(answered: answered, failed: failed, elapsedSeconds: (ContinuousClock.now - started).seconds)
  }

  /// Every result of `job`, in input order, decoded.
  package static func results(of job: JobRecord, store: IndexStore) throws -> [BatchResult] {
    try store.jobResults(jobID: job.id).map { try JSONDecoder().decode(BatchResult.self, from: Data($0.result.utf8)) }
  }

  /// Refuses output files that would overwrite an input: the same path, a symbolic link to
  /// it, or a hard link to the same file (`tome batch q.jsonl --output q.jsonl` once replaced
  /// the questions with the answers). Run before anything is answered.
  ///
  /// - Parameter outputs: each file to be written, with the option that names it (`--output`).
  /// - Throws: `BatchInputError` naming the option and both paths.
  public static func checkOutputs(_ outputs: [(option: String, url: URL)], inputs: [URL]) throws {
    for output in outputs {
      for input in inputs where sameFile(output.url, input) {
        throw BatchInputError(
          description: "\(output.option) \(output.url.path) is the input file \(input.path); writing it would destroy the questions — pick another path")
      }
    }
    for (i, a) in outputs.enumerated() {
      for b in outputs[(i + 1)...] where sameFile(a.url, b.url) {
        throw BatchInputError(description: "\(a.option) and \(b.option) name the same file \(a.url.path); pick two paths")
      }
    }
  }

  /// True when `a` and `b` are one file: the same path after resolving links, or (when both
  /// exist) the same device and inode.
  static func sameFile(_ a: URL, _ b: URL) -> Bool {
    let pa = a.standardizedFileURL.resolvingSymlinksInPath().path
    let pb = b.standardizedFileURL.resolvingSymlinksInPath().path
    if pa == pb { return true }
    var sa = stat()
    var sb = stat()
    guard stat(pa, &sa) == 0, stat(pb, &sb) == 0 else { return false }
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
  }

  /// Writes the job's results as JSONL to `url` (input order), replacing the file atomically.
  /// - Returns: the number of lines written.
  @discardableResult
  package static func writeOutput(of job: JobRecord, store: IndexStore, to url: URL) throws -> Int {
    let rows = try store.jobResults(jobID: job.id)
    var text = rows.map(\.result).joined(separator: "\n")
    if !rows.isEmpty { text += "\n" }
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url, options: .atomic)
    return rows.count
  }
}
