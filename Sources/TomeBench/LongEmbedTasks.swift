public import Foundation
public import TomeCore
import TomeEmbed
public import TomeKit

/// The LongEmbed synthetic tasks (Zhu et al. 2024; METHODS-INDEX-KV.md §1), scaled to this
/// machine: for a length, `count` candidate documents and one query per document, whose gold
/// document is the one with the same index.
///
/// - passkey: filler sentences with "<name>'s pass key is <n>. Remember it. <n> is the pass
///   key for <name>." at a random word; the query asks for that person's passkey.
/// - needle: a window of Paul Graham essay words with one `FactNeedle` fact at a random word;
///   the query is the fact's question.
public struct LongEmbedTask: Sendable, Hashable {
  public enum Kind: String, Sendable, CaseIterable, Codable {
    case passkey, needle
  }

  public var kind: Kind
  /// Target length in words × 4/3 (the LongEmbed recipe: 0.75 words per token).
  public var length: Int
  public var documents: [String]
  /// `queries[i]` is answered by `documents[i]`.
  public var queries: [String]

  static let firstNames = [
    "Malayah", "Ivan", "Sofia", "Kwame", "Lena", "Mateo", "Aiko", "Noor", "Tobias", "Priya", "Olu", "Greta",
    "Rafael", "Mei", "Dmitri", "Amara", "Jonas", "Leila", "Hugo", "Zara", "Emeka", "Ines", "Callum", "Yara",
  ]
  static let lastNames = [
    "Graves", "Petrov", "Lindqvist", "Mensah", "Okafor", "Tanaka", "Haddad", "Fischer", "Ramirez", "Kowalski",
    "Nakamura", "Byrne", "Moreau", "Singh", "Castillo", "Novak", "Adeyemi", "Larsen", "Dubois", "Quinn",
  ]

  /// Inserts `needle` at a random word boundary of `words` and joins the text.
  static func insert(_ needle: String, into words: [Substring], using rng: inout SeededGenerator) -> String {
    let at = Int.random(in: 0...words.count, using: &rng)
    return words[..<at].joined(separator: " ") + "\n" + needle + "\n" + words[at...].joined(separator: " ")
  }

  /// Passkey documents and queries for one length (seeded; the same seed gives the same task).
  public static func passkey(length: Int, count: Int, seed: UInt64) -> LongEmbedTask {
    precondition(count <= firstNames.count * lastNames.count, "at most \(firstNames.count * lastNames.count) distinct names")
    var rng = SeededGenerator(seed: seed)
    let filler = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
      .split(separator: " ")
    var names = Set<String>()
    var documents: [String] = []
    var queries: [String] = []
    while documents.count < count {
      let name = "\(firstNames.randomElement(using: &rng) ?? "Ivan") \(lastNames.randomElement(using: &rng) ?? "Petrov")"
      guard names.insert(name).inserted else { continue }
      let key = Int.random(in: 10_000...99_999, using: &rng)
      let needle = "\(name)'s pass key is \(key). Remember it. \(key) is the pass key for \(name)."
      let budget = max(0, Int(Double(length) * 0.75) - needle.split(separator: " ").count)
      let words = (0..<budget).map { filler[$0 % filler.count] }
      documents.append(insert(needle, into: words, using: &rng))
      queries.append("what is the passkey for \(name)?")
    }
    return LongEmbedTask(kind: .passkey, length: length, documents: documents, queries: queries)
  }

  /// Needle documents (windows of `essays`' words) and queries for one length.
  public static func needle(length: Int, count: Int, essays: [Substring], seed: UInt64) -> LongEmbedTask {
    var rng = SeededGenerator(seed: seed)
    var documents: [String] = []
    var queries: [String] = []
    for i in 0..<count {
      let pair = FactNeedle.all[i % FactNeedle.all.count]
      let budget = max(0, Int(Double(length) * 0.75) - pair.fact.split(separator: " ").count)
      let start = Int.random(in: 0..<max(1, essays.count - budget), using: &rng)
      let words = Array(essays[start..<min(essays.count, start + budget)])
      documents.append(insert(pair.fact, into: words, using: &rng))
      queries.append(pair.question)
    }
    return LongEmbedTask(kind: .needle, length: length, documents: documents, queries: queries)
  }

  /// The words of every file in `folder`, files in name order (the needle task's haystack).
  public static func essayWords(folder: URL) throws -> [Substring] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().flatMap {
      try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8).split(whereSeparator: \.isWhitespace)
    }
  }
}

/// How the encoder reads a document longer than its 512 positions (TomeEmbed's `LongInputMode`).
public enum LongEmbedMode: String, Sendable, CaseIterable, Codable {
  case truncate
  case parallelWindows
  case positionInterpolation

  var inputMode: LongInputMode {
    switch self {
    case .truncate: .truncate
    case .parallelWindows: .parallelWindows
    case .positionInterpolation: .positionInterpolation
    }
  }
}

/// Acc@1 of LongEmbed tasks with the in-process encoder: the share of queries whose nearest
/// document (cosine) is their own.
public struct LongEmbedEvaluation: Sendable {
  let encoder: BERTEncoder

  /// Loads the sentence encoder from `models`.
  public init(models: ModelDirectory) throws {
    encoder = try BERTEncoder(modelDirectory: models.encoderURL)
  }

  /// The result for one task and mode.
  public struct Result: Sendable, Hashable, Codable {
    public var task: LongEmbedTask.Kind
    public var length: Int
    public var mode: LongEmbedMode
    /// Mean encoder tokens per document.
    public var meanTokens: Int
    public var accuracyAt1: Double
    public var seconds: Double
  }

  /// Mean WordPiece tokens per document of `task`.
  public func meanTokens(_ task: LongEmbedTask) -> Int {
    task.documents.isEmpty ? 0 : task.documents.map { encoder.tokenizer.tokenCount($0) }.reduce(0, +) / task.documents.count
  }

  /// Embeds `task`'s documents with `mode` and scores every query.
  public func evaluate(_ task: LongEmbedTask, mode: LongEmbedMode) throws -> Result {
    let started = ContinuousClock.now
    let documents = try encoder.embed(passages: task.documents, mode: mode.inputMode)
    var hits = 0
    for (i, query) in task.queries.enumerated() {
      let q = try encoder.embed(query: query)
      var best = -Float.infinity
      var bestDocument = -1
      for d in 0..<documents.count {
        var s: Float = 0
        for (a, b) in zip(documents[row: d], q) { s += a * b }
        if s > best {
          best = s
          bestDocument = d
        }
      }
      if bestDocument == i { hits += 1 }
    }
    return Result(
      task: task.kind, length: task.length, mode: mode, meanTokens: meanTokens(task),
      accuracyAt1: task.queries.isEmpty ? 0 : Double(hits) / Double(task.queries.count),
      seconds: (ContinuousClock.now - started).seconds)
  }
}
