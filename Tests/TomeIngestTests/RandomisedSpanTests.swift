import Foundation
import Testing
import TomeCore
import TomeIngest
import TomeTestSupport

/// Random documents built from awkward pieces; for every streamed kind, budget and overlap the
/// span contract must hold.
@Suite(.timeLimit(.minutes(15))) struct RandomisedSpanTests {
  static let pieces: [[UInt8]] = [
    Array("word ".utf8), Array("Sentence ends here. ".utf8), Array("Question? ".utf8), Array("naïve café ".utf8),
    Array("日本語の文。".utf8), Array("🎉 ".utf8), Array("\n".utf8), Array("\n\n".utf8), Array("\r\n".utf8),
    Array("\r".utf8), Array("   ".utf8), Array("\t".utf8), Array("# Heading\n".utf8), Array("## Sub heading\n".utf8),
    Array("```\ncode line\n\n```\n".utf8), Array("Title\n=====\n".utf8), Array("func f() {\n}\n".utf8),
    Array("Literal::\n\n    indented\n".utf8), [0xFF], [0xC3], [0xE2, 0x82], Array(String(repeating: "x", count: 300).utf8),
    Array((0..<60).map { "w\($0)" }.joined(separator: " ").utf8), Array("\u{0C}".utf8),
  ]

  @Test("random documents keep exact spans", arguments: [DocumentKind.text, .markdown, .restructuredText, .code])
  func randomDocuments(kind: DocumentKind) throws {
    var rng = SeededGenerator(seed: 0x70_6D65 &+ UInt64(kind.rawValue.utf8.count))
    let dir = try TemporaryDirectory()
    var total = 0
    var warned = 0
    for round in 0..<60 {
      var bytes: [UInt8] = []
      for _ in 0..<Int.random(in: 0..<120, using: &rng) {
        bytes += Self.pieces[Int.random(in: 0..<Self.pieces.count, using: &rng)]
      }
      let url = try dir.write("doc\(round).txt", data: Data(bytes))
      let maxTokens = [8, 16, 40, 256][round % 4]
      for overlap in [0, maxTokens / 4] {
        var configuration = try Chunker.Configuration(maxTokens: maxTokens, overlapTokens: overlap)
        configuration.blockSize = [5, 64, 1 << 20][round % 3]
        configuration.lineCap = [64, 200, 1 << 20][round % 3]
        var stream = try Chunker(configuration: configuration).chunks(of: DiscoveredFile(path: url.path), kind: kind)
        let chunks = try collect(&stream)
        #expect(chunks.allSatisfy { $0.tokenCount <= maxTokens }, "round \(round)")
        expectSpansExact(chunks, file: bytes)
        if overlap == 0 { expectDisjointCover(chunks, file: bytes) }
        #expect(stream.byteCount == bytes.count)
        #expect(stream.warnings.count <= 1)
        total += chunks.count
        warned += stream.warnings.count
      }
    }
    // The generator really produced chunked, sometimes invalid, documents.
    #expect(total > 500 && warned > 10, "\(total) chunks, \(warned) warnings")
  }

  static let htmlPieces: [String] = [
    "<p>", "</p>", "<div class=\"a>b\">", "</div>", "<br>", "<h2>", "</h2>", "<pre>", "</pre>", "<script>x<y</script>",
    "<!-- c -->", "<!--", "&amp;", "&#x41;", "&#99999999;", "&bogus;", "&", "<", ">", "text ", "more words. ", "\n",
    "\r\n", "  ", "naïve ", "<li>item", "<style>p{}</style>", "<title>T</title>", "<td>c</td>", "<b>bold</b>",
  ]

  @Test("random HTML never fails and keeps spans inside the file, on real lines")
  func randomHTML() throws {
    var rng = SeededGenerator(seed: 42)
    let dir = try TemporaryDirectory()
    for round in 0..<80 {
      var text = ""
      for _ in 0..<Int.random(in: 0..<150, using: &rng) {
        text += Self.htmlPieces[Int.random(in: 0..<Self.htmlPieces.count, using: &rng)]
      }
      let bytes = Array(text.utf8)
      let lineCount = 1 + bytes.filter { $0 == 0x0A }.count
      let url = try dir.write("page\(round).html", text)
      let maxTokens = [8, 32, 256][round % 3]
      let (chunks, _) = try chunk(url, maxTokens: maxTokens, overlap: maxTokens / 4)
      for chunk in chunks {
        #expect(chunk.tokenCount <= maxTokens)
        #expect(chunk.span.lastLine <= lineCount && chunk.span.byteRange.upperBound <= bytes.count)
        #expect(!chunk.text.isEmpty && !chunk.text.contains("<script") && !chunk.text.contains("p{}"))
      }
    }
  }
}

@Suite struct HeuristicTokenCounterTests {
  /// The rules written plainly over scalars, as the reference for the byte-level counter.
  static func reference(_ text: String) -> Int {
    var tokens = 0
    var word = 0
    func end() {
      if word > 0 { tokens += 1 + (word - 1) / 6 }
      word = 0
    }
    for scalar in text.unicodeScalars {
      let v = scalar.value
      let cjk =
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x3040...0x30FF).contains(v)
        || (0xAC00...0xD7AF).contains(v) || (0xF900...0xFAFF).contains(v) || (0x20000...0x2FA1F).contains(v)
      if v < 0x80 {
        if scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) {
          word += 1
        } else if v <= 0x20 || v == 0x7F {
          end()
        } else {
          end()
          tokens += 1
        }
      } else if cjk {
        end()
        tokens += 1
      } else if scalar.properties.isWhitespace {
        end()
      } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil
        || scalar.properties.generalCategory == .nonspacingMark || scalar.properties.generalCategory == .spacingMark
      {
        word += 1
      } else {
        end()
        tokens += 1
      }
    }
    end()
    return tokens
  }

  @Test("byte-level counter agrees with the scalar reference on random text")
  func agreesWithReference() {
    var rng = SeededGenerator(seed: 7)
    let alphabet = Array("ab Z9 .,;!?\t\n-_()éüñßø日本語한국어🎉😀\u{00A0}\u{2003}\u{0301}٣αβγ€©\u{200D}")
    let counter = HeuristicTokenCounter()
    for _ in 0..<2000 {
      let text = String((0..<Int.random(in: 0..<60, using: &rng)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
      #expect(counter.tokenCount(text) == Self.reference(text), "\(text.debugDescription)")
      #expect(counter.tokenCount(text.dropFirst()) == Self.reference(String(text.dropFirst())))
    }
  }
}
