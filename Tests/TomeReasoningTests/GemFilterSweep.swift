import Foundation
import Testing
import TomeBench
import TomeCore
import TomeKit
@testable import TomeReasoning
import TomeTestSupport

/// GemFilter's layer sweep (env-gated): `TOME_GEM_SWEEP=1`. For each haystack length and
/// needle depth, a pass-key needle is hidden in Paul Graham essays inside `rag`'s real prompt
/// (one passage), the prompt is read once through every layer, and at each layer the
/// selection of k passage tokens is checked for the needle: a case counts when every token of
/// the needle sentence is kept, and the share of its tokens kept is averaged. Prints the tables
/// per k, then the cost of stopping early at a few layers against a full prefill.
///
/// `TOME_GEM_SWEEP_LENGTHS` (comma-separated haystack tokens, default 1000,2000,4000,7500) and
/// `TOME_GEM_SWEEP_DEPTHS` (percent, default 0,25,50,75,100) change the grid.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOME_GEM_SWEEP"] == "1"))
struct GemFilterSweep {
  static func list(_ name: String, default value: [Int]) -> [Int] {
    guard let text = ProcessInfo.processInfo.environment[name] else { return value }
    return text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
  }

  /// Essay text of at least `tokens` tokens, cut at a sentence end near `tokens`.
  static func haystack(tokens: Int, tokenize: (String) -> [Int]) throws -> String {
    let folder = SharedData.data("paul_graham_essays/essays")
    let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
      .filter { $0.pathExtension == "txt" }.sorted { $0.path < $1.path }
    var text = ""
    var count = 0
    for file in files where count < tokens {
      let essay = try String(contentsOf: file, encoding: .utf8)
      text += essay + "\n\n"
      count += tokenize(essay).count
    }
    // Cut: the sentence end where the count (estimated by characters) reaches `tokens`.
    let target = text.index(text.startIndex, offsetBy: min(text.count, text.count * tokens / max(count, 1)))
    let end = Haystack.sentenceBoundaries(in: text).first { $0 >= target } ?? text.endIndex
    return String(text[..<end])
  }

  /// `text` with `needle` at the sentence boundary nearest `depth` percent of its characters.
  static func insert(_ needle: String, into text: String, depth: Int) -> String {
    let target = text.index(text.startIndex, offsetBy: text.count * depth / 100)
    let boundaries = [text.startIndex] + Haystack.sentenceBoundaries(in: text)
    let at = boundaries.min { text.distance(from: $0, to: target).magnitude < text.distance(from: $1, to: target).magnitude } ?? text.startIndex
    return String(text[..<at]) + (at == text.startIndex ? "" : " ") + needle + " " + String(text[at...])
  }

  /// Positions of `needle` in `prompt`: where its tokens (tokenized with a leading space, the
  /// first token dropped as it may merge with what precedes it) occur, and the token before.
  static func positions(of needle: String, in prompt: [Int], tokenize: (String) -> [Int]) -> Range<Int>? {
    let body = Array(tokenize(" " + needle).dropFirst())
    guard !body.isEmpty, prompt.count >= body.count else { return nil }
    for start in 0...(prompt.count - body.count) where Array(prompt[start..<(start + body.count)]) == body {
      return max(0, start - 1)..<(start + body.count)
    }
    return nil
  }

