import Foundation
import TomeKit

/// Indexes a folder, asks one question and prints the answer with its checked citations:
/// what `tome ingest` and `tome ask` do, through TomeKit alone.
///
///     swift run -c release AskFolder FOLDER "question" --prompts DIR [--index DIR]
///
/// The model weights come from `$TOME_MODELS` (default `~/.cache/tome/models`, filled by
/// Tome's `Scripts/bootstrap.sh`); the prompt templates from `--prompts` (Tome's `Prompts/`).
/// Without `--index` the index is a temporary folder, removed at the end.
@main
struct AskFolder {
  static func main() async {
    do {
      try await run(Array(CommandLine.arguments.dropFirst()))
    } catch {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      exit(1)
    }
  }

  static func run(_ arguments: [String]) async throws {
    var positional: [String] = []
    var prompts: String?
    var indexPath: String?
    var rest = arguments[...]
    while let argument = rest.popFirst() {
      switch argument {
      case "--prompts": prompts = rest.popFirst()
      case "--index": indexPath = rest.popFirst()
      default: positional.append(argument)
      }
    }
    guard positional.count == 2, let prompts else {
      FileHandle.standardError.write(Data("usage: AskFolder FOLDER QUESTION --prompts DIR [--index DIR]\n".utf8))
      exit(2)
    }
    let folder = URL(fileURLWithPath: positional[0])
    let question = positional[1]
    let environment = ProcessInfo.processInfo.environment
    let models = ModelDirectory.default(environment: environment)

    let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("ask-folder-\(UUID().uuidString)")
    defer { if indexPath == nil { try? FileManager.default.removeItem(at: temporary) } }
    let location = IndexLocation(directory: indexPath.map { URL(fileURLWithPath: $0) } ?? temporary)
    let collection = try Collection(location: location, create: true)

    // Ingest, then embed: one call, resumable, with progress after each file and batch.
    let synced = try collection.sync(paths: [folder], encoder: try models.loadEncoder()) { progress in
      if case .ingest(let p) = progress, p.filesDone == p.filesTotal {
        FileHandle.standardError.write(Data("chunked \(p.filesDone) files; embedding…\n".utf8))
      }
    }
    print("indexed \(synced.ingest.indexed.count) files, \(synced.ingest.chunks) chunks, \(synced.embedding?.embedded ?? 0) embedded")

    let settings = AnswererSettings(prompts: URL(fileURLWithPath: prompts, isDirectory: true))
    let answerer = try Answerer.open(collection: collection, models: models, settings: settings, environment: environment)
    let answer = try await answerer.answer(question, parameters: .greedy(maxTokens: 160))

    print("Q: \(question)")
    print("A: \(answer.text.trimmingCharacters(in: .whitespacesAndNewlines))")
    for citation in answer.citations {
      let place = citation.path.map { "\($0):\(citation.firstLine ?? 0)-\(citation.lastLine ?? 0)" } ?? "(no such passage)"
      print("[\(citation.number)] \(place)\(citation.verified ? "" : "  (unverified)")")
    }
    if answer.citations.isEmpty {
      for (n, passage) in answer.passages.prefix(3).enumerated() {
        print("source \(n + 1): \(passage.span.path):\(passage.span.firstLine)-\(passage.span.lastLine)")
      }
    }
  }
}
