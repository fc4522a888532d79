import Foundation
import Testing
import TomeCore
import TomeTestSupport

import TomeIngest

@Suite struct ChunkerTests {
  static let essays = ["addiction.txt", "aord.txt", "apple.txt"]

  @Test("configuration is validated")
  func configuration() throws {
    #expect(throws: IngestError.self) { try Chunker.Configuration(maxTokens: 4) }
    #expect(throws: IngestError.self) { try Chunker.Configuration(maxTokens: 100, overlapTokens: 60) }
    #expect(throws: IngestError.self) { try Chunker.Configuration(maxTokens: 100, overlapTokens: -1) }
    let error = try #require(throws: IngestError.self) { try Chunker.Configuration(maxTokens: 4) }
    #expect(error.kind == .invalidConfiguration)
    let config = try Chunker.Configuration()
    #expect(config.maxTokens == 256 && config.overlapTokens == 32)
  }

  @Test("essays: spans are exact, budgets hold, overlap 0 covers every non-blank line once", arguments: essays)
  func essayWithoutOverlap(name: String) throws {
    let url = SharedData.data("paul_graham_essays/essays/\(name)")
    let bytes = [UInt8](try Data(contentsOf: url))
    let (chunks, stream) = try chunk(url, display: "essays/\(name)", maxTokens: 128, overlap: 0)
    #expect(chunks.count > 3)
    #expect(chunks.allSatisfy { $0.tokenCount <= 128 && $0.span.path == "essays/\(name)" })
    #expect(chunks.map(\.ordinal) == Array(0..<chunks.count))
    expectSpansExact(chunks, file: bytes)
    expectDisjointCover(chunks, file: bytes)
    // These essays run paragraphs together, so long ones are cut at sentence ends inside a line:
    // every non-blank line is in a chunk, and a line is shared only by neighbours cut inside it.
    var seen: [Int: Int] = [:]
    for chunk in chunks { for line in chunk.span.firstLine...chunk.span.lastLine { seen[line, default: 0] += 1 } }
    for line in nonBlankLines(bytes) { #expect((seen[line] ?? 0) >= 1, "line \(line)") }
    for (previous, next) in zip(chunks, chunks.dropFirst()) {
      #expect(next.span.firstLine >= previous.span.lastLine)
      #expect(next.span.byteRange.lowerBound >= previous.span.byteRange.upperBound)
    }
    #expect(stream.byteCount == bytes.count)
    #expect(stream.warnings.isEmpty)
  }

  @Test("paragraphs within budget, overlap 0: every non-blank line is in exactly one chunk")
  func everyLineOnce() throws {
    let dir = try TemporaryDirectory()
    var text = ""
    for p in 0..<60 {
      for l in 0..<(1 + p % 5) { text += "Paragraph \(p) line \(l) says something short.\n" }
      text += p % 7 == 0 ? "\n  \n" : "\n"
    }
    let url = try dir.write("paragraphs.txt", text)
    let bytes = Array(text.utf8)
    let (chunks, _) = try chunk(url, maxTokens: 64, overlap: 0)
    expectSpansExact(chunks, file: bytes)
    expectDisjointCover(chunks, file: bytes)
    var seen: [Int: Int] = [:]
    for chunk in chunks { for line in chunk.span.firstLine...chunk.span.lastLine { seen[line, default: 0] += 1 } }
    for line in nonBlankLines(bytes) { #expect(seen[line] == 1, "line \(line)") }
    // Paragraphs are never split when they fit: every chunk starts a paragraph.
    #expect(chunks.allSatisfy { $0.text.hasPrefix("Paragraph ") && $0.text.contains("line 0") })
  }

  @Test("essays with overlap: consecutive chunks share at most overlapTokens of whole lines", arguments: essays)
  func essayWithOverlap(name: String) throws {
    let url = SharedData.data("paul_graham_essays/essays/\(name)")
    let bytes = [UInt8](try Data(contentsOf: url))
    let (chunks, _) = try chunk(url, maxTokens: 128, overlap: 24)
    expectSpansExact(chunks, file: bytes)
    let counter = HeuristicTokenCounter()
    var overlapped = 0
    for (previous, next) in zip(chunks, chunks.dropFirst()) {
      #expect(next.tokenCount <= 128)
      #expect(next.span.byteRange.lowerBound >= previous.span.byteRange.lowerBound)
      if next.span.byteRange.lowerBound < previous.span.byteRange.upperBound {
        overlapped += 1
        let shared = normalise(bytes[next.span.byteRange.lowerBound..<previous.span.byteRange.upperBound])
        #expect(previous.text.hasSuffix(shared) && next.text.hasPrefix(shared))
        #expect(counter.tokenCount(shared) <= 24)
      }
    }
    #expect(overlapped > 0)
  }

  @Test("Markdown: heading paths, fenced code kept whole, setext headings")
  func markdown() throws {
    let dir = try TemporaryDirectory()
    let text = """
      # Tome

      Tome indexes documents and answers questions.

      ## Install

      Read this first.

      ### Linux

      Install the packages:

      ```sh
      apt-get install poppler-utils

      swift build -c release
      ```

      ### macOS

      Use Homebrew.

      Usage
      -----

      Run `tome ask`.

      """
    let url = try dir.write("README.md", text)
    let (chunks, _) = try chunk(url, display: "README.md")
    expectSpansExact(chunks, file: Array(text.utf8))
    let sections = chunks.map { $0.section ?? "-" }
    #expect(sections == ["Tome", "Tome > Install", "Tome > Install > Linux", "Tome > Install > macOS", "Tome > Usage"])
    let linux = try #require(chunks.first { $0.section == "Tome > Install > Linux" })
    #expect(linux.text.hasPrefix("### Linux"))
    #expect(linux.text.contains("apt-get install poppler-utils\n\nswift build -c release\n```"))
    #expect(chunks[0].span.citation == "README.md:1-3")
  }

  @Test("a paragraph that fits an empty chunk is never split to sit under its heading")
  func headingThenFullParagraph() throws {
    let dir = try TemporaryDirectory()
    let paragraph = (0..<7).map { "Line \($0) of a paragraph that is rather long indeed." }.joined(separator: "\n")
    let text = "# A Heading With Words\n\n" + paragraph + "\n"
    let url = try dir.write("h.md", text)
    let tokens = HeuristicTokenCounter().tokenCount(paragraph)
    let (chunks, _) = try chunk(url, maxTokens: tokens + 2)
    #expect(chunks.map(\.text) == ["# A Heading With Words", paragraph])
    #expect(chunks.map(\.section) == ["A Heading With Words", "A Heading With Words"])
  }

  @Test("a UTF-8 byte order mark is skipped, so a first-line heading still counts")
  func byteOrderMark() throws {
    let dir = try TemporaryDirectory()
    let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("# Title\n\nBody.\n".utf8)
    let url = try dir.write("bom.md", data: Data(bytes))
    let (chunks, _) = try chunk(url)
    #expect(chunks.map(\.text) == ["# Title\n\nBody."])
    #expect(chunks.first?.section == "Title")
    #expect(chunks.first?.span.byteRange == 3..<bytes.count - 1)
    expectSpansExact(chunks, file: bytes)
  }

  @Test("Markdown: a fence that does not fit is cut at lines, never inside one; small fences stay whole")
  func bigFence() throws {
    let dir = try TemporaryDirectory()
    var text = "# Code\n\nIntro.\n\n```swift\n"
    for i in 0..<60 { text += "let value\(i) = compute(\(i), scale: 2)\n" }
    text += "```\n\nAfter.\n"
    let url = try dir.write("big.md", text)
    let (chunks, _) = try chunk(url, maxTokens: 64)
    expectSpansExact(chunks, file: Array(text.utf8))
    expectDisjointCover(chunks, file: Array(text.utf8))
    #expect(chunks.count > 5)
    for chunk in chunks where chunk.text.contains("let value") {
      for line in chunk.text.split(separator: "\n") where line.hasPrefix("let") { #expect(line.hasSuffix("2)")) }
    }
  }

  @Test("reStructuredText: titles set sections, literal blocks stay together")
  func restructuredText() throws {
    let dir = try TemporaryDirectory()
    let text = """
      =====
      Guide
      =====

      Intro paragraph.

      Setup
      -----

      Run this::

          make install

          make test

      Then continue.

      Details
      ~~~~~~~

      More text.

      """
    let url = try dir.write("guide.rst", text)
    let (chunks, _) = try chunk(url, maxTokens: 256)
    expectSpansExact(chunks, file: Array(text.utf8))
    #expect(chunks.map { $0.section ?? "-" } == ["Guide", "Guide > Setup", "Guide > Setup > Details"])
    #expect(chunks[1].text.contains("make install\n\n    make test"))
  }

  @Test("code: blank-line and top-level blocks, lines never cut when they fit")
  func code() throws {
    let dir = try TemporaryDirectory()
    var text = "import Foundation\n\n"
    for i in 0..<30 {
      text += "/// Doc for f\(i).\nfunc f\(i)(x: Int) -> Int {\n  let y = x * \(i)\n  return y + 1\n}\n"
    }
    let url = try dir.write("code.swift", text)
    let (chunks, _) = try chunk(url, maxTokens: 64)
    expectSpansExact(chunks, file: Array(text.utf8))
    expectDisjointCover(chunks, file: Array(text.utf8))
    // Each function (with its doc comment) starts a block, so chunks start at a doc comment.
    for chunk in chunks.dropFirst() { #expect(chunk.text.hasPrefix("/// Doc for f")) }
  }

  @Test("CRLF and mixed line endings: spans and text are exact")
  func lineEndings() throws {
    let dir = try TemporaryDirectory()
    let crlf = "First line.\r\nSecond line.\r\n\r\nNew paragraph here.\r\nMore.\r\n"
    let mixed = "Unix line.\nWindows line.\r\nOld mac\rinside.\n\r\n\nLast paragraph.\r\nEnd"
    for (name, text) in [("crlf.txt", crlf), ("mixed.txt", mixed)] {
      let url = try dir.write(name, text)
      let bytes = Array(text.utf8)
      for maxTokens in [8, 256] {
        let (chunks, _) = try chunk(url, maxTokens: maxTokens)
        #expect(!chunks.isEmpty)
        #expect(chunks.allSatisfy { !$0.text.contains("\r") })
        expectSpansExact(chunks, file: bytes)
        expectDisjointCover(chunks, file: bytes)
      }
    }
    let (chunks, _) = try chunk(try dir.write("m2.txt", mixed), maxTokens: 256)
    // Both paragraphs fit one chunk; the blank lines between them are kept as they were.
    #expect(chunks.map(\.text) == ["Unix line.\nWindows line.\nOld mac inside.\n\n\nLast paragraph.\nEnd"])
    #expect(chunks.first?.span.citation == "\(dir.url.path)/m2.txt:1-7")
  }

  @Test("multi-byte text: spans exact, with tiny read blocks that split characters")
  func multiByte() throws {
    let dir = try TemporaryDirectory()
    var text = ""
    for i in 0..<40 {
      text += "Ünïcödé façade naïve 日本語のテキスト \(i). Ελληνικά κείμενα και emoji 🎉🙂.\n"
      if i % 5 == 4 { text += "\n" }
    }
    // A long run of CJK without spaces: cut into fragments and pieces on character boundaries.
    text += String(repeating: "日本語の文章とテキスト", count: 60) + "\n"
    let url = try dir.write("multi.txt", text)
    let bytes = Array(text.utf8)
    var configuration = try Chunker.Configuration(maxTokens: 40, overlapTokens: 0)
    configuration.blockSize = 7
    configuration.lineCap = 64
    let chunker = Chunker(configuration: configuration)
    var stream = try chunker.chunks(of: DiscoveredFile(path: url.path))
    let chunks = try collect(&stream)
    #expect(stream.warnings.isEmpty)
    #expect(chunks.allSatisfy { !$0.text.contains("\u{FFFD}") })
    expectSpansExact(chunks, file: bytes)
    expectDisjointCover(chunks, file: bytes)
  }

  @Test("oversized units: sentences, then words, then characters (minified code, base64)")
  func oversized() throws {
    let dir = try TemporaryDirectory()
    var paragraph = ""
    for i in 0..<30 { paragraph += "This is sentence number \(i) in one long paragraph. " }
    let longSentence = (0..<200).map { "word\($0)" }.joined(separator: " ") + "."
    let base64 = String(repeating: "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456789", count: 120)
    let minified = (0..<400).map { "var a\($0)=function(b){return b+\($0)};" }.joined()
    let text = paragraph + "\n\n" + longSentence + "\n\n" + base64 + "\n\n" + minified + "\n"
    let url = try dir.write("big.js.txt", text)
    let bytes = Array(text.utf8)
    let (chunks, _) = try chunk(url, maxTokens: 32)
    #expect(chunks.allSatisfy { $0.tokenCount <= 32 })
    expectSpansExact(chunks, file: bytes)
    expectDisjointCover(chunks, file: bytes)
    // Sentence cuts end at a full stop.
    let sentenceChunks = chunks.filter { $0.span.firstLine == 1 }
    #expect(sentenceChunks.count > 3)
    #expect(sentenceChunks.allSatisfy { $0.text.hasSuffix(".") })
    #expect(chunks.filter { $0.text.hasPrefix("QUJD") || $0.span.firstLine == 5 }.count > 3)
  }

  @Test("over-long physical lines are fragmented in bounded memory and still exact")
  func longLine() throws {
    let dir = try TemporaryDirectory()
    let text = "head\n" + String(repeating: "abcdefghij klmnop ", count: 20_000) + "\ntail\n"
    let url = try dir.write("long.txt", text)
    var configuration = try Chunker.Configuration(maxTokens: 64, overlapTokens: 0)
    configuration.blockSize = 4096
    configuration.lineCap = 8192
    configuration.blockSize = 4096
    var stream = try Chunker(configuration: configuration).chunks(of: DiscoveredFile(path: url.path))
    let chunks = try collect(&stream)
    expectSpansExact(chunks, file: Array(text.utf8))
    expectDisjointCover(chunks, file: Array(text.utf8))
    #expect(stream.bufferedBytesHighWater < 64 * 1024)
  }

  @Test("heuristic token counter")
  func tokenCounter() {
    let counter = HeuristicTokenCounter()
    #expect(counter.identifier == "heuristic-v1")
    #expect(counter.tokenCount("") == 0)
    #expect(counter.tokenCount("Hello, world!") == 4)
    #expect(counter.tokenCount("internationalization") == 4)  // 20 letters: 1 + 19/6
    #expect(counter.tokenCount("日本語") == 3)
    #expect(counter.tokenCount("naïve café") == 2)
    #expect(counter.tokenCount("a b") == counter.tokenCount("a") + counter.tokenCount("b"))
  }

  @Test("kind detection by extension and magic; binary detection")
  func kinds() {
    #expect(ContentSniffer.kind(forPath: "a/README.md") == .markdown)
    #expect(ContentSniffer.kind(forPath: "x.rst") == .restructuredText)
    #expect(ContentSniffer.kind(forPath: "x.HTM") == .html)
    #expect(ContentSniffer.kind(forPath: "x.pdf") == .pdf)
    #expect(ContentSniffer.kind(forPath: "src/main.rs") == .code)
    #expect(ContentSniffer.kind(forPath: "Makefile") == .code)
    #expect(ContentSniffer.kind(forPath: "notes") == .text)
    #expect(ContentSniffer.kind(forPath: ".bashrc") == .text)
    #expect(ContentSniffer.kind(forPath: "x.weird") == .text)
    #expect(ContentSniffer.kind(forPath: "scan.dat", prefix: Array("%PDF-1.7\n".utf8)) == .pdf)
    #expect(ContentSniffer.binaryReason(prefix: Array("plain\ttext\r\n\u{0C}".utf8)) == nil)
    #expect(ContentSniffer.binaryReason(prefix: [0x41, 0x00]) == "NUL byte at offset 1")
    #expect(ContentSniffer.binaryReason(prefix: [0x41, 0x01, 0x02, 0x42]) != nil)
  }
}
