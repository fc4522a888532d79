import ArgumentParser
import Foundation
import TomeKit

/// `--index NAME|PATH`, shared by every command that reads or writes an index.
struct IndexOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Index name (under Indexes/) or folder path. Default: $TOME_INDEX, else Indexes/default.",
      valueName: "name|path"))
  var index: String?

  /// The index folder this invocation uses.
  var location: IndexLocation {
    let cwd = Terminal.workingDirectory
    if let index { return IndexLocation(argument: index, workingDirectory: cwd) }
    return .default(environment: ProcessInfo.processInfo.environment, workingDirectory: cwd)
  }
}

/// `--json` and `--quiet`, for scripts.
struct OutputOptions: ParsableArguments {
  @Flag(name: .long, help: "Print machine-readable JSON on stdout instead of text.")
  var json = false

  @Flag(name: [.short, .long], help: "Print nothing but errors (and the result, for search).")
  var quiet = false
}
