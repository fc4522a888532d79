#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where a ``LineReader`` gets its bytes.
protocol ByteSource: AnyObject {
  /// Reads up to `buffer.count` bytes; 0 at the end.
  func read(into buffer: UnsafeMutableRawBufferPointer) throws(IngestError) -> Int
}

/// Produces the lines of a document one at a time.
protocol LineSource: AnyObject {
  func nextLine() throws(IngestError) -> TextLine?
  /// Bytes currently held in buffers (for the bounded-memory check).
  var bufferedBytes: Int { get }
}

/// An open file, closed when the owner goes away or at the end of input.
final class FileByteSource: ByteSource {
  let path: String
  private var descriptor: Int32

  /// Opens `url`'s path for reading; the error names `path` (the display path).
  init(path: String, filesystemPath: String) throws(IngestError) {
    self.path = path
    var fd: Int32
    repeat { fd = open(filesystemPath, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
    guard fd >= 0 else {
      let code = errno
      throw code == ENOENT ? .vanished(path) : .cannotRead(path, cause: errnoDescription(code))
    }
    descriptor = fd
    // A directory opens fine with O_RDONLY; say so now rather than at the first read.
    if let info = FileStatus(descriptor: fd), info.isDirectory {
      close(fd)
      descriptor = -1
      throw .cannotRead(path, cause: errnoDescription(EISDIR))
    }
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(IngestError) -> Int {
    guard descriptor >= 0, let base = buffer.baseAddress else { return 0 }
    while true {
      let n = Glibc.read(descriptor, base, buffer.count)
      if n >= 0 {
        if n == 0 { closeNow() }
        return n
      }
      let code = errno
      if code == EINTR { continue }
      closeNow()
      throw .cannotRead(path, cause: errnoDescription(code))
    }
  }

  private func closeNow() {
    if descriptor >= 0 {
      close(descriptor)
      descriptor = -1
    }
  }

  deinit { closeNow() }
}

/// Bytes already in memory (a PDF page's extracted text).
final class MemoryByteSource: ByteSource {
  private let bytes: [UInt8]
  private var position = 0

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(IngestError) -> Int {
    let n = min(buffer.count, bytes.count - position)
    guard n > 0 else { return 0 }
    bytes.withUnsafeBytes { source in
      buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[position..<(position + n)]))
    }
    position += n
    return n
  }
}

/// Splits a byte stream into ``TextLine``s with their line numbers and byte offsets, in bounded
/// memory.
///
/// It reads fixed-size blocks, so it never holds more than one block plus one partial line; a
/// physical line longer than `lineCap` is handed out in fragments (cut after whitespace when
/// there is some near the cap, otherwise on a UTF-8 character boundary). Lines are counted by
/// `\n`; the `\r` of `\r\n` is dropped; a lone `\r` becomes a space. It hashes and counts every
/// byte it reads, and remembers the first invalid UTF-8 offset.
final class LineReader: LineSource {
  private let source: any ByteSource
  private let blockSize: Int
  private let lineCap: Int
  private var window: [UInt8] = []
  /// File offset of `window[0]`.
  private var windowOffset = 0
  /// Index in `window` of the first byte not yet handed out.
  private var cursor = 0
  /// Index in `window` where the next search for `\n` starts.
  private var scanFrom = 0
  private var readBuffer: [UInt8]
  private var atEnd = false
  private var lineNumber = 1
  private var continuing = false

  private(set) var hasher = SHA256()
  private(set) var byteCount = 0
  private(set) var firstInvalidOffset: Int? = nil
  private(set) var highWater = 0

  init(source: any ByteSource, blockSize: Int = 1 << 20, lineCap: Int = 1 << 20) {
    precondition(blockSize > 0 && lineCap >= 16, "LineReader needs a positive block size and a line cap of 16+ bytes")
    self.source = source
    self.blockSize = blockSize
    self.lineCap = lineCap
    readBuffer = [UInt8](repeating: 0, count: blockSize)
  }

