import ArgumentParser
import Foundation
import TomeCore
import TomeKit
import TomeReasoning

/// `--no-record`, for the commands whose answers are kept in the record graph (`tome records`).
struct RecordOption: ParsableArguments {
  @Flag(
    name: .customLong("no-record"),
    help: "Keep no record of the answers (by default each answer is kept in the index: `tome records list`).")
  var noRecord = false

  /// The origin to record answers with: `origin`, or nil with `--no-record`.
  func origin(_ origin: RecordOrigin) -> RecordOrigin? { noRecord ? nil : origin }

  /// Prints a record that could not be written as a warning; the answer itself is unaffected.
  static let warn: @Sendable (String) -> Void = { Terminal.error("warning: \($0)") }
}

/// `--document PATH` (repeatable): answer from these documents only.
struct DocumentOption: ParsableArguments {
  @Option(
    name: .customLong("document"),
    help: ArgumentHelp(
      "Answer from this document only: its path as `tome status` lists it, or a unique end of it (`notes/Bed002.txt`, `Bed002.txt`). Repeat for several; every strategy reads only these.",
      valueName: "path"))
  var documents: [String] = []

  /// The documents named, or nil (the whole collection) when none is.
  /// - Throws: `DocumentPathError` naming the first path that names no single document.
  func scope(in collection: TomeKit.Collection) throws -> Set<DocumentID>? {
    guard !documents.isEmpty else { return nil }
    let cwd = Terminal.workingDirectory
    return try collection.documentIDs(forPaths: documents, workingDirectory: cwd)
  }
}
