import Foundation
import Testing
import TomeCore
import TomeBench
import TomeKit
import TomeStore
import TomeTestSupport

/// Counts encoder calls, for the vector cache (a stand-in with deterministic vectors).
final class CountingEmbedder: TextEmbedder, @unchecked Sendable {
  // Touched only from the test's own thread (the pipeline is synchronous).
  var passagesEmbedded = 0
  let identifier = "counting-embedder"
  let dimension = 8
  func embed(passages: [String]) throws -> EmbeddingMatrix {
    passagesEmbedded += passages.count
    var m = EmbeddingMatrix(dimension: dimension)
    for text in passages { m.append(row: Self.vector(text)) }
    return m
  }
  func embed(query: String) throws -> [Float] { Self.vector(query) }
  static func vector(_ text: String) -> [Float] {
    var v = [Float](repeating: 0, count: 8)
    for (i, byte) in text.utf8.enumerated() { v[i % 8] += Float(byte) / 255 }
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return v.map { $0 / max(norm, 1e-6) }
  }
}

@Suite(.serialized) struct NIAHGeneratorTests {
  let counter: any TokenCounter
  let essays: Haystack

  init() throws {
    counter = try ModelDirectory(url: SharedData.models).loadEncoder().tokenCounter
    let files = try Haystack.sourceFiles(folders: [SharedData.data("paul_graham_essays/essays")])
    essays = Haystack.load(files: files, tokens: 40_000, counter: counter)
  }

  @Test("needles are seeded: the same cell draws the same needle, other cells other values")
  func seeded() {
    for kind in NeedleKind.allCases {
      let a = NIAHBenchmark.needle(kind: kind, length: 4096, depth: 50, seed: 7)
      #expect(a == NIAHBenchmark.needle(kind: kind, length: 4096, depth: 50, seed: 7))
      #expect(!a.expected.isEmpty && a.isFound(in: a.sentences.joined(separator: " ")))
      #expect(a.text.hasSuffix("."))
    }
    let passkeys = Set([0, 25, 50, 75, 100].flatMap { d in [4096, 8192].map { NIAHBenchmark.needle(kind: .passkey, length: $0, depth: d, seed: 7).expected } })
    #expect(passkeys.count >= 9)
    #expect(NIAHBenchmark.needle(kind: .passkey, length: 4096, depth: 0, seed: 7) != NIAHBenchmark.needle(kind: .passkey, length: 4096, depth: 0, seed: 8))
    let p = NIAHBenchmark.needle(kind: .passkey, length: 4096, depth: 0, seed: 7)
    let key = p.expected[0]
    #expect(p.text == "The pass key is \(key). Remember it. \(key) is the pass key." && p.question == "What is the pass key?")
  }

  @Test("multikey: four distinct keys and values, the asked one at the cell's depth, the rest spread; multivalue: four values of one key, all asked")
  func multi() {
    /// "One of the special magic numbers for KEY is: VALUE." as (key, value).
    func pair(_ sentence: String) -> (key: String, value: String) {
      let parts = sentence.components(separatedBy: "for ")[1].components(separatedBy: " is: ")
      return (parts[0], parts[1].trimmingCharacters(in: CharacterSet(charactersIn: ".")))
    }
    var depths: Set<Double> = []
    for seed in UInt64(0)..<50 {
      var rng = SeededGenerator(seed: seed)
      let mk = Needle.make(.multikey, using: &rng)
      let pairs = mk.sentences.map(pair)
      #expect(pairs.count == 4 && Set(pairs.map(\.key)).count == 4 && Set(pairs.map(\.value)).count == 4, "\(mk.sentences)")
      #expect(mk.expected == [pairs[0].value] && mk.question.contains(pairs[0].key))
      #expect(mk.companions.allSatisfy { (0...100).contains($0.depth) })
      depths.formUnion(mk.companions.map(\.depth))

      let mv = Needle.make(.multivalue, using: &rng)
      let values = mv.sentences.map(pair)
      #expect(Set(values.map(\.key)).count == 1 && mv.question.contains(values[0].key))
      #expect(mv.expected == values.map(\.value) && Set(mv.expected).count == 4)
      #expect(mv.isFound(in: mv.expected.joined(separator: ", ")) && !mv.isFound(in: mv.expected.dropLast().joined(separator: " ")))
    }
    // Spread, not bunched: 150 companions land on many different depths.
    #expect(depths.count > 40)
  }