  var bufferedBytes: Int { window.count + readBuffer.count }

  func nextLine() throws(IngestError) -> TextLine? {
    while true {
      if let newline = findNewline() {
        var end = newline
        if end > cursor, window[end - 1] == 0x0D { end -= 1 }
        let line = makeLine(cursor..<end)
        cursor = newline + 1
        scanFrom = cursor
        lineNumber += 1
        continuing = false
        return line
      }
      scanFrom = window.count
      if atEnd {
        guard cursor < window.count else { return nil }
        let line = makeLine(cursor..<window.count)
        cursor = window.count
        scanFrom = cursor
        return line
      }
      if window.count - cursor > lineCap {
        let cut = fragmentCut()
        let line = makeLine(cursor..<cut)
        cursor = cut
        scanFrom = cut
        continuing = true
        return line
      }
      try refill()
    }
  }

  /// The first `count` bytes of the input (fewer if it is shorter), without consuming them.
  func peekPrefix(_ count: Int) throws(IngestError) -> [UInt8] {
    while window.count - cursor < count && !atEnd { try refill() }
    return Array(window[cursor..<min(window.count, cursor + count)])
  }

  private func findNewline() -> Int? {
    guard scanFrom < window.count else { return nil }
    return window.withUnsafeBytes { raw -> Int? in
      guard let base = raw.baseAddress else { return nil }
      guard let hit = memchr(base + scanFrom, 0x0A, raw.count - scanFrom) else { return nil }
      return base.distance(to: UnsafeRawPointer(hit))
    }
  }

  /// Where to end a fragment of an over-long line.
  private func fragmentCut() -> Int {
    let limit = cursor + lineCap
    var i = limit
    let floor = max(cursor + lineCap / 2, limit - 65536)
    while i > floor {
      let byte = window[i - 1]
      if byte == 0x20 || byte == 0x09 { return i }
      i -= 1
    }
    var cut = limit
    // Never start the next fragment on a UTF-8 continuation byte (a character is at most four
    // bytes, so look back three at most: further back it is invalid anyway), nor split `\r\n`.
    while cut > limit - 3, window[cut] & 0xC0 == 0x80 { cut -= 1 }
    if window[cut] & 0xC0 == 0x80 { cut = limit }
    if window[cut - 1] == 0x0D { cut -= 1 }
    return max(cut, cursor + 1)
  }

  private func makeLine(_ range: Range<Int>) -> TextLine {
    var range = range
    // A UTF-8 byte order mark is not text: it would hide a first-line heading. Spans start after it.
    if windowOffset + range.lowerBound == 0, range.count >= 3, window[range.lowerBound] == 0xEF,
      window[range.lowerBound + 1] == 0xBB, window[range.lowerBound + 2] == 0xBF
    {
      range = (range.lowerBound + 3)..<range.upperBound
    }
    let decoded = window.withUnsafeBytes { raw in
      LineDecoder.decode(
        UnsafeRawBufferPointer(rebasing: raw[range]), fileOffset: windowOffset + range.lowerBound,
        lineNumber: lineNumber, joinsPrevious: continuing)
    }
    if firstInvalidOffset == nil, let offset = decoded.firstInvalidOffset { firstInvalidOffset = offset }
    return decoded.line
  }

  private func refill() throws(IngestError) {
    if cursor > 0 {
      window.removeSubrange(0..<cursor)
      windowOffset += cursor
      scanFrom -= cursor
      cursor = 0
    }
    let outcome: Result<Int, IngestError> = readBuffer.withUnsafeMutableBytes { raw in
      do throws(IngestError) { return .success(try source.read(into: raw)) } catch { return .failure(error) }
    }
    let n = try outcome.get()
    if n == 0 {
      atEnd = true
      return
    }
    readBuffer.withUnsafeBytes { raw in
      let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<n])
      hasher.update(chunk)
      window.append(contentsOf: chunk)
    }
    byteCount += n
    highWater = max(highWater, bufferedBytes)
  }
}
