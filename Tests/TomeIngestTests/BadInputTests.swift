import Foundation
import Testing
import TomeCore
import TomeTestSupport

import TomeIngest

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct BadInputTests {
  @Test("empty and whitespace-only files give zero chunks and no error")
  func emptyFiles() throws {
    let dir = try TemporaryDirectory()
    for (name, text) in [("empty.txt", ""), ("blank.md", "  \n\n\t\n \r\n"), ("blank.py", "\n\n")] {
      let (chunks, stream) = try chunk(try dir.write(name, text))
      #expect(chunks.isEmpty, "\(name)")
      #expect(stream.byteCount == text.utf8.count)
      #expect(stream.warnings.isEmpty)
    }
    let (_, stream) = try chunk(try dir.write("empty2.txt", ""))
    #expect(stream.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  }

  @Test("a binary file is skipped with its path and the NUL offset")
  func binary() throws {
    let dir = try TemporaryDirectory()
    var bytes = [UInt8](repeating: 0x41, count: 112)
    bytes += [0x00, 0x01, 0x02] + [UInt8](repeating: 0x42, count: 100)
    let url = try dir.write("notes/x.bin", data: Data(bytes))
    let file = try DiscoveredFile(path: url.path)
    let error = try #require(throws: IngestError.self) { try Chunker().chunks(of: file) }
    #expect(error.kind == .binary && error.isSkip)
    #expect(error.description == "\(url.path): binary file (NUL byte at offset 112), skipped")
    // Forcing a text kind still refuses it.
    let forced = try #require(throws: IngestError.self) { try Chunker().chunks(of: file, kind: .text) }
    #expect(forced.kind == .binary)
  }

  @Test("invalid UTF-8: U+FFFD in the text, one warning naming the file and first bad offset")
  func invalidUTF8() throws {
    let dir = try TemporaryDirectory()
    var bytes = Array("Good line.\nBad here: ".utf8)
    let firstBad = bytes.count
    bytes += [0xFF, 0xFE]
    bytes += Array(" and more.\nAnother bad \u{00E9}".utf8) + [0xC3] + Array(" truncated.\n".utf8)
    let url = try dir.write("bad.txt", data: Data(bytes))
    for maxTokens in [8, 256] {
      let (chunks, stream) = try chunk(url, display: "docs/bad.txt", maxTokens: maxTokens)
      #expect(stream.warnings.count == 1)
      #expect(
        stream.warnings.first?.description
          == "docs/bad.txt: invalid UTF-8 (first bad byte at offset \(firstBad)); decoded with U+FFFD replacements")
      #expect(chunks.contains { $0.text.contains("\u{FFFD}") })
      expectSpansExact(chunks, file: bytes)
      expectDisjointCover(chunks, file: bytes)
    }
  }

  @Test("garbage after a clean start (past the binary sniff) is decoded lossily in bounded pieces")
  func garbageAfterSniff() throws {
    let dir = try TemporaryDirectory()
    var bytes = Array(String(repeating: "Clean text line.\n", count: 600).utf8)
    bytes += [UInt8](repeating: 0x80, count: 40_000) + [0x0D] + [UInt8](repeating: 0xBF, count: 9_000) + Array("\nend\n".utf8)
    let url = try dir.write("mixed.log", data: Data(bytes))
    var configuration = try Chunker.Configuration(maxTokens: 64, overlapTokens: 0)
    configuration.lineCap = 4096
    configuration.blockSize = 1000
    var stream = try Chunker(configuration: configuration).chunks(of: DiscoveredFile(path: url.path))
    let chunks = try collect(&stream)
    #expect(stream.warnings.count == 1)
    expectSpansExact(chunks, file: bytes)
    #expect(chunks.last?.text.hasSuffix("end") == true)
  }

  @Test("a file deleted between walk and chunking gives 'file vanished' naming it")
  func vanished() throws {
    let dir = try TemporaryDirectory()
    try dir.write("docs/gone.txt", "soon gone")
    let walk = FileWalker(roots: [dir.url.appendingPathComponent("docs").path]).walk()
    let file = try #require(walk.files.first)
    try FileManager.default.removeItem(at: file.url)
    let error = try #require(throws: IngestError.self) { try Chunker().chunks(of: file, kind: .text) }
    #expect(error.kind == .vanished)
    #expect(error.description == "\(file.path): file vanished during ingest")
    let detect = try #require(throws: IngestError.self) { try Chunker().chunks(of: file) }
    #expect(detect.kind == .vanished)
  }

  @Test("unreadable: a directory where a file is expected (works as root); chmod 000 when not root")
  func unreadable() throws {
    let dir = try TemporaryDirectory()
    try dir.write("a/b.txt", "content")
    let target = dir.url.appendingPathComponent("a/b.txt")
    let file = try DiscoveredFile(path: target.path)
    // Replace the walked file by a directory: root can open it, but it is not readable as text.
    try FileManager.default.removeItem(at: target)
    try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
    let error = try #require(throws: IngestError.self) { try Chunker().chunks(of: file, kind: .text) }
    #expect(error.kind == .unreadable)
    #expect(error.description == "\(file.path): cannot read: Is a directory")

    // Permission bits only stop non-root users; tests usually run as root here, so this part
    // runs only when it can mean something.
    if getuid() != 0 {
      let locked = try dir.write("a/locked.txt", "secret")
      try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: locked.path)
      let lockedFile = try DiscoveredFile(path: locked.path)
      let denied = try #require(throws: IngestError.self) { try Chunker().chunks(of: lockedFile, kind: .text) }
      #expect(denied.description == "\(locked.path): cannot read: Permission denied")
    }
  }

  @Test("HTML over the size limit is refused with a clear error")
  func htmlTooLarge() throws {
    let dir = try TemporaryDirectory()
    let url = try dir.write("big.html", "<p>" + String(repeating: "x", count: 5000) + "</p>")
    let chunker = Chunker(configuration: try Chunker.Configuration(htmlByteLimit: 1000))
    let error = try #require(throws: IngestError.self) { try chunker.chunks(of: DiscoveredFile(path: url.path)) }
    #expect(error.kind == .tooLarge)
    #expect(error.description.hasPrefix("\(url.path): file too large"))
  }
}
