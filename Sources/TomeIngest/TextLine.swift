/// A stretch of normalised text and the original bytes it came from.
///
/// Offsets in `text…` are UTF-8 offsets into the normalised text; offsets in `file…` are byte
/// offsets into the original file (or a PDF page's extracted text). A run is *linear* when both
/// have the same length (the text is a verbatim copy of the bytes, possibly with lone `\r`
/// turned into a space); otherwise (a U+FFFD replacement, an HTML entity) its inside cannot be
/// addressed and only its ends map.
struct Run: Sendable, Hashable {
  var textStart: Int
  var textEnd: Int
  var fileStart: Int
  var fileEnd: Int
  /// 1-based line of the original file where the run starts (a run never crosses a newline).
  var line: Int

  var isLinear: Bool { textEnd - textStart == fileEnd - fileStart }
}

/// One line of normalised text with the runs that locate it in the original.
///
/// For plain text a line is a physical line (content without `\n` and without the `\r` of
/// `\r\n`); a physical line longer than the reader's cap arrives as several fragments, all but
/// the first with ``joinsPrevious`` set, which are joined without a newline. For HTML a line is
/// one line of extracted text and its runs may come from several source lines.
struct TextLine: Sendable {
  var text: String
  /// Runs with offsets relative to `text`, in order; at least one for plain text lines.
  var runs: [Run]
  /// True when this line continues the previous one without a newline between them.
  var joinsPrevious: Bool = false

  /// The separator placed before this line when lines are joined.
  var separator: String { joinsPrevious ? "" : "\n" }

  var firstLine: Int { runs.first?.line ?? 1 }
  var lastLine: Int { runs.last?.line ?? firstLine }
  var byteStart: Int { runs.first?.fileStart ?? 0 }
  var byteEnd: Int { runs.last?.fileEnd ?? byteStart }

  /// True when the line holds nothing but whitespace.
  var isBlank: Bool {
    text.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0C || $0 == 0x0B }
      || text.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
  }
}

/// Decodes the content bytes of one line: lone `\r` becomes a space, invalid UTF-8 becomes U+FFFD.
enum LineDecoder {
  struct Decoded {
    var line: TextLine
    /// File offset of the first invalid byte, when there was one.
    var firstInvalidOffset: Int?
  }

  static func decode(
    _ bytes: UnsafeRawBufferPointer, fileOffset: Int, lineNumber: Int, joinsPrevious: Bool
  ) -> Decoded {
    let hasCR = bytes.contains(0x0D)
    if !hasCR, let text = String(validating: bytes, as: UTF8.self) {
      let run = Run(
        textStart: 0, textEnd: bytes.count, fileStart: fileOffset, fileEnd: fileOffset + bytes.count, line: lineNumber)
      return Decoded(line: TextLine(text: text, runs: [run], joinsPrevious: joinsPrevious), firstInvalidOffset: nil)
    }
    var copy = Array(bytes)
    if hasCR {
      for i in copy.indices where copy[i] == 0x0D { copy[i] = 0x20 }
      if let text = String(validating: copy, as: UTF8.self) {
        let run = Run(
          textStart: 0, textEnd: copy.count, fileStart: fileOffset, fileEnd: fileOffset + copy.count, line: lineNumber)
        return Decoded(line: TextLine(text: text, runs: [run], joinsPrevious: joinsPrevious), firstInvalidOffset: nil)
      }
    }
    return decodeLossily(copy, fileOffset: fileOffset, lineNumber: lineNumber, joinsPrevious: joinsPrevious)
  }

  /// The slow path: walks scalars with the standard UTF-8 parser (maximal-subpart replacement,
  /// like `String(decoding:as:)`) and records a non-linear run for every replacement.
  private static func decodeLossily(
    _ bytes: [UInt8], fileOffset: Int, lineNumber: Int, joinsPrevious: Bool
  ) -> Decoded {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var scalars = String.UnicodeScalarView()
    var runs: [Run] = []
    var textPos = 0
    var filePos = fileOffset
    var runTextStart = 0
    var runFileStart = fileOffset
    var firstInvalid: Int? = nil
    func closeRun() {
      if textPos > runTextStart {
        runs.append(
          Run(textStart: runTextStart, textEnd: textPos, fileStart: runFileStart, fileEnd: filePos, line: lineNumber))
      }
    }
    loop: while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded):
        scalars.append(Unicode.UTF8.decode(encoded))
        textPos += encoded.count
        filePos += encoded.count
      case .error(let length):
        closeRun()
        if firstInvalid == nil { firstInvalid = filePos }
        scalars.append("\u{FFFD}")
        runs.append(Run(textStart: textPos, textEnd: textPos + 3, fileStart: filePos, fileEnd: filePos + length, line: lineNumber))
        textPos += 3
        filePos += length
        runTextStart = textPos
        runFileStart = filePos
      case .emptyInput:
        break loop
      }
    }
    closeRun()
    if runs.isEmpty {
      runs.append(Run(textStart: 0, textEnd: 0, fileStart: fileOffset, fileEnd: fileOffset, line: lineNumber))
    }
    let line = TextLine(text: String(scalars), runs: runs, joinsPrevious: joinsPrevious)
    return Decoded(line: line, firstInvalidOffset: firstInvalid)
  }
}
