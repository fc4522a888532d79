public import ArgumentParser
import Foundation
public import TomeBench
public import TomeKit

/// `tome bench convert squad|hotpot|qmsum|babi INPUT OUTPUT_DIR`.
struct BenchConvertCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Turn a public QA dataset into files to ingest plus questions.jsonl for tome batch.",
    discussion: """
      Writes OUTPUT_DIR/collection/ (the documents) and OUTPUT_DIR/questions.jsonl (gold \
      answers, and gold citations as collection/<file> with lines).
        squad   SQuAD v1.1 JSON: one file per article, a paragraph per line (blank lines
                between); the gold citation is the question's paragraph.
        hotpot  the HotpotQA folder (hotpotqa_train.json + hotpotqa_train_corpus.json): one
                file per passage, titled, a sentence per line; supporting facts are the gold.
        qmsum   a folder of QMSum meetings: one transcript per file, a turn per line;
                questions are the queries ("In meeting X: …"), relevant spans the gold.
        babi    the bAbI en/ folder: task --task N, one file per story, its last question
                ("In story N: …"), supporting facts the gold.

      Example:
        tome bench convert squad ../shared/data/squad-dev-half/squad-dev-v1.1-articles-00-23.json squad50 --limit 50
      """)

  @Argument(help: "Dataset format: squad, hotpot, qmsum or babi.")
  var format: BenchmarkConverter.Format

  @Argument(help: "The dataset file or folder.")
  var input: String

  @Argument(help: "Folder to write collection/ and questions.jsonl into.")
  var outputDirectory: String

  @Option(name: .long, help: "At most N questions, sampled with --seed (all by default).")
  var limit: Int?

  @Option(name: .long, help: "Seed of the question sampling.")
  var seed: UInt64 = 1

  @Option(name: .long, help: "bAbI task number (1-20).")
  var task = 1

  func validate() throws {
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1 (got \(limit))") }
    guard (1...20).contains(task) else { throw ValidationError("--task must be between 1 and 20 (got \(task))") }
  }

  func run() async throws {
    let inputURL = URL(fileURLWithPath: (input as NSString).expandingTildeInPath)
    let outputURL = URL(fileURLWithPath: (outputDirectory as NSString).expandingTildeInPath, isDirectory: true)
    let report: BenchmarkConverter.Report
    do {
      report = try BenchmarkConverter.convert(
        format, input: inputURL, output: outputURL, options: .init(limit: limit, seed: seed, task: task))
    } catch let error as DatasetError {
      throw CLIError(error.description)
    }
    let collection = Terminal.displayPath(report.collection.path)
    let questions = Terminal.displayPath(report.questionsFile.path)
    print("wrote \(report.documents) documents to \(collection)/ and \(report.questions) questions to \(questions)")
    print("next:")
    print("  tome ingest \(collection) --index \(format.rawValue)")
    print("  tome batch \(questions) --index \(format.rawValue)")
  }
}

extension BenchmarkConverter.Format: ExpressibleByArgument {}
