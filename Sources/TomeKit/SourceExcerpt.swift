public import Foundation
public import TomeCore
public import TomeReasoning

/// A passage shown where it came from: the cited lines of the file as it is on disk now, with
/// a few lines of context around them, or the indexed text when the file cannot show them.
/// What `tome chat`'s `/open N` prints.
///
/// The file is read again (not the index) so the user sees the real surroundings of a
/// citation; the lines are used only while they still hold the passage, so an edited or
/// deleted file never shows lines that were not the source.
public struct SourceExcerpt: Sendable, Hashable {
  /// One line of the file.
  public struct Line: Sendable, Hashable {
    /// 1-based line number.
    public var number: Int
    public var text: String
    /// Inside the passage's span (the others are context).
    public var cited: Bool
  }

  /// What can be shown.
  public enum Content: Sendable, Hashable {
    /// The file's lines around the span.
    case lines([Line])
    /// The passage's indexed text: for PDF pages and HTML (extracted, so line numbers refer to
    /// the extracted text), or when the file changed or is gone (`stale`).
    case indexedText(String, stale: Bool)
  }

  public var span: SourceSpan
  public var content: Content

  /// Reads `passage`'s file and keeps `context` lines on each side of its span.
  public init(passage: Passage, context: Int = 2) {
    precondition(context >= 0, "context must not be negative")
    let span = passage.span
    self.span = span
    // PDF pages and HTML are shown as indexed (extracted) text; other files from disk.
    let extracted = span.page != nil || ["html", "htm", "xhtml"].contains(URL(fileURLWithPath: span.path).pathExtension.lowercased())
    let lines = extracted ? nil : Self.lines(of: span.path)
    guard let lines, span.lastLine <= lines.count,
      Self.same(lines[(span.firstLine - 1)..<span.lastLine].joined(separator: "\n"), passage.text)
    else {
      content = .indexedText(passage.text, stale: !extracted)
      return
    }
    let from = max(1, span.firstLine - context)
    let to = min(lines.count, span.lastLine + context)
    content = .lines(
      (from...to).map { Line(number: $0, text: lines[$0 - 1], cited: $0 >= span.firstLine && $0 <= span.lastLine) })
  }

  /// The file's lines (`\r\n` or `\n`), nil when it cannot be read as UTF-8. Swift reads
  /// `\r\n` as one `Character`, so both are separators here.
  static func lines(of path: String) -> [String]? {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return nil }
    var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
    if lines.last == "" { lines.removeLast() }
    return lines
  }

  /// The file's lines still hold the passage (whitespace aside: HTML passages are extracted text).
  static func same(_ a: String, _ b: String) -> Bool {
    let squash = { (s: String) in s.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
    let x = squash(a), y = squash(b)
    return x == y || x.contains(y) || y.contains(x)
  }
}
