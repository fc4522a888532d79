import Foundation
import TomeCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs poppler's `pdftotext -layout FILE -` and splits its output into pages at form feeds.
struct PDFTextExtractor {
  struct Output {
    /// Each page's extracted text, UTF-8, without the form feed.
    var pages: [[UInt8]]
    var warnings: [IngestWarning]
  }

  let location: Chunker.ExecutableLocation
  /// A PDF that keeps pdftotext busy longer than this fails instead of stalling the ingest.
  let timeout: Duration

  func extract(_ file: DiscoveredFile) throws(IngestError) -> Output {
    let executable = try resolve(for: file.path)
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tome-pdftotext-\(UUID().uuidString)")
    let stdoutURL = scratch.appendingPathExtension("out")
    let stderrURL = scratch.appendingPathExtension("err")
    defer {
      try? FileManager.default.removeItem(at: stdoutURL)
      try? FileManager.default.removeItem(at: stderrURL)
    }
    // Both streams go to files: nothing has to drain a pipe while we wait, so waiting can poll
    // for the timeout instead of blocking on a read that a hung pdftotext would never end.
    guard FileManager.default.createFile(atPath: stdoutURL.path, contents: nil),
      FileManager.default.createFile(atPath: stderrURL.path, contents: nil),
      let stdoutHandle = try? FileHandle(forWritingTo: stdoutURL),
      let stderrHandle = try? FileHandle(forWritingTo: stderrURL)
    else {
      throw .pdftotextFailed(file.path, firstLine: "cannot create temporary files for its output")
    }
    defer {
      try? stdoutHandle.close()
      try? stderrHandle.close()
    }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = ["-layout", "-enc", "UTF-8", file.url.path, "-"]
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = stdoutHandle
    process.standardError = stderrHandle
    do {
      try process.run()
    } catch {
      throw .pdftotextFailed(file.path, firstLine: "cannot start \(executable): \(error)")
    }
    let deadline = ContinuousClock.now + timeout
    while process.isRunning {
      if ContinuousClock.now > deadline {
        // SIGKILL: a wedged process may ignore or have blocked SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw .pdftotextFailed(file.path, firstLine: "timed out after \(timeout)")
      }
      Thread.sleep(forTimeInterval: 0.005)
    }
    process.waitUntilExit()
    let output: Data
    do {
      output = try Data(contentsOf: stdoutURL)
    } catch {
      throw .pdftotextFailed(file.path, firstLine: "cannot read its output: \(error)")
    }
    let messages = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
    let messageLines = messages.split(whereSeparator: \.isNewline).map { String($0) }
    // pdftotext often warns before it fails ("Syntax Warning: May not be a PDF file"); the
    // first error line says why it failed.
    let firstMessage = messageLines.first { $0.contains("Error") } ?? messageLines.first

    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
      let status =
        process.terminationReason == .exit
        ? "exit status \(process.terminationStatus)" : "killed by signal \(process.terminationStatus)"
      throw .pdftotextFailed(file.path, firstLine: firstMessage ?? status)
    }
    var warnings: [IngestWarning] = []
    if let firstMessage {
      warnings.append(IngestWarning(path: file.path, message: "pdftotext: \(firstMessage)"))
    }
    var pages = [UInt8](output).split(separator: 0x0C, omittingEmptySubsequences: false).map(Array.init)
    if pages.last?.isEmpty == true { pages.removeLast() }
    return Output(pages: pages, warnings: warnings)
  }

  /// The pdftotext to run, or the install hint when there is none.
  private func resolve(for path: String) throws(IngestError) -> String {
    switch location {
    case .path(let candidate):
      guard FileManager.default.isExecutableFile(atPath: candidate) else {
        throw .pdftotextMissing(path, looked: candidate)
      }
      return candidate
    case .searchPath:
      let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
      for directory in searchPath.split(separator: ":") where !directory.isEmpty {
        let candidate = "\(directory)/pdftotext"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      }
      throw .pdftotextMissing(path, looked: "")
    }
  }
}

/// Blocks of a PDF, page after page; lines and bytes count within each page's text.
final class PagedBlockSource: BlockSource {
  private let pages: [[UInt8]]
  private var index = 0
  private var current: Segmenter? = nil

  init(pages: [[UInt8]]) { self.pages = pages }

  var bufferedBytes: Int { current?.bufferedBytes ?? 0 }

  func nextBlock() throws(IngestError) -> Block? {
    while true {
      if let segmenter = current, let block = try segmenter.nextBlock() { return block }
      guard index < pages.count else { return nil }
      let reader = LineReader(source: MemoryByteSource(pages[index]), blockSize: 1 << 16)
      current = Segmenter(source: reader, kind: .text, page: index + 1)
      index += 1
    }
  }
}
