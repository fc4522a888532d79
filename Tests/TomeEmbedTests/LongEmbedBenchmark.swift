import Foundation
import TomeCore
import TomeEmbed
import TomeTestSupport
import Testing

/// The LongEmbed synthetic tasks (Zhu et al. 2024; METHODS-INDEX-KV.md §1, "regeneration spec"),
/// scaled to this machine: passkey and needle retrieval at several lengths, Acc@1 of each
/// long-input mode. Env-gated: `TOME_BENCH=1 swift test -c release --filter LongEmbedBenchmark`.
/// Knobs: `TOME_LONGEMBED_DOCS` (candidates = queries per length, default 20),
/// `TOME_LONGEMBED_LENGTHS` (tokens, default "256,512,1024,2048,4096").
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOME_BENCH"] == "1"))
struct LongEmbedBenchmark {
  static let firstNames = [
    "Malayah", "Ivan", "Sofia", "Kwame", "Lena", "Mateo", "Aiko", "Noor", "Tobias", "Priya", "Olu", "Greta",
    "Rafael", "Mei", "Dmitri", "Amara", "Jonas", "Leila", "Hugo", "Zara", "Emeka", "Ines", "Callum", "Yara",
  ]
  static let lastNames = [
    "Graves", "Petrov", "Lindqvist", "Mensah", "Okafor", "Tanaka", "Haddad", "Fischer", "Ramirez", "Kowalski",
    "Nakamura", "Byrne", "Moreau", "Singh", "Castillo", "Novak", "Adeyemi", "Larsen", "Dubois", "Quinn",
  ]
  /// Our own fact/question pairs for the needle task (the HF set is not available offline).
  static let needles: [(fact: String, question: String)] = [
    ("The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.", "What is the best thing to do in San Francisco?"),
    ("The secret ingredient in Grandma Rosa's lasagna is a spoonful of cinnamon in the sauce.", "What is the secret ingredient in Grandma Rosa's lasagna?"),
    ("The lighthouse on Kestrel Point was painted bright purple in 1987 after a community vote.", "What colour was the lighthouse on Kestrel Point painted?"),
    ("The fastest way to cross the river in Ulm is the small yellow ferry that leaves every ten minutes.", "What is the fastest way to cross the river in Ulm?"),
    ("Dr. Okonkwo's cat is named Pickles and sleeps in the fruit bowl every afternoon.", "What is the name of Dr. Okonkwo's cat?"),
    ("The password to the chess club's storage room is the word marmalade spelled backwards.", "What is the password to the chess club's storage room?"),
    ("The tallest sunflower in the village contest last summer measured four meters and twelve centimeters.", "How tall was the tallest sunflower in the village contest?"),
    ("The museum's missing painting was found behind the vending machine in the staff kitchen.", "Where was the museum's missing painting found?"),
    ("The volcano observatory measures gas emissions with a drone named Bertha.", "What is the name of the volcano observatory's drone?"),
    ("The town's annual cheese race is won by whoever catches the wheel before it reaches the pond.", "How is the town's annual cheese race won?"),
    ("Professor Lindgren keeps her spare glasses inside a hollowed-out dictionary on the third shelf.", "Where does Professor Lindgren keep her spare glasses?"),
    ("The bakery on Elm Street sells its last croissant every day at exactly 7:42 in the morning.", "When does the bakery on Elm Street sell its last croissant?"),
    ("The submarine crew celebrates birthdays by playing the accordion in the torpedo room.", "How does the submarine crew celebrate birthdays?"),
    ("The rarest orchid in the botanical garden only blooms during thunderstorms in September.", "When does the rarest orchid in the botanical garden bloom?"),
    ("The robot vacuum at the library learned to avoid the poetry section after getting stuck twelve times.", "Which section does the library's robot vacuum avoid?"),
    ("The winning recipe at the chili festival used dark chocolate and smoked pineapple.", "What did the winning recipe at the chili festival use?"),
    ("The old mill's waterwheel still powers a single light bulb in the miller's attic.", "What does the old mill's waterwheel still power?"),
    ("The marathon record on Fenwick Island was set by a retired postman wearing wooden clogs.", "Who set the marathon record on Fenwick Island?"),
    ("The astronomy club named its new telescope Galileo's Nephew after a long debate.", "What did the astronomy club name its new telescope?"),
    ("The city's oldest tram is parked inside the central library and serves as a reading room.", "Where is the city's oldest tram parked?"),
    ("The parrot at the harbour café can whistle the first bars of the national anthem.", "What can the parrot at the harbour café whistle?"),
    ("The mountain hut serves blueberry soup to every hiker who arrives before noon.", "What does the mountain hut serve to hikers who arrive before noon?"),
    ("The violinist's lucky charm is a brass button from her grandfather's army coat.", "What is the violinist's lucky charm?"),
    ("The island ferry is cancelled whenever the resident goat climbs onto the ticket booth.", "When is the island ferry cancelled?"),
  ]

