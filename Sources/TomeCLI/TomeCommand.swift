public import ArgumentParser
import Foundation
import TomeKit

/// The `tome` command: a subcommand per job.
public struct TomeCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "tome",
    abstract: "Answer questions over large document collections, citing the exact lines used.",
    discussion: """
      Build an index from a folder of documents, then search it:

        tome ingest ~/docs           # text, Markdown, reST, HTML, code, PDF
        tome search "how to reset"   # ranked passages as path:first-last
        tome ask "how do I reset it" # evidence, a cited answer, sources
        tome status                  # indexed, skipped or failed, and why
        tome records list            # the answers kept in the index
        tome doctor                  # CPU, BLAS and SIMD kernels, model files
        tome generate --chat "Hi"    # the in-process model (SmolLM2-135M)

      Indexes live in Indexes/<name>/ (default Indexes/default); pick one with
      --index NAME or --index PATH, or set TOME_INDEX. Model weights live in
      $TOME_MODELS (default ~/.cache/tome/models; Scripts/bootstrap.sh).
      Exit codes: 0 ok, 1 runtime failure, 2 usage error.
      """,
    subcommands: [
      IngestCommand.self, SearchCommand.self, AskCommand.self, StatusCommand.self, GenerateCommand.self,
      ChatCommand.self, BatchCommand.self, ServeCommand.self, ModelCommand.self, BenchCommand.self, IndexCommand.self, KVCommand.self,
      RecordsCommand.self, DoctorCommand.self,
    ])

  public init() {}
}

/// Runs the `tome` command line; the executable's only call.
///
/// Maps outcomes to the documented exit codes: 0 ok, 1 runtime failure, 2 usage error
/// (argument-parser's own default for usage errors is 64).
public func runTome(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async {
  // Before the first BLAS call: possibly re-executes with better OpenBLAS kernels.
  let home = ProcessInfo.processInfo.environment["HOME"].map { URL(fileURLWithPath: $0) }
    ?? FileManager.default.homeDirectoryForCurrentUser
  let cache = home.appendingPathComponent(".cache/tome/blas-verdicts.json")
  KernelSelection(verdicts: cache) { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) }
    .prepareProcess(arguments: CommandLine.arguments)
  do {
    var command = try TomeCommand.parseAsRoot(arguments)
    if var asyncCommand = command as? any AsyncParsableCommand {
      try await asyncCommand.run()
    } else {
      try command.run()
    }
    leave(0)
  } catch let error as ExitCode {
    leave(error.rawValue)
  } catch {
    let code = TomeCommand.exitCode(for: error)
    let message = TomeCommand.fullMessage(for: error)
    if code == .success {  // --help, --version
      print(message)
      leave(0)
    }
    if code == .validationFailure {
      // One prefix for every error Tome prints: argument-parser's own says "Error:".
      let text = message.hasPrefix("Error: ") ? "error: " + message.dropFirst("Error: ".count) : message
      FileHandle.standardError.write(Data((Terminal.sanitized(String(text), keepNewlines: true) + "\n").utf8))
      leave(2)
    }
    // One line, whatever the error's own description looks like.
    let text = Terminal.fileErrorText(error) ?? "\(error)"
    var line = Terminal.sanitized(text.split(whereSeparator: \.isNewline).joined(separator: " "))
    if line.count > 600 { line = String(line.prefix(600)) + "…" }
    FileHandle.standardError.write(Data("error: \(line)\n".utf8))
    leave(1)
  }
}

/// Ends the process without running library destructors. OpenBLAS 0.3.21 (Debian bookworm) joins
/// its worker threads in one, and that join can wait forever: `tome chat` hung after Ctrl-D with
/// the exiting thread in `blas_thread_shutdown_`. Tome's own state is closed by then (the index
/// is released when the command returns), so only buffered standard output needs flushing.
private func leave(_ code: Int32) -> Never {
  fflush(nil)
  _exit(code)
}
