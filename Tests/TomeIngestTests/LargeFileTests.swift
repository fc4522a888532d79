import Foundation
import Testing
import TomeCore
import TomeTestSupport

import TomeIngest

@Suite struct LargeFileTests {
  /// Writes `paragraphs` paragraphs of four 16-token lines (64 tokens) separated by blank lines.
  private func writeCorpus(to url: URL, paragraphs: Int) throws -> Int {
    #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    let line = Self.line
    let paragraph = String(repeating: line, count: 4)
    var buffer = Data()
    var written = 0
    for index in 0..<paragraphs {
      if index > 0 { buffer.append(0x0A) }
      buffer.append(contentsOf: paragraph.utf8)
      if buffer.count > 4 << 20 {
        try handle.write(contentsOf: buffer)
        written += buffer.count
        buffer.removeAll(keepingCapacity: true)
      }
    }
    try handle.write(contentsOf: buffer)
    return written + buffer.count
  }

  /// Fifteen words of at most six letters and a full stop: 16 heuristic tokens.
  static let line = "alpha bravo delta echo golf hotel india juliet kilo lima mike oscar papa romeo sierra.\n"

  /// A `/proc/self/status` field in bytes (Linux), or nil where there is none.
  private func processMemory(_ field: String) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
      let number = line.dropFirst(field.count + 1).split(separator: " ").first.flatMap { Int($0) }
      return number.map { $0 * 1024 }
    }
    return nil
  }

  private func streamCheck(megabytes: Int) throws {
    let residentBefore = processMemory("VmRSS")
    #expect(HeuristicTokenCounter().tokenCount(Self.line) == 16)
    let dir = try TemporaryDirectory("tome-large")
    let url = dir.url.appendingPathComponent("big.txt")
    let paragraphBytes = 4 * Self.line.utf8.count + 1
    let paragraphs = megabytes * (1 << 20) / paragraphBytes
    let size = try writeCorpus(to: url, paragraphs: paragraphs)
    let chunker = Chunker(configuration: try Chunker.Configuration(maxTokens: 256, overlapTokens: 0))
    var stream = try chunker.chunks(of: DiscoveredFile(path: url.path))
    var count = 0
    var last: Chunk? = nil
    while let chunk = try stream.next() {
      count += 1
      last = chunk
    }
    // Four 64-token paragraphs fill each 256-token chunk exactly.
    #expect(count == (paragraphs + 3) / 4)
    #expect(last?.span.lastLine == 5 * paragraphs - 1)
    #expect(last?.tokenCount ?? 0 <= 256)
    #expect(stream.byteCount == size)
    #expect(stream.bufferedBytesHighWater < 4 << 20, "buffered \(stream.bufferedBytesHighWater) bytes")
    // The real thing, coarsely: the process's peak resident memory grew by far less than the
    // file (other tests running in parallel share the process, hence the slack).
    if megabytes >= 100, let before = residentBefore, let peak = processMemory("VmHWM") {
      #expect(peak - before < megabytes * (1 << 20) * 3 / 4, "peak RSS grew by \((peak - before) >> 20) MiB")
    }
  }

  @Test("a 200 MB file streams in bounded memory (release builds)", .tags(.slow), .enabled(if: !isDebugBuild || ProcessInfo.processInfo.environment["TOME_SLOW_TESTS"] != nil), .timeLimit(.minutes(15)))
  func twoHundredMegabytes() throws {
    try streamCheck(megabytes: 200)
  }

  @Test("an 8 MB file streams with the same bounded buffers (every build)", .timeLimit(.minutes(15)))
  func eightMegabytes() throws {
    try streamCheck(megabytes: 8)
  }
}
