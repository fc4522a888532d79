public import Foundation
public import TomeCore

/// A written fact, the question that asks for it, and the words a right answer contains.
/// Our own sentences (the LongEmbed needle set is not available offline).
public struct FactNeedle: Sendable, Hashable {
  public var fact: String
  public var question: String
  public var answer: String

  public static let all: [FactNeedle] = [
    .init(fact: "The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.", question: "What is the best thing to do in San Francisco?", answer: "Dolores Park"),
    .init(fact: "The secret ingredient in Grandma Rosa's lasagna is a spoonful of cinnamon in the sauce.", question: "What is the secret ingredient in Grandma Rosa's lasagna?", answer: "cinnamon"),
    .init(fact: "The lighthouse on Kestrel Point was painted bright purple in 1987 after a community vote.", question: "What colour was the lighthouse on Kestrel Point painted?", answer: "purple"),
    .init(fact: "The fastest way to cross the river in Ulm is the small yellow ferry that leaves every ten minutes.", question: "What is the fastest way to cross the river in Ulm?", answer: "ferry"),
    .init(fact: "Dr. Okonkwo's cat is named Pickles and sleeps in the fruit bowl every afternoon.", question: "What is the name of Dr. Okonkwo's cat?", answer: "Pickles"),
    .init(fact: "The password to the chess club's storage room is the word marmalade spelled backwards.", question: "What is the password to the chess club's storage room?", answer: "marmalade"),
    .init(fact: "The tallest sunflower in the village contest last summer measured four meters and twelve centimeters.", question: "How tall was the tallest sunflower in the village contest?", answer: "four meters"),
    .init(fact: "The museum's missing painting was found behind the vending machine in the staff kitchen.", question: "Where was the museum's missing painting found?", answer: "vending machine"),
    .init(fact: "The volcano observatory measures gas emissions with a drone named Bertha.", question: "What is the name of the volcano observatory's drone?", answer: "Bertha"),
    .init(fact: "The town's annual cheese race is won by whoever catches the wheel before it reaches the pond.", question: "How is the town's annual cheese race won?", answer: "wheel"),
    .init(fact: "Professor Lindgren keeps her spare glasses inside a hollowed-out dictionary on the third shelf.", question: "Where does Professor Lindgren keep her spare glasses?", answer: "dictionary"),
    .init(fact: "The bakery on Elm Street sells its last croissant every day at exactly 7:42 in the morning.", question: "When does the bakery on Elm Street sell its last croissant?", answer: "7:42"),
    .init(fact: "The submarine crew celebrates birthdays by playing the accordion in the torpedo room.", question: "How does the submarine crew celebrate birthdays?", answer: "accordion"),
    .init(fact: "The rarest orchid in the botanical garden only blooms during thunderstorms in September.", question: "When does the rarest orchid in the botanical garden bloom?", answer: "thunderstorm"),
    .init(fact: "The robot vacuum at the library learned to avoid the poetry section after getting stuck twelve times.", question: "Which section does the library's robot vacuum avoid?", answer: "poetry"),
    .init(fact: "The winning recipe at the chili festival used dark chocolate and smoked pineapple.", question: "What did the winning recipe at the chili festival use?", answer: "pineapple"),
    .init(fact: "The old mill's waterwheel still powers a single light bulb in the miller's attic.", question: "What does the old mill's waterwheel still power?", answer: "light bulb"),
    .init(fact: "The marathon record on Fenwick Island was set by a retired postman wearing wooden clogs.", question: "Who set the marathon record on Fenwick Island?", answer: "postman"),
    .init(fact: "The astronomy club named its new telescope Galileo's Nephew after a long debate.", question: "What did the astronomy club name its new telescope?", answer: "Galileo's Nephew"),
    .init(fact: "The city's oldest tram is parked inside the central library and serves as a reading room.", question: "Where is the city's oldest tram parked?", answer: "library"),
    .init(fact: "The parrot at the harbour café can whistle the first bars of the national anthem.", question: "What can the parrot at the harbour café whistle?", answer: "anthem"),
    .init(fact: "The mountain hut serves blueberry soup to every hiker who arrives before noon.", question: "What does the mountain hut serve to hikers who arrive before noon?", answer: "blueberry soup"),
    .init(fact: "The violinist's lucky charm is a brass button from her grandfather's army coat.", question: "What is the violinist's lucky charm?", answer: "brass button"),
    .init(fact: "The island ferry is cancelled whenever the resident goat climbs onto the ticket booth.", question: "When is the island ferry cancelled?", answer: "goat"),
  ]
}