  @Test("several sentences at once: each lands once, at its own boundary, in the documents it names; the rest is untouched")
  func spreadInsertion() throws {
    let haystack = essays.prefix(tokens: 16_384, counter: counter)
    let sentences = [("Needle A is here.", 50.0), ("Needle B is here.", 5.0), ("Needle C is here.", 95.0), ("Needle D is here.", 50.0), ("Needle E is here.", 100.0)]
    let (texts, placements) = haystack.insert(sentences, counter: counter)
    #expect(placements.count == sentences.count)
    for (sentence, placement) in zip(sentences, placements) {
      let text = try #require(texts[placement.document])
      #expect(text.components(separatedBy: sentence.0).count == 2, "\(sentence.0)")
      #expect(abs(Double(placement.tokensBefore) / Double(haystack.tokens) * 100 - sentence.1) < 5)
      // The same placement as a single insertion.
      let single = haystack.insert(sentence.0, depth: sentence.1, counter: counter)
      #expect(single.document == placement.document && single.tokensBefore == placement.tokensBefore)
    }
    // Two at the same depth keep their order; placements grow with depth.
    let a = try #require(texts[placements[0].document]?.range(of: "Needle A")), d = try #require(texts[placements[3].document]?.range(of: "Needle D"))
    #expect(a.lowerBound < d.lowerBound)
    #expect(placements[1].tokensBefore < placements[0].tokensBefore && placements[0].tokensBefore < placements[2].tokensBefore)
    // Taking the sentences out gives each changed document back (up to the spaces added).
    func words(_ text: String) -> [Substring] { text.split(whereSeparator: \.isWhitespace) }
    for (document, text) in texts {
      let restored = sentences.reduce(text) { $0.replacingOccurrences(of: $1.0, with: "") }
      #expect(words(restored) == words(haystack.documents[document].text), "document \(document)")
    }
    #expect(Set(texts.keys) == Set(placements.map(\.document)))
  }

