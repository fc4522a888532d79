import Foundation
import Testing
import TomeCore
import TomeTestSupport

import TomeIngest

@Suite struct HTMLTests {
  static let page = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
      <meta charset="utf-8">
      <title>Tome &amp; friends</title>
      <style>body { color: red; } .hidden { display: none }</style>
      <script>var secret = "do not index"; if (a < b) { alert(1) }</script>
    </head>
    <body>
    <!-- a comment that must vanish -->
    <h1>User Guide</h1>
    <p>Tome indexes <b>documents</b> and
       answers questions with exact citations.</p>
    <h2>Install</h2>
    <p>Fish &amp; chips cost &#163;5 or &#x20AC;6&nbsp;today.</p>
    <ul>
      <li>First item</li>
      <li>Second item<br>continued</li>
    </ul>
    <noscript>Enable JavaScript</noscript>
    <h2>Example</h2>
    <pre>
    let x = 1
      let y = x &lt; 2
    </pre>
    </body>
    </html>
    """

  @Test("text extraction drops scripts, styles, comments; decodes entities; headings set sections")
  func extraction() throws {
    let dir = try TemporaryDirectory()
    let url = try dir.write("guide.html", Self.page)
    let (chunks, stream) = try chunk(url, display: "site/guide.html")
    #expect(stream.kind == .html)
    let all = chunks.map(\.text).joined(separator: "\n")
    #expect(!all.contains("secret") && !all.contains("color") && !all.contains("comment") && !all.contains("JavaScript"))
    #expect(all.contains("Tome & friends"))
    #expect(all.contains("Tome indexes documents and answers questions with exact citations."))
    #expect(all.contains("Fish & chips cost £5 or €6\u{00A0}today."))
    #expect(all.contains("Second item\ncontinued"))
    #expect(all.contains("let x = 1\n  let y = x < 2"))
    #expect(chunks.map { $0.section ?? "-" } == ["-", "User Guide", "User Guide > Install", "User Guide > Example"])
    #expect(chunks.allSatisfy { $0.span.path == "site/guide.html" })
    #expect(stream.sha256.count == 64 && stream.byteCount == Self.page.utf8.count)
  }

  @Test("spans point at the original source lines and bytes")
  func spans() throws {
    let dir = try TemporaryDirectory()
    let url = try dir.write("guide.html", Self.page)
    let sourceLines = Self.page.split(separator: "\n", omittingEmptySubsequences: false)
    let bytes = Array(Self.page.utf8)
    for maxTokens in [8, 256] {
      let (chunks, _) = try chunk(url, maxTokens: maxTokens)
      #expect(!chunks.isEmpty)
      for chunk in chunks {
        let lines = sourceLines[(chunk.span.firstLine - 1)..<chunk.span.lastLine].joined(separator: "\n")
        let words = chunk.text.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        let first = try #require(words.first)
        let last = try #require(words.last)
        // Words without entities appear verbatim in the cited source lines.
        // Words that came from entities are not verbatim in the source; check the others.
        if first.unicodeScalars.allSatisfy({ $0.isASCII }) && !first.contains("&") && !first.contains("<") {
          #expect(lines.contains(first), "\(first) not in lines \(chunk.span.firstLine)-\(chunk.span.lastLine)")
          let source = String(decoding: bytes[chunk.span.byteRange], as: UTF8.self)
          #expect(source.drop(while: { $0 == " " }).hasPrefix(first), "byte range of chunk \(chunk.ordinal) starts at '\(source.prefix(20))'")
        }
        if last.unicodeScalars.allSatisfy({ $0.isASCII }) && !last.contains("&") && !last.contains("<") {
          #expect(lines.contains(last), "\(last) not in lines \(chunk.span.firstLine)-\(chunk.span.lastLine)")
          let source = String(decoding: bytes[chunk.span.byteRange], as: UTF8.self)
          #expect(source.hasSuffix(last), "byte range of chunk \(chunk.ordinal) ends at '\(source.suffix(20))'")
        }
      }
    }
    let (chunks, _) = try chunk(url)
    let guide = try #require(chunks.first { $0.section == "User Guide" })
    #expect(guide.span.firstLine == 11 && guide.span.lastLine == 13)
  }
}