/// What a needle-in-a-haystack cell hides and asks, RULER-style (Hsieh et al. 2024).
public enum NeedleKind: String, Sendable, CaseIterable, Codable {
  /// "The pass key is 71432. Remember it. 71432 is the pass key." → "What is the pass key?"
  case passkey
  /// A written fact sentence and its question (`FactNeedle.all`).
  case fact
  /// Four key–value sentences with distinct keys, spread through the haystack; one key is asked.
  case multikey
  /// One key with four distinct values, spread through the haystack; all are asked for.
  case multivalue
}

/// A needle: the text inserted, the question, and what a right answer must contain.
public struct Needle: Sendable, Hashable, Codable {
  /// A further sentence and the depth (percent of the haystack's tokens) it goes to.
  public struct Companion: Sendable, Hashable, Codable {
    public var text: String
    public var depth: Double
  }

  public var kind: NeedleKind
  /// What goes at the cell's depth: the sentence the question asks about (for multivalue, the
  /// key's first value).
  public var text: String
  /// The multi-needle kinds' other sentences (the other keys, or the key's other values), each
  /// at its own seeded depth: RULER spreads them through the haystack rather than next to
  /// the asked one, so that retrieving one passage is not retrieving them all.
  public var companions: [Companion] = []
  public var question: String
  /// Every string here must occur in a correct answer (case-insensitive).
  public var expected: [String]

  /// Every sentence inserted: `text`, then the companions.
  public var sentences: [String] { [text] + companions.map(\.text) }

  /// Words for multikey/multivalue keys (RULER uses words as keys).
  static let keyWords = [
    "amber", "basil", "cobalt", "dune", "ember", "fjord", "garnet", "harbor", "indigo", "juniper", "kelp", "lantern",
    "meadow", "nectar", "orchid", "pepper", "quartz", "raven", "saffron", "tundra", "umber", "velvet", "willow", "zephyr",
  ]

  /// Draws a needle of `kind`.
  public static func make(_ kind: NeedleKind, using rng: inout some RandomNumberGenerator) -> Needle {
    switch kind {
    case .passkey:
      let key = Int.random(in: 10_000...99_999, using: &rng)
      return Needle(
        kind: kind, text: "The pass key is \(key). Remember it. \(key) is the pass key.", question: "What is the pass key?",
        expected: ["\(key)"])
    case .fact:
      let fact = FactNeedle.all.randomElement(using: &rng) ?? FactNeedle.all[0]
      return Needle(kind: kind, text: fact.fact, question: fact.question, expected: [fact.answer])
    case .multikey:
      let keys = distinctKeys(4, using: &rng)
      let values = distinctNumbers(4, using: &rng)
      let sentences = zip(keys, values).map { "One of the special magic numbers for \($0) is: \($1)." }
      return Needle(
        kind: kind, text: sentences[0], companions: spread(sentences.dropFirst(), using: &rng),
        question: "What is the special magic number for \(keys[0])?", expected: ["\(values[0])"])
    case .multivalue:
      let key = distinctKeys(1, using: &rng)[0]
      let values = distinctNumbers(4, using: &rng)
      let sentences = values.map { "One of the special magic numbers for \(key) is: \($0)." }
      return Needle(
        kind: kind, text: sentences[0], companions: spread(sentences.dropFirst(), using: &rng),
        question: "What are all the special magic numbers for \(key)?", expected: values.map { "\($0)" })
    }
  }

  /// Each sentence at a uniformly drawn depth.
  static func spread(_ sentences: some Sequence<String>, using rng: inout some RandomNumberGenerator) -> [Companion] {
    sentences.map { Companion(text: $0, depth: Double.random(in: 0...100, using: &rng).rounded()) }
  }

  /// `count` distinct two-word keys such as "cobalt-meadow".
  static func distinctKeys(_ count: Int, using rng: inout some RandomNumberGenerator) -> [String] {
    var keys: [String] = []
    while keys.count < count {
      let key = "\(keyWords.randomElement(using: &rng) ?? "amber")-\(keyWords.randomElement(using: &rng) ?? "basil")"
      if !keys.contains(key) { keys.append(key) }
    }
    return keys
  }

