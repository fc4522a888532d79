import Testing
@testable import TomeLLM

@Suite struct SSEParserTests {
  /// A transcript as llama.cpp's server sends it.
  static let transcript = """
    data: {"choices":[{"delta":{"content":"Hel"}}]}\r
    \r
    : keep-alive comment\r
    \r
    data: {"choices":[{"delta":{"content":"lo é"}}]}\r
    \r
    data: [DONE]\r
    \r

    """

  @Test("events survive a split at every byte boundary")
  func splitAnywhere() {
    let bytes = Array(Self.transcript.utf8)
    var whole = SSEParser()
    let expected = whole.feed(bytes)
    #expect(expected == [#"{"choices":[{"delta":{"content":"Hel"}}]}"#, #"{"choices":[{"delta":{"content":"lo é"}}]}"#, "[DONE]"])
    for cut in 0...bytes.count {
      var parser = SSEParser()
      let events = parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...]) + parser.finish()
      #expect(events == expected, "cut at \(cut)")
    }
    // One byte at a time.
    var parser = SSEParser()
    #expect(bytes.flatMap { parser.feed([$0]) } == expected)
  }

  @Test("LF, CR and CRLF line ends", arguments: ["\n", "\r", "\r\n"])
  func lineEnds(end: String) {
    var parser = SSEParser()
    let text = "data: a\(end)\(end)data: b\(end)\(end)"
    #expect(parser.feed(Array(text.utf8)) == ["a", "b"])
  }

  @Test("comments, other fields and multi-line data")
  func fields() {
    var parser = SSEParser()
    let text = ": hello\nevent: message\nid: 7\nretry: 100\ndata: first\ndata:second\ndata\n\n: tail\n"
    #expect(parser.feed(Array(text.utf8)) == ["first\nsecond\n"])
    #expect(parser.finish().isEmpty)
  }

  @Test("a last event without its blank line is delivered by finish")
  func finishFlushes() {
    var parser = SSEParser()
    #expect(parser.feed(Array("data: x\n\ndata: [DONE]".utf8)) == ["x"])
    #expect(parser.hasPendingInput)
    #expect(parser.finish() == ["[DONE]"])
  }

  @Test("blank lines without data dispatch nothing")
  func emptyEvents() {
    var parser = SSEParser()
    #expect(parser.feed(Array("\n\n\r\n: c\n\n".utf8)).isEmpty)
  }
}
