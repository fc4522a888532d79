import Foundation
import Testing
import TomeCore
import TomeTestSupport

import TomeIngest

@Suite(.timeLimit(.minutes(15))) struct PDFTests {
  @Test("a generated three-page PDF: page numbers, words of page 2 on page 2")
  func pages() throws {
    let dir = try TemporaryDirectory()
    let pdf = makePDF(pages: [
      ["Alpha page opening line.", "Alpha second line here."],
      ["Bravo page words appear here.", "Bravo closing sentence."],
      ["Charlie final page."],
    ])
    let url = try dir.write("report.pdf", data: pdf)
    let (chunks, stream) = try chunk(url, display: "report.pdf")
    #expect(stream.kind == .pdf)
    #expect(Set(chunks.compactMap(\.span.page)) == [1, 2, 3])
    let pageTwo = chunks.filter { $0.span.page == 2 }.map(\.text).joined(separator: " ")
    for word in ["Bravo", "words", "closing"] { #expect(pageTwo.contains(word)) }
    #expect(!pageTwo.contains("Alpha") && !pageTwo.contains("Charlie"))
    #expect(chunks.allSatisfy { $0.span.citation.hasPrefix("report.pdf:") && $0.span.citation.contains("(p. ") })
    #expect(stream.byteCount == pdf.count)
    let expected = try runCommand("/usr/bin/sha256sum", [url.path]).split(separator: " ").first.map(String.init)
    #expect(stream.sha256 == expected)
  }

  @Test("a PDF without text gives zero chunks and a warning saying so")
  func noText() throws {
    let dir = try TemporaryDirectory()
    let url = try dir.write("scan.pdf", data: makePDF(pages: [[], []]))
    let (chunks, stream) = try chunk(url, display: "scan.pdf")
    #expect(chunks.isEmpty)
    #expect(stream.warnings.map(\.description) == ["scan.pdf: no extractable text on 2 page(s) (scanned images need OCR)"])
  }

  @Test("a PDF by magic bytes whatever its name")
  func magic() throws {
    let dir = try TemporaryDirectory()
    let url = try dir.write("scan.dat", data: makePDF(pages: [["Magic detection works."]]))
    let (chunks, stream) = try chunk(url)
    #expect(stream.kind == .pdf)
    #expect(chunks.first?.text.contains("Magic detection works.") == true)
  }

  @Test("a corrupt PDF gives 'pdftotext failed' with the file and its first message")
  func corrupt() throws {
    let dir = try TemporaryDirectory()
    let url = try dir.write("report.pdf", data: Data("%PDF-1.4\n".utf8) + Data((0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 37) }))
    let file = try DiscoveredFile(path: url.path)
    let error = try #require(throws: IngestError.self) { try Chunker().chunks(of: file) }
    #expect(error.kind == .toolFailed)
    #expect(error.description.hasPrefix("\(url.path): pdftotext failed: "))
    #expect(!error.description.contains("\n"))
    #expect(error.description.contains("Error"))
  }

  @Test("a pdftotext that hangs is stopped at the timeout and the file fails")
  func timeout() throws {
    let dir = try TemporaryDirectory()
    let url = try dir.write("slow.pdf", data: makePDF(pages: [["x"]]))
    // A stand-in executable that never finishes in time (also exercises the path override).
    // `exec` so no grandchild keeps the process's descriptors open after the kill.
    let fake = try dir.write("bin/pdftotext", "#!/bin/sh\nexec sleep 30\n")
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
    var configuration = try Chunker.Configuration(pdftotext: .path(fake.path))
    configuration.pdftotextTimeout = .milliseconds(300)
    let start = ContinuousClock.now
    let error = try #require(throws: IngestError.self) {
      try Chunker(configuration: configuration).chunks(of: DiscoveredFile(path: url.path))
    }
    #expect(ContinuousClock.now - start < .seconds(10))
    #expect(error.kind == .toolFailed)
    #expect(error.description.hasPrefix("\(url.path): pdftotext failed: timed out after"))
  }

  @Test("pdftotext missing gives the install hint")
  func missing() throws {
    let dir = try TemporaryDirectory()
    let url = try dir.write("report.pdf", data: makePDF(pages: [["x"]]))
    let configuration = try Chunker.Configuration(pdftotext: .path("/nonexistent/bin/pdftotext"))
    let error = try #require(throws: IngestError.self) {
      try Chunker(configuration: configuration).chunks(of: DiscoveredFile(path: url.path))
    }
    #expect(error.kind == .toolMissing)
    #expect(error.description.contains("install poppler-utils (apt-get install poppler-utils) to index PDFs"))
    #expect(error.description.hasSuffix("(\(url.path))"))
  }
}
