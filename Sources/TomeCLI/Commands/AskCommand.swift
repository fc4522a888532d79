import ArgumentParser
import Foundation
import TomeCore
import TomeKit
import TomeReasoning

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
        tome ask --document Bed002.txt --strategy agents --scope all "what did the group decide"

      Strategies (--strategy): rag answers once from the best passages; coc asks itself a \
      clarifying question, searches again with it and pins the paragraphs the model scores as \
      relevant (multi-hop questions); agents has seeking agents read windows of the top \
      documents (or, with --scope all, the whole collection) and a reasoner answer from their \
      ranked extractions; auto picks one by the question's form and the collection's size and \
      escalates when the answer is not found. Answer sentences without a [n] marker are \
      attributed to the source lines that support them ("Supported by").
      """)

  @Argument(help: "The question.")
  var question: String

  @OptionGroup var answering: AnswerOptions
  @OptionGroup var scope: DocumentOption
  @OptionGroup var recording: RecordOption

  @Flag(name: .long, help: "Print each step (searches, model calls with tokens and seconds, decisions with their scores) on stderr as it happens.")
  var trace = false
  @OptionGroup var indexKind: IndexKindOption
  @OptionGroup var models: ModelOptions
  @OptionGroup var index: IndexOptions
  @OptionGroup var output: OutputOptions

  func validate() throws {
    guard !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("the question is empty") }
  }

  func run() async throws {
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
    for try await event in answerer.answer(question, parameters: parameters, documents: documents) {
      if output.json {
        if case .finished(let answer) = event { try Terminal.printJSON(AnswerRecord(answer)) }
        if trace, case .step = event { printer.show(event) }
      } else {
        printer.show(event)
      }
    }
  }
}
