import Foundation
import TomeReasoning

/// Renders an answer's events as text, for `tome ask` and `tome chat`: the evidence sentences,
/// the answer as it streams, then its sources and any warnings (on stderr).
///
/// Between the evidence and the first word of the answer the model reads the passages; on a
/// terminal a spinner on standard error says so (how many passages, seconds elapsed).
struct AnswerPrinter {
  var tty: Bool
  var quiet: Bool
  /// Show the waiting spinner (standard error is a terminal).
  var progress: Bool
  /// Print each step of the trace on standard error as it happens (`--trace`).
  var trace: Bool
  private var streamed = false
  /// The streamed answer's line was ended early (a trace line followed it).
  private var lineEnded = false
  private var spinner: Spinner?

  init(tty: Bool, quiet: Bool, progress: Bool = Terminal.stderrIsTTY, trace: Bool = false) {
    self.tty = tty
    self.quiet = quiet
    self.progress = progress && !quiet
    self.trace = trace
  }

  /// Removes the spinner if one is still drawing (call when the answer ends or fails).
  mutating func end() {
    spinner?.stop()
    spinner = nil
  }

  mutating func show(_ event: AnswerEvent) {
    if case .passages(let used, _) = event, progress, !streamed, !used.isEmpty {
      spinner = Spinner("the model is reading \(used.count) passage\(used.count == 1 ? "" : "s")…")
      return
    }
    if case .passages = event { return }
    if case .step(let step) = event {
      guard trace else { return }
      if streamed && !lineEnded {
        print()
        lineEnded = true
      }
      Terminal.error(Terminal.dim("· " + Terminal.sanitized(step.summary), Terminal.stderrIsTTY))
      return
    }
    if case .progress(let line) = event {
      if progress && !streamed {
        end()
        spinner = Spinner(line)
      }
      return
    }
    end()
    switch event {
    case .evidence(let evidence):
      guard !evidence.isEmpty, !quiet else { return }
      print(Terminal.bold("Evidence", tty))
      for e in evidence {
        let line = Terminal.sanitized(e.text.split(whereSeparator: \.isNewline).joined(separator: " "))
        print("  " + Terminal.cyan(Self.location(e.path, e.firstLine, e.lastLine, e.page), tty) + "  " + line)
      }
      print()
    case .text(let piece):
      if !streamed {
        if !quiet { print(Terminal.bold("Answer", tty)) }
        streamed = true
      }
      lineEnded = false
      print(Terminal.sanitized(piece, keepNewlines: true), terminator: "")
      fflush(nil)  // all C streams: print() buffers through stdout
    case .finished(let answer):
      if !lineEnded { print() }
      sources(answer)
    case .passages, .step, .progress:
      break
    }
  }

  /// `path:first-last`, with the page for PDFs.
  static func location(_ path: String, _ first: Int, _ last: Int, _ page: Int?) -> String {
    var s = "\(Terminal.displayPath(path)):\(first == last ? "\(first)" : "\(first)-\(last)")"
    if let page { s += " (p. \(page))" }
    return s
  }

  func sources(_ answer: Answer) {
    if !answer.citations.isEmpty {
      print()
      print(Terminal.bold("Sources", tty))
      for c in answer.citations {
        if let path = c.path, let first = c.firstLine, let last = c.lastLine {
          let mark = c.verified ? "" : "  " + Terminal.highlight("unverified: \(Terminal.sanitized(c.problem ?? ""))", tty)
          print("  [\(c.number)] " + Terminal.cyan(Self.location(path, first, last, c.page), tty) + mark)
        } else {
          print("  [\(c.number)] " + Terminal.highlight("unverified: \(Terminal.sanitized(c.problem ?? "unknown passage"))", tty))
        }
      }
    }
    if !answer.attributions.isEmpty {
      print()
      print(Terminal.bold("Supported by", tty))
      for a in answer.attributions {
        let sentence = Terminal.sanitized(a.sentence.split(whereSeparator: \.isNewline).joined(separator: " "))
        print("  " + Terminal.cyan(Self.location(a.path, a.firstLine, a.lastLine, a.page), tty) + "  " + Terminal.dim(String(sentence.prefix(80)), tty))
      }
    }
    fflush(nil)
    for sentence in answer.unsupportedSentences {
      Terminal.error("note: no source line supports \"\(Terminal.sanitized(String(sentence.prefix(100))))\"")
    }
    if answer.unsupported {
      Terminal.error("note: the answer is unsupported: its words are not found in the sources (\(answer.unsupportedWords.prefix(8).joined(separator: ", ")))")
    }
    for q in answer.quotes where !q.verified {
      Terminal.error("note: the quotation \"\(q.text)\" is not in the cited passage")
    }
    if !answer.dropped.isEmpty {
      Terminal.error("note: \(answer.dropped.count) retrieved passage(s) did not fit in the model's context and were left out")
    }
    if answer.model == nil && !quiet {
      Terminal.error("note: nothing related was retrieved, so the model was not asked")
    }
  }
}