  /// `count` distinct seven-digit numbers.
  static func distinctNumbers(_ count: Int, using rng: inout some RandomNumberGenerator) -> [Int] {
    var numbers: [Int] = []
    while numbers.count < count {
      let n = Int.random(in: 1_000_000...9_999_999, using: &rng)
      if !numbers.contains(n) { numbers.append(n) }
    }
    return numbers
  }

  /// True when `text` contains every expected string (case-insensitive).
  public func isFound(in text: String) -> Bool {
    let lower = text.lowercased()
    return expected.allSatisfy { lower.contains($0.lowercased()) }
  }
}

/// One file of a haystack: a stable name (its file name), its text and its token count.
public struct HaystackDocument: Sendable, Hashable {
  public var name: String
  public var text: String
  public var tokens: Int
}

/// Real text in a fixed order, cut to a token length: whole files in order, the last one cut
/// at a sentence boundary so the haystack holds `length` tokens (give or take one sentence).
///
/// Sources are the Paul Graham essays (sorted by file name), then the plain-text files
/// (`.txt`, `.rst`, `.md`) of further folders, sorted by path: the RULER recipe, continued with
/// other real text instead of repeating the essays.
public struct Haystack: Sendable {
  public var documents: [HaystackDocument]
  public var tokens: Int { documents.reduce(0) { $0 + $1.tokens } }

  public init(documents: [HaystackDocument]) {
    self.documents = documents
  }

  /// Extensions read from the extra folders.
  public static let textExtensions: Set<String> = ["txt", "rst", "md"]

