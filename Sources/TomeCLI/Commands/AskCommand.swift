import ArgumentParser
import Foundation
import TomeCore
import TomeKit
import TomeReasoning
import TomeReport

/// `tome ask "question"`: an answer with evidence sentences and checked citations.
struct AskCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ask",
    abstract: "Answer a question from the index, citing the exact lines used.",
    discussion: """
      Retrieves the best chunks (hybrid BM25 + vectors), grows them by neighbouring chunks of the \
      same section while the model's context allows, and prints first the 1–3 sentences of the \
      sources closest in meaning to the question (verbatim, with path:lines), then the model's \
      answer as it is written, then the sources it cited. A [n] that names no passage, or a \
      quotation that the cited passage does not hold, is marked unverified; an answer whose words \
      are not in the sources is marked unsupported. When nothing related is retrieved the answer is \
      "not found in the collection" and the model is not called.

      Passages go to the model best first and second best last, right before the question (the \
      edge reordering of Jin et al. 2024); --no-reorder keeps plain rank order.

      --document PATH (repeatable) answers from those documents only: retrieval, and every \
      strategy's reading, stay within them. PATH is the path `tome status` lists or a unique \
      end of it (`Bed002.txt`); a path that names no document, or several, is an error.

      Each answer is kept in the index as a record (question, answer, the chunks it cited and \
      was shown), which `tome records` lists and prunes; --no-record keeps none.

      --json prints the answer record: the same keys as each line of `tome batch` and the \
      reply of `POST /v1/ask` (see "Answer JSON" in the README).

      Examples:
        tome ask "what does default alive mean"
        tome ask -k 6 --max-tokens 128 "who founded Viaweb"
        tome ask --json "what is a superangel" | jq '.evidence[0]'
        tome ask --endpoint http://127.0.0.1:8080 "how do startups die"
        tome ask --strategy coc --trace "which company did the founder of Viaweb start next"
        tome ask --strategy agents --scope all "what do the essays say about investors"
        tome ask --strategy agents --plot calls.svg "what do the essays say about investors"
        tome ask --document Bed002.txt --strategy gor "summarise the meeting"
        tome ask --document long.txt --strategy infty --plot rounds.svg "what are the main arguments"

      Strategies (--strategy): rag answers once from the best passages; coc asks itself a \
      clarifying question, searches again with it and pins the paragraphs the model scores as \
      relevant (multi-hop questions); agents has seeking agents read windows of the top \
      documents (or, with --scope all, the whole collection) and a reasoner answer from their \
      ranked extractions; gor answers simulated questions into records and answers from the \
      best records and chunks, infty reads a document in segments with a rolling summary and \
      mapreduce summarises every window (questions about a whole document or collection); auto \
      picks one by the question's form and the collection's size and escalates when the answer \
      is not found. Answer sentences without a [n] marker are \
      attributed to the source lines that support them ("Supported by").

      --plot FILE.svg writes, after the answer, a line chart of the prompt tokens of each model \
      call in order (and prompt + answer tokens), against the context window (the model's, or \
      --context when smaller): the rise and fall of a strategy that reads in segments.
      """)

  @Argument(help: "The question.")
  var question: String

  @OptionGroup var answering: AnswerOptions
  @OptionGroup var scope: DocumentOption
  @OptionGroup var recording: RecordOption

  @Flag(name: .long, help: "Print each step (searches, model calls with tokens and seconds, decisions with their scores) on stderr as it happens.")
  var trace = false
  @Option(
    name: .long,
    help: ArgumentHelp("After the answer, write an SVG line chart of prompt tokens per model call to this file.", valueName: "file"))
  var plot: String?
  @OptionGroup var indexKind: IndexKindOption
  @OptionGroup var models: ModelOptions
  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func validate() throws {
    guard !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("the question is empty") }
  }

  func run() async throws {
    let plotURL = try plot.map(Self.checkedPlotURL)
    let collection = try Collection(location: index.location, create: false)
    let documents = try scope.scope(in: collection)
    try answering.checkModelFile(models.directory)
    var answerer = try Answerer.open(
      collection: collection, models: models.directory, settings: answering.settings,
      environment: ProcessInfo.processInfo.environment, indexKind: indexKind.indexKind, recordOrigin: recording.origin(.ask))
    answerer.recordFailure = RecordOption.warn
    let parameters = answering.parameters
    // Asked questions are RoarGraph's training queries (`tome index build --kind roar`).
    try collection.recordAskedQuestion(question)

    var printer = AnswerPrinter(tty: Terminal.stdoutIsTTY, quiet: output.quiet || output.json, trace: trace)
    defer { printer.end() }
    var finished: Answer?
    for try await event in answerer.answer(question, parameters: parameters, documents: documents) {
      if case .finished(let answer) = event { finished = answer }
      if output.json {
        if case .finished(let answer) = event { try Terminal.printJSON(AnswerRecord(answer)) }
        if trace, case .step = event { printer.show(event) }
      } else {
        printer.show(event)
      }
    }
    if let plotURL, let finished {
      let window = min(answerer.model.contextLength, answering.context ?? .max)
      let svg = Self.chart(finished, contextLength: window).svg()
      do {
        try Data(svg.utf8).write(to: plotURL, options: .atomic)
      } catch {
        throw CLIError("cannot write --plot \(plotURL.path): \(Terminal.fileErrorText(error) ?? "\(error)")")
      }
    }
  }

  /// The `--plot` file, checked before the model runs: its folder must exist and it must not be
  /// a folder itself.
  static func checkedPlotURL(_ path: String) throws -> URL {
    let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
    var isFolder: ObjCBool = false
    let folder = url.deletingLastPathComponent()
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
      throw CLIError("cannot write --plot \(url.path): folder \(folder.path) does not exist")
    }
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
      throw CLIError("cannot write --plot \(url.path): it is a folder")
    }
    return url
  }

  /// The answer's model calls as a chart: one point per `.modelCall` step, in trace order.
  static func chart(_ answer: Answer, contextLength: Int) -> LineChart {
    let calls = answer.trace.filter { $0.kind == .modelCall }
    let question = answer.question.count > 60 ? String(answer.question.prefix(59)) + "…" : answer.question
    return LineChart.modelCalls(
      title: "\(answer.strategy): \u{201C}\(question)\u{201D}",
      subtitle: "prompt tokens per model call; \(calls.count) calls\(answer.model.map { ", model \($0)" } ?? "")",
      labels: calls.map(\.label),
      // A model call always records both counts (`ModelCaller.run`).
      promptTokens: calls.map { $0.promptTokens ?? 0 }, answerTokens: calls.map { $0.answerTokens ?? 0 },
      contextLength: contextLength)
  }
}
