import Foundation
import Testing
import TomeCore
import TomeTestSupport

import TomeIngest

extension Tag {
  /// Long-running tests (the 200 MB stream).
  @Tag static var slow: Self
}

/// True when the tests were compiled without optimisation (`swift test` without `-c release`).
var isDebugBuild: Bool {
  #if DEBUG
    return true
  #else
    return false
  #endif
}

/// Drains a stream into an array.
func collect(_ stream: inout ChunkStream) throws -> [Chunk] {
  var chunks: [Chunk] = []
  while let chunk = try stream.next() { chunks.append(chunk) }
  return chunks
}

/// Chunks a file with the given budget (overlap defaults to 0 to make coverage checks exact).
func chunk(
  _ url: URL, display: String? = nil, kind: DocumentKind? = nil, maxTokens: Int = 256, overlap: Int = 0
) throws -> (chunks: [Chunk], stream: ChunkStream) {
  let chunker = Chunker(configuration: try Chunker.Configuration(maxTokens: maxTokens, overlapTokens: overlap))
  var file = try DiscoveredFile(path: url.path)
  if let display { file.path = display }
  var stream = try kind.map { try chunker.chunks(of: file, kind: $0) } ?? chunker.chunks(of: file)
  let chunks = try collect(&stream)
  return (chunks, stream)
}

/// The reference normalisation: decode UTF-8 lossily after dropping the `\r` of `\r\n` and
/// turning a lone `\r` into a space.
func normalise(_ bytes: some Collection<UInt8>) -> String {
  let array = Array(bytes)
  var out: [UInt8] = []
  out.reserveCapacity(array.count)
  for (i, byte) in array.enumerated() {
    if byte == 0x0D {
      if i + 1 < array.count && array[i + 1] == 0x0A { continue }
      out.append(0x20)
    } else {
      out.append(byte)
    }
  }
  return String(decoding: out, as: UTF8.self)
}

/// Checks the span contract of streamed kinds: each chunk's text is exactly the normalised
/// original bytes of its byte range, and its lines are the lines those bytes sit on.
func expectSpansExact(_ chunks: [Chunk], file bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
  let newlines = bytes.indices.filter { bytes[$0] == 0x0A }
  /// Number of newlines before `offset`.
  func newlinesBefore(_ offset: Int) -> Int {
    var low = 0
    var high = newlines.count
    while low < high {
      let mid = (low + high) / 2
      if newlines[mid] < offset { low = mid + 1 } else { high = mid }
    }
    return low
  }
  for chunk in chunks {
    let range = chunk.span.byteRange
    guard range.lowerBound >= 0, range.upperBound <= bytes.count, !range.isEmpty else {
      Issue.record("chunk \(chunk.ordinal) has byte range \(range) outside a \(bytes.count)-byte file", sourceLocation: sourceLocation)
      continue
    }
    let slice = bytes[range]
    #expect(normalise(slice) == chunk.text, "chunk \(chunk.ordinal) text differs from its bytes", sourceLocation: sourceLocation)
    let firstLine = 1 + newlinesBefore(range.lowerBound)
    let lastLine = 1 + newlinesBefore(range.upperBound)
    #expect(chunk.span.firstLine == firstLine, "chunk \(chunk.ordinal) firstLine", sourceLocation: sourceLocation)
    #expect(chunk.span.lastLine == lastLine, "chunk \(chunk.ordinal) lastLine", sourceLocation: sourceLocation)
  }
}