  /// Inserts `needle` at a random word boundary of `words` and joins the text.
  func insert(_ needle: String, into words: [Substring], using rng: inout SplitMix64) -> String {
    let at = Int.random(in: 0...words.count, using: &rng)
    return words[..<at].joined(separator: " ") + "\n" + needle + "\n" + words[at...].joined(separator: " ")
  }

  /// Passkey documents and queries for one length.
  func passkey(length: Int, count: Int, seed: UInt64) -> (docs: [String], queries: [String]) {
    var rng = SplitMix64(seed: seed)
    let filler = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
      .split(separator: " ")
    var names = Set<String>()
    var docs: [String] = []
    var queries: [String] = []
    while docs.count < count {
      let name = "\(Self.firstNames.randomElement(using: &rng)!) \(Self.lastNames.randomElement(using: &rng)!)"
      guard names.insert(name).inserted else { continue }
      let key = Int.random(in: 10_000...99_999, using: &rng)
      let needle = "\(name)'s pass key is \(key). Remember it. \(key) is the pass key for \(name)."
      let budget = max(0, Int(Double(length) * 0.75) - needle.split(separator: " ").count)
      let words = (0..<budget).map { filler[$0 % filler.count] }
      docs.append(insert(needle, into: words, using: &rng))
      queries.append("what is the passkey for \(name)?")
    }
    return (docs, queries)
  }

  /// Needle documents (Paul Graham essay haystacks) and queries for one length.
  func needle(length: Int, count: Int, essays: [Substring], seed: UInt64) -> (docs: [String], queries: [String]) {
    var rng = SplitMix64(seed: seed)
    var docs: [String] = []
    var queries: [String] = []
    for i in 0..<count {
      let pair = Self.needles[i % Self.needles.count]
      let budget = max(0, Int(Double(length) * 0.75) - pair.fact.split(separator: " ").count)
      let start = Int.random(in: 0..<max(1, essays.count - budget), using: &rng)
      let words = Array(essays[start..<min(essays.count, start + budget)])
      docs.append(insert(pair.fact, into: words, using: &rng))
      queries.append(pair.question)
    }
    return (docs, queries)
  }

  /// Fraction of queries whose best document (by cosine) is their own.
  func accuracyAt1(_ encoder: BERTEncoder, docs: EmbeddingMatrix, queries: [String]) throws -> Double {
    var hits = 0
    for (i, query) in queries.enumerated() {
      let q = try encoder.embed(query: query)
      var best = -Float.infinity
      var bestDoc = -1
      for d in 0..<docs.count {
        var s: Float = 0
        for (a, b) in zip(docs[row: d], q) { s += a * b }
        if s > best {
          best = s
          bestDoc = d
        }
      }
      if bestDoc == i { hits += 1 }
    }
    return Double(hits) / Double(queries.count)
  }

  @Test("passkey and needle Acc@1: truncate vs parallel windows vs position interpolation")
  func longEmbed() throws {
    let env = ProcessInfo.processInfo.environment
    let count = Int(env["TOME_LONGEMBED_DOCS"] ?? "") ?? 20
    let lengths = (env["TOME_LONGEMBED_LENGTHS"] ?? "256,512,1024,2048,4096").split(separator: ",").compactMap { Int($0) }
    let encoder = try SharedEncoder.get()
    let folder = SharedData.data("paul_graham_essays/essays")
    let essayWords = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().flatMap {
      try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8).split(whereSeparator: \.isWhitespace)
    }
    let modes: [LongInputMode] = [.truncate, .parallelWindows, .positionInterpolation]
    print("LongEmbed synthetic tasks: \(count) candidate documents and \(count) queries per length; Acc@1 (%)")
    print("task     length  tokens(mean)  " + modes.map { $0.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0) }.joined())
    for task in ["passkey", "needle"] {
      var sums = [Double](repeating: 0, count: modes.count)
      for length in lengths {
        let (docs, queries) =
          task == "passkey"
          ? passkey(length: length, count: count, seed: UInt64(length))
          : needle(length: length, count: count, essays: essayWords, seed: UInt64(length) + 1)
        let tokens = docs.map { encoder.tokenizer.tokenCount($0) }.reduce(0, +) / docs.count
        var row = String(format: "%-7@  %6d  %12d  ", task as NSString, length, tokens)
        for (m, mode) in modes.enumerated() {
          let start = Date()
          let matrix = try encoder.embed(passages: docs, mode: mode)
          let accuracy = try accuracyAt1(encoder, docs: matrix, queries: queries)
          sums[m] += accuracy
          row += String(format: "%5.1f  (%6.1f s)      ", 100 * accuracy, Date().timeIntervalSince(start))
        }
        print(row)
      }
      print(
        String(format: "%-7@  mean                  ", task as NSString)
          + sums.map { String(format: "%5.1f                 ", 100 * $0 / Double(lengths.count)) }.joined())
    }
  }
}