  /// The source files in haystack order: the essays' files, then each folder's text files.
  /// - Throws: `DatasetError` when a folder does not exist.
  public static func sourceFiles(folders: [URL]) throws -> [URL] {
    var files: [URL] = []
    for folder in folders {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw DatasetError(path: folder.path, reason: "no such folder")
      }
      guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { continue }
      var found: [URL] = []
      for case let url as URL in walker where textExtensions.contains(url.pathExtension.lowercased()) || url.pathExtension.isEmpty {
        if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { found.append(url) }
      }
      files += found.sorted { $0.path < $1.path }
    }
    return files
  }

  /// Reads `files` in order until they hold at least `tokens` tokens (unreadable, non-UTF-8
  /// and empty files are passed over). The result may be shorter when the files run out.
  public static func load(
    files: [URL], tokens: Int, counter: any TokenCounter, progress: (Int) -> Void = { _ in }
  ) -> Haystack {
    var documents: [HaystackDocument] = []
    var total = 0
    var names = Set<String>()
    for file in files where total < tokens {
      guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
      let cleaned = text.replacingOccurrences(of: "\r\n", with: "\n")
      guard !cleaned.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { continue }
      let count = counter.tokenCount(cleaned)
      // Files are written flat: number them so names stay unique and keep the order.
      var name = String(format: "%05d-", documents.count) + file.deletingPathExtension().lastPathComponent
      name = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(80)) + ".txt"
      guard names.insert(name).inserted else { continue }
      documents.append(HaystackDocument(name: name, text: cleaned, tokens: count))
      total += count
      progress(total)
    }
    return Haystack(documents: documents)
  }

  /// The first `length` tokens: whole documents, the last cut after the sentence where the
  /// count reaches `length`.
  public func prefix(tokens length: Int, counter: any TokenCounter) -> Haystack {
    var out: [HaystackDocument] = []
    var total = 0
    for document in documents {
      if total >= length { break }
      if total + document.tokens <= length {
        out.append(document)
        total += document.tokens
        continue
      }
      let need = length - total
      var used = 0
      var end = document.text.startIndex
      for boundary in Self.sentenceBoundaries(in: document.text) where boundary > end {
        used += counter.tokenCount(document.text[end..<boundary])
        end = boundary
        if used >= need { break }
      }
      let text = String(document.text[..<end])
      out.append(HaystackDocument(name: document.name, text: text, tokens: used))
      total += used
    }
    return Haystack(documents: out)
  }

  /// Where a needle goes and the document text with it in place.
  public struct Insertion: Sendable, Hashable {
    /// Index in `documents` of the document that holds the needle.
    public var document: Int
    /// The document's text with the needle inserted.
    public var text: String
    /// Haystack tokens before the needle (its real depth is this over the total).
    public var tokensBefore: Int
    /// The token offset the depth asked for.
    public var target: Int
  }

  /// Where one sentence goes: a sentence boundary of one document.
  public struct Placement: Sendable, Hashable {
    public var document: Int
    /// Haystack tokens before the sentence, counted in the text without insertions.
    public var tokensBefore: Int
    /// The token offset the depth asked for.
    public var target: Int
    /// The boundary in the document's original text.
    var position: String.Index
  }

  /// Inserts `needle` at the sentence boundary nearest to `depth` percent of the haystack's
  /// tokens (0 = before the first sentence, 100 = after the last).
  public func insert(_ needle: String, depth: Double, counter: any TokenCounter) -> Insertion {
    let (texts, placements) = insert([(needle, depth)], counter: counter)
    let placement = placements[0]
    return Insertion(
      document: placement.document, text: texts[placement.document] ?? "", tokensBefore: placement.tokensBefore,
      target: placement.target)
  }

  /// Inserts each sentence at the boundary nearest its depth. Returns the new text of every
  /// document that changed, by index, and each sentence's placement, in the order given.
  /// Sentences that land on the same boundary keep their given order.
  public func insert(_ sentences: [(text: String, depth: Double)], counter: any TokenCounter) -> (texts: [Int: String], placements: [Placement]) {
    precondition(!documents.isEmpty, "an empty haystack has nowhere to hide a needle")
    let placements = sentences.map { placement(depth: $0.depth, counter: counter) }
    var texts: [Int: String] = [:]
    for document in Set(placements.map(\.document)) {
      let text = documents[document].text
      let here = placements.indices.filter { placements[$0].document == document }
        .sorted { (placements[$0].position, $0) < (placements[$1].position, $1) }
      var out = ""
      var cursor = text.startIndex
      for i in here {
        let position = placements[i].position
        out += text[cursor..<position]
        cursor = position
        if position == text.startIndex {
          out += sentences[i].text + " "
        } else if position == text.endIndex {
          out += (out.hasSuffix("\n") ? "" : " ") + sentences[i].text + "\n"
        } else {
          out += " " + sentences[i].text
        }
      }
      texts[document] = out + text[cursor...]
    }
    return (texts, placements)
  }

  /// The sentence boundary nearest to `depth` percent of the haystack's tokens.
  func placement(depth: Double, counter: any TokenCounter) -> Placement {
    let total = tokens
    let target = Int((depth / 100 * Double(total)).rounded())
    var start = 0
    var index = documents.count - 1
    for (i, document) in documents.enumerated() {
      if target < start + document.tokens || i == documents.count - 1 {
        index = i
        break
      }
      start += document.tokens
    }
    let text = documents[index].text
    // Candidate boundaries with the tokens before each; pick the one nearest the target.
    var best = (position: text.startIndex, tokens: 0)
    var bestDistance = abs(target - start)
    var before = 0
    var previous = text.startIndex
    for boundary in Self.sentenceBoundaries(in: text) where boundary > previous {
      before += counter.tokenCount(text[previous..<boundary])
      previous = boundary
      let distance = abs(target - (start + before))
      if distance < bestDistance {
        best = (boundary, before)
        bestDistance = distance
      }
      if start + before > target { break }
    }
    return Placement(document: index, tokensBefore: start + best.tokens, target: target, position: best.position)
  }

  /// Sentence ends in `text`: the positions right after a `.`, `!` or `?` that a space or
  /// line break follows (closing quotes and brackets stay with their sentence), after each
  /// blank-line paragraph break, and the end of the text.
  public static func sentenceBoundaries(in text: String) -> [String.Index] {
    var boundaries: [String.Index] = []
    var i = text.startIndex
    while i < text.endIndex {
      let c = text[i]
      var next = text.index(after: i)
      if c == "." || c == "!" || c == "?" {
        while next < text.endIndex, "\"'”’)]".contains(text[next]) { next = text.index(after: next) }
        if next == text.endIndex || text[next] == " " || text[next] == "\n" {
          boundaries.append(next)
        }
      } else if c == "\n", next < text.endIndex, text[next] == "\n" {
        if boundaries.last != i { boundaries.append(i) }
      }
      i = next
    }
    if boundaries.last != text.endIndex { boundaries.append(text.endIndex) }
    return boundaries
  }
}