  @Test("the haystack reaches the length, in essay order, and is the same every time", arguments: [2048, 8192, 30_000])
  func haystackLength(length: Int) throws {
    let a = essays.prefix(tokens: length, counter: counter)
    let b = essays.prefix(tokens: length, counter: counter)
    #expect(a.documents == b.documents)
    #expect(a.tokens >= length)
    // Over by less than one sentence of the last document.
    let last = try #require(a.documents.last)
    let sentences = Haystack.sentenceBoundaries(in: last.text)
    var longest = 0
    var previous = last.text.startIndex
    for s in sentences where s > previous {
      longest = max(longest, counter.tokenCount(last.text[previous..<s]))
      previous = s
    }
    #expect(a.tokens - length <= longest)
    // Counts are real: the recorded tokens equal the counter's over each text.
    for d in a.documents { #expect(counter.tokenCount(d.text) == d.tokens, "\(d.name)") }
    #expect(a.documents.map(\.name) == a.documents.map(\.name).sorted())
    #expect(a.documents.dropLast().map(\.text) == essays.documents.prefix(a.documents.count - 1).map(\.text))
  }

  @Test("the needle sits at a sentence boundary next to the requested depth", arguments: [0, 10, 25, 50, 75, 90, 100])
  func depth(depth: Int) throws {
    let haystack = essays.prefix(tokens: 16_384, counter: counter)
    let needle = "The pass key is 12345. Remember it. 12345 is the pass key."
    let insertion = haystack.insert(needle, depth: Double(depth), counter: counter)
    let original = haystack.documents[insertion.document].text
    #expect(insertion.text.components(separatedBy: needle).count == 2)
    let at = try #require(insertion.text.range(of: needle))
    // Tokens before the needle, counted from scratch.
    let start = haystack.documents[..<insertion.document].reduce(0) { $0 + $1.tokens }
    let local = counter.tokenCount(insertion.text[..<at.lowerBound])
    #expect(start + local == insertion.tokensBefore)
    // The text around it is the original, split at a sentence boundary (or an end).
    let prefix = String(insertion.text[..<at.lowerBound]).trimmingCharacters(in: .whitespaces)
    #expect(original.hasPrefix(prefix))
    let boundaries = Haystack.sentenceBoundaries(in: original)
    let cut = original.index(original.startIndex, offsetBy: prefix.count)
    #expect(cut == original.startIndex || boundaries.contains(cut))
    // ±1 sentence: the boundary is one of the two around the target.
    var cumulative = [0]
    var previous = original.startIndex
    for b in boundaries where b > previous {
      cumulative.append(cumulative.last! + counter.tokenCount(original[previous..<b]))
      previous = b
    }
    let target = insertion.target - start
    let below = cumulative.last { $0 <= target } ?? 0
    let above = cumulative.first { $0 >= target } ?? cumulative.last!
    #expect(local == below || local == above, "needle at \(local), target \(target) between \(below) and \(above)")
    #expect(abs(Double(insertion.tokensBefore) / Double(haystack.tokens) * 100 - Double(depth)) < 5)
    if depth == 0 { #expect(insertion.document == 0 && insertion.text.hasPrefix(needle)) }
    if depth == 100 { #expect(insertion.document == haystack.documents.count - 1 && insertion.tokensBefore == haystack.tokens) }
  }

  @Test("sentence boundaries: after . ! ? (with closing quotes) before a space or line break, at blank lines, at the end")
  func boundaries() {
    let text = "He said \"stop.\" Then left! Why? 3.14 is pi\n\nNew paragraph"
    let offsets = Haystack.sentenceBoundaries(in: text).map { text.distance(from: text.startIndex, to: $0) }
    #expect(offsets == [15, 26, 31, 42, text.count])
  }

  @Test("lengths parse as tokens: 4k = 4,096, 1m = 1,048,576; bad values are refused")
  func lengths() {
    #expect(NIAHBenchmark.parseLength("4k") == 4096 && NIAHBenchmark.parseLength("1m") == 1 << 20)
    #expect(NIAHBenchmark.parseLength("3000") == 3000 && NIAHBenchmark.parseLength(" 128K ") == 131_072)
    for bad in ["", "k", "4x", "-2k", "0", "1.5k", "99999m"] { #expect(NIAHBenchmark.parseLength(bad) == nil, "\(bad)") }
    #expect(NIAHBenchmark.label(4096) == "4k" && NIAHBenchmark.label(1 << 20) == "1m" && NIAHBenchmark.label(3000) == "3000")
  }

  @Test("the vector cache: a second index over the same text embeds nothing and gets the same vectors")
  func vectorCache() throws {
    let dir = try TemporaryDirectory()
    try dir.write("d/a.txt", "Alpha beta gamma.\n\nDelta epsilon zeta.\n")
    try dir.write("d/b.txt", "Eta theta iota kappa.\n")
    let cache = try VectorCache(url: dir.url.appendingPathComponent("cache/vectors.sqlite"))
    let embedder = CountingEmbedder()
    var vectors: [[Float]] = []
    for name in ["one", "two"] {
      let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent(name)), create: true)
      _ = try IngestPipeline(collection: collection, tokenCounter: counter).run(roots: [dir.url.appendingPathComponent("d")])
      let report = try EmbeddingPipeline(collection: collection, embedder: embedder, cache: cache).run()
      #expect(report.embedded == 2)
      #expect(report.cached == (name == "one" ? 0 : 2))
      vectors.append(try collection.store.allVectors(dimension: 8).matrix.values)
    }
    #expect(embedder.passagesEmbedded == 2)
    #expect(vectors[0] == vectors[1])
    #expect(try cache.count() == 2)
    // Another encoder does not see these vectors.
    #expect(try cache.vectors(for: [""], encoder: "other", dimension: 8).isEmpty)
  }
}
