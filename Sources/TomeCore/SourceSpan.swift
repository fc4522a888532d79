/// Where a piece of text came from: a file, an inclusive line range, an optional PDF page and
/// the bytes of the original file (or of the extracted text for PDFs) that hold it.
///
/// Lines are 1-based and counted by `\n`, the way `grep -n` and `sed -n 'a,bp'` count them,
/// so a citation can be checked with ordinary tools. For a PDF, lines count within the page's
/// extracted text and `page` is 1-based. A plain-text file with form feeds (a PDF saved as
/// text) is paged too: `page` counts form feeds from 1, and lines and bytes still count in the
/// whole file.
public struct SourceSpan: Sendable, Hashable, Codable {
  /// The path as the user gave it to `tome ingest` (absolute when made from an absolute root).
  public var path: String
  /// First line of the span, 1-based.
  public var firstLine: Int
  /// Last line of the span, 1-based and inclusive.
  public var lastLine: Int
  /// The 1-based page for paginated sources (PDF, text with form feeds); `nil` for everything else.
  public var page: Int?
  /// Byte offsets `[start, end)` into the original file (extracted text for PDFs).
  public var byteRange: Range<Int>

  public init(path: String, firstLine: Int, lastLine: Int, page: Int? = nil, byteRange: Range<Int>) {
    precondition(firstLine >= 1 && lastLine >= firstLine, "invalid line range \(firstLine)-\(lastLine)")
    self.path = path
    self.firstLine = firstLine
    self.lastLine = lastLine
    self.page = page
    self.byteRange = byteRange
  }

  /// `path:first-last`, with `p. N` for paged sources: the form Tome prints and cites.
  public var citation: String {
    let lines = firstLine == lastLine ? "\(firstLine)" : "\(firstLine)-\(lastLine)"
    if let page { return "\(path):\(lines) (p. \(page))" }
    return "\(path):\(lines)"
  }
}