  static func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  }

  @Test("layer sweep: needle kept in the top-k selection, by layer, length and depth")
  func sweep() async throws {
    let model = try ModelDirectory(url: SharedData.models).loadChatModel()
    let early = try #require(model as? any EarlyExitProbing)
    let paging = try #require(model as? any KVPaging)
    let templates = try RAGStrategy.Templates(PromptLibrary(directory: SharedData.repositoryRoot.appendingPathComponent("Prompts")))
    let rag = RAGStrategy()
    let lengths = Self.list("TOME_GEM_SWEEP_LENGTHS", default: [1_000, 2_000, 4_000, 7_500])
    let depths = Self.list("TOME_GEM_SWEEP_DEPTHS", default: [0, 25, 50, 75, 100])
    let budgets = [256, 1_024]
    let layers = Array(0..<early.layerCount)
    // hits[k][layer][length]: cases whose needle is wholly kept.
    var hits = [Int: [Int: [Int: Int]]]()
    var promptSizes = [Int: Int]()
    var caseHits = [Int: [Int]]()
    // recall[k][layer][length]: summed fraction of the needle's tokens kept.
    var recall = [Int: [Int: [Int: Double]]]()
    var rng = SeededGenerator(seed: 14)
    let started = ContinuousClock.now
    for length in lengths {
      let hay = try Self.haystack(tokens: length, tokenize: paging.tokenize)
      for depth in depths {
        let needle = Needle.make(.passkey, using: &rng)
        let passage = Passage(
          id: ChunkID(1), text: Self.insert(needle.text, into: hay, depth: depth),
          span: SourceSpan(path: "haystack.txt", firstLine: 1, lastLine: 1, page: nil, byteRange: 0..<0), score: 1)
        let block = try rag.block(passage, number: 1, templates: templates)
        let prompt = try paging.promptTokens(rag.messages(question: needle.question, blocks: [block], templates: templates))
        let bare = try paging.promptTokens(rag.messages(question: needle.question, blocks: [], templates: templates))
        let protected = GemFilter.protected(prompt, bare: bare)
        let where_ = try #require(Self.positions(of: needle.text, in: prompt, tokenize: paging.tokenize), "needle not found in the prompt")
        promptSizes[length] = prompt.count
        let readings = try await early.readEarly(tokens: prompt, layers: layers, queryCount: 1)
        for reading in readings {
          let pooled = GemFilter.pooled(GemFilter.scores(reading).last ?? [])
          for k in budgets {
            let kept = Set(GemFilter.select(scores: pooled, count: k, protected: protected))
            recall[k, default: [:]][reading.layer, default: [:]][length, default: 0] +=
              Double(where_.filter(kept.contains).count) / Double(where_.count)
            if where_.allSatisfy(kept.contains) {
              hits[k, default: [:]][reading.layer, default: [:]][length, default: 0] += 1
              caseHits[k, default: []].append(reading.layer)
            }
          }
        }
        // Each case's kept layers, so a cut-short run still leaves its data.
        for k in caseHits.keys.sorted() { print("  k = \(k) keeps it at layers \(caseHits[k] ?? [])") }
        caseHits = [:]
        print("gem sweep: \(length) tokens (prompt \(prompt.count)), depth \(depth)%, needle at \(where_), \(Int((ContinuousClock.now - started).components.seconds)) s")
      }
    }
    for k in budgets {
      print("\nk = \(k): cases (of \(depths.count) depths) whose needle sentence is wholly kept")
      print("layer " + lengths.map { String(format: "%6d", promptSizes[$0] ?? $0) }.joined(separator: " ") + "   all")
      for layer in layers {
        let row = lengths.map { hits[k]?[layer]?[$0] ?? 0 }
        print(String(format: "%5d ", layer) + row.map { String(format: "%6d", $0) }.joined(separator: " ") + String(format: "   %3d", row.reduce(0, +)))
      }
      print("\nk = \(k): mean share of the needle's tokens kept (%)")
      for layer in layers {
        let row = lengths.map { 100 * (recall[k]?[layer]?[$0] ?? 0) / Double(depths.count) }
        print(String(format: "%5d ", layer) + row.map { String(format: "%6.0f", $0) }.joined(separator: " ") + String(format: "   %3.0f", row.reduce(0, +) / Double(lengths.count)))
      }
    }

    // Cost of stopping early: one prompt of the longest length, read through a few layers.
    let hay = try Self.haystack(tokens: lengths.max() ?? 4_000, tokenize: paging.tokenize)
    let prompt = try paging.promptTokens(
      rag.messages(question: "What is the pass key?", blocks: [hay], templates: templates))
    let fullStart = ContinuousClock.now
    try paging.makeSequence().append(tokens: prompt)
    let full = Self.seconds(ContinuousClock.now - fullStart)
    print(String(format: "\nearly exit on %d tokens against a full prefill (%.2f s):", prompt.count, full))
    for r in [early.layerCount - 1, 19, 14, 9, 4] {
      let start = ContinuousClock.now
      _ = try await early.readEarly(tokens: prompt, layers: [r], queryCount: 1)
      let seconds = Self.seconds(ContinuousClock.now - start)
      print(String(format: "r = %2d: %6.2f s  (%.2f of a full prefill; (r+1)/L = %.2f)", r, seconds, seconds / full, Double(r + 1) / Double(early.layerCount)))
    }
    print("sweep took \(Int((ContinuousClock.now - started).components.seconds)) s")
  }
}
