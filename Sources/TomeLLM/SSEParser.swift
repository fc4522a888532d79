/// An incremental parser for Server-Sent Events (the WHATWG `text/event-stream` format).
///
/// Feed it bytes as they arrive, split anywhere (even inside a CRLF or a UTF-8 sequence); it
/// returns each complete event's data. Lines end with LF, CR or CRLF; lines starting with `:`
/// are comments; several `data:` lines in one event are joined with "\n"; an event ends at a
/// blank line. `event:`, `id:` and `retry:` fields are accepted and ignored.
public struct SSEParser: Sendable {
  private var line: [UInt8] = []
  private var data: [UInt8] = []
  private var hasData = false
  private var lastWasCR = false

  public init() {}

  /// Parses `bytes` and returns the data of every event they complete, in order.
  public mutating func feed(_ bytes: some Sequence<UInt8>) -> [String] {
    var events: [String] = []
    for byte in bytes {
      if lastWasCR {
        lastWasCR = false
        if byte == 0x0A { continue }  // the LF of a CRLF
      }
      if byte == 0x0D || byte == 0x0A {
        lastWasCR = byte == 0x0D
        if let event = endLine() { events.append(event) }
      } else {
        line.append(byte)
      }
    }
    return events
  }

  /// Ends the stream: a last event not followed by a blank line is returned (servers that
  /// close right after `data: [DONE]` without the blank line are common).
  public mutating func finish() -> [String] {
    var events: [String] = []
    if !line.isEmpty, let event = endLine() { events.append(event) }
    if hasData { events.append(dispatch()) }
    return events
  }

  /// Whether bytes of an unfinished line or event are buffered.
  public var hasPendingInput: Bool { !line.isEmpty || hasData }

  private mutating func endLine() -> String? {
    defer { line.removeAll(keepingCapacity: true) }
    if line.isEmpty { return hasData ? dispatch() : nil }
    if line.first == UInt8(ascii: ":") { return nil }
    let colon = line.firstIndex(of: UInt8(ascii: ":"))
    let field = colon.map { line[..<$0] } ?? line[...]
    var value = colon.map { line[line.index(after: $0)...] } ?? []
    if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
    if field.elementsEqual("data".utf8) {
      if hasData { data.append(0x0A) }
      data.append(contentsOf: value)
      hasData = true
    }
    return nil
  }

  private mutating func dispatch() -> String {
    let event = String(decoding: data, as: UTF8.self)
    data.removeAll(keepingCapacity: true)
    hasData = false
    return event
  }
}