/// With overlap 0: chunks are in order, disjoint, and every non-whitespace byte is in one.
func expectDisjointCover(_ chunks: [Chunk], file bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
  var position = 0
  for chunk in chunks {
    let range = chunk.span.byteRange
    #expect(range.lowerBound >= position, "chunk \(chunk.ordinal) overlaps the previous one", sourceLocation: sourceLocation)
    let between = bytes[min(position, range.lowerBound)..<range.lowerBound]
    #expect(
      between.allSatisfy { [0x20, 0x09, 0x0A, 0x0D, 0x0C, 0x0B].contains($0) },
      "non-blank bytes before chunk \(chunk.ordinal) are in no chunk", sourceLocation: sourceLocation)
    position = max(position, range.upperBound)
  }
  #expect(
    bytes[min(position, bytes.count)...].allSatisfy { [0x20, 0x09, 0x0A, 0x0D, 0x0C, 0x0B].contains($0) },
    "non-blank bytes after the last chunk", sourceLocation: sourceLocation)
}

/// Non-blank line numbers of a file, counted by `\n`.
func nonBlankLines(_ bytes: [UInt8]) -> [Int] {
  var result: [Int] = []
  var line = 1
  var blank = true
  for byte in bytes {
    if byte == 0x0A {
      if !blank { result.append(line) }
      line += 1
      blank = true
    } else if ![0x20, 0x09, 0x0D, 0x0C, 0x0B].contains(byte) {
      blank = false
    }
  }
  if !blank { result.append(line) }
  return result
}

/// Builds a small valid PDF with one Helvetica text line per entry of each page, with a correct
/// cross-reference table, so pdftotext can read it.
func makePDF(pages: [[String]]) -> Data {
  assemblePDF(
    contents: pages.map { lines in
      "BT /F1 12 Tf 72 720 Td 16 TL " + lines.map { "(\(pdfEscaped($0))) Tj T* " }.joined() + "ET"
    })
}

/// A PDF whose pages hold rows of cells, cell i of a row at `columnX[i]` points from the left
/// and a row every 12 points from the top, so that `pdftotext -layout` writes them as aligned
/// columns, as it writes a filing's statements.
func makeTablePDF(pages: [[[String]]], columnX: [Int] = [72, 330, 410, 490]) -> Data {
  assemblePDF(
    contents: pages.map { rows in
      rows.enumerated().flatMap { row, cells in
        zip(columnX, cells).map { x, cell in "BT /F1 10 Tf \(x) \(760 - 12 * row) Td (\(pdfEscaped(cell))) Tj ET" }
      }.joined(separator: "\n")
    })
}

private func pdfEscaped(_ text: String) -> String {
  text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "(", with: "\\(")
    .replacingOccurrences(of: ")", with: "\\)")
}

/// A PDF of one page per content stream (Helvetica as /F1), with a correct cross-reference table.
private func assemblePDF(contents: [String]) -> Data {
  var objects: [String] = []
  let pageCount = contents.count
  // 1 catalog, 2 pages, 3 font, then (page, contents) pairs.
  let kids = (0..<pageCount).map { "\(4 + 2 * $0) 0 R" }.joined(separator: " ")
  objects.append("<< /Type /Catalog /Pages 2 0 R >>")
  objects.append("<< /Type /Pages /Kids [\(kids)] /Count \(pageCount) >>")
  objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
  for (index, body) in contents.enumerated() {
    objects.append(
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents \(5 + 2 * index) 0 R >>"
    )
    objects.append("<< /Length \(body.utf8.count) >>\nstream\n\(body)\nendstream")
  }
  var out = "%PDF-1.4\n"
  var offsets: [Int] = []
  for (index, object) in objects.enumerated() {
    offsets.append(out.utf8.count)
    out += "\(index + 1) 0 obj\n\(object)\nendobj\n"
  }
  let xref = out.utf8.count
  out += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
  for offset in offsets {
    let digits = String(offset)
    out += String(repeating: "0", count: 10 - digits.count) + digits + " 00000 n \n"
  }
  out += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
  return Data(out.utf8)
}

/// Runs a command and returns its standard output (for `sha256sum`).
func runCommand(_ executable: String, _ arguments: [String]) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readAll()
  process.waitUntilExit()
  return String(decoding: data, as: UTF8.self)
}
