public import Foundation
import TomeCore
public import TomeKit

/// Turns public QA datasets into a collection of files to ingest plus a `questions.jsonl`
/// for `tome batch`, with gold answers and gold citations as file paths and lines.
///
/// Layout: `OUTPUT/collection/…` (the files) and `OUTPUT/questions.jsonl`. Gold citation
/// paths are relative to `OUTPUT` (`collection/<file>`); scoring matches them by suffix
/// against the absolute paths an index stores.
public enum BenchmarkConverter {
  public enum Format: String, Sendable, CaseIterable {
    case squad, hotpot, qmsum, babi
  }

  public struct Options: Sendable {
    /// At most this many questions (all when nil), drawn with `seed`.
    public var limit: Int?
    public var seed: UInt64
    /// bAbI task number (1–20).
    public var task: Int

    public init(limit: Int? = nil, seed: UInt64 = 1, task: Int = 1) {
      self.limit = limit
      self.seed = seed
      self.task = task
    }
  }

  /// What a conversion wrote.
  public struct Report: Sendable {
    public var collection: URL
    public var questionsFile: URL
    public var documents: Int
    public var questions: Int
  }

  /// Converts `input` (a file or folder of the dataset) into `output`.
  ///
  /// - Throws: `DatasetError` when the input is not in the expected format.
  public static func convert(_ format: Format, input: URL, output: URL, options: Options = .init()) throws -> Report {
    let documents: [(name: String, text: String)]
    var questions: [BatchQuestion]
    switch format {
    case .squad: (documents, questions) = try squad(input)
    case .hotpot: (documents, questions) = try hotpot(input)
    case .qmsum: (documents, questions) = try qmsum(input)
    case .babi: (documents, questions) = try babi(input, task: options.task)
    }
    questions = sample(questions, limit: options.limit, seed: options.seed)
    let collection = output.appendingPathComponent("collection")
    try FileManager.default.createDirectory(at: collection, withIntermediateDirectories: true)
    for d in documents {
      try Data(d.text.utf8).write(to: collection.appendingPathComponent(d.name))
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var lines: [String] = []
    for q in questions {
      var object = q.extra
      object["id"] = q.id
      object["question"] = .string(q.question)
      if let gold = q.gold { object["gold"] = .array(gold.map(JSONValue.string)) }
      if let citations = q.goldCitations {
        object["gold_citations"] = try JSONDecoder().decode(JSONValue.self, from: encoder.encode(citations))
      }
      if let documents = q.documents {
        object["document"] = documents.count == 1 ? .string(documents[0]) : .array(documents.map(JSONValue.string))
      }
      lines.append(String(decoding: try encoder.encode(object), as: UTF8.self))
    }
    let questionsFile = output.appendingPathComponent("questions.jsonl")
    try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: questionsFile)
    return Report(collection: collection, questionsFile: questionsFile, documents: documents.count, questions: questions.count)
  }

  /// Up to `limit` questions drawn with a seeded shuffle, kept in their original order.
  static func sample(_ questions: [BatchQuestion], limit: Int?, seed: UInt64) -> [BatchQuestion] {
    guard let limit, limit < questions.count else { return questions }
    var generator = SeededGenerator(seed: seed)
    let picked = Array(questions.indices).shuffled(using: &generator).prefix(limit).sorted()
    return picked.map { questions[$0] }
  }

  /// A file name made of the title's letters and digits (others become `_`), unique in `used`.
  static func fileName(_ title: String, prefix: String = "", used: inout Set<String>) -> String {
    let cleaned = String(title.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "_" })
    var base = prefix + String(cleaned.prefix(80))
    if base.isEmpty { base = "untitled" }
    var name = base + ".txt"
    var n = 2
    while used.contains(name.lowercased()) {
      name = "\(base)-\(n).txt"
      n += 1
    }
    used.insert(name.lowercased())
    return name
  }

  static func decode<T: Decodable>(_ type: T.Type, _ url: URL, what: String) throws -> T {
    do {
      return try JSONDecoder().decode(type, from: Data(contentsOf: url))
    } catch {
      let detail = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ").prefix(200)
      throw DatasetError(path: url.path, reason: "not \(what) (\(detail))")
    }
  }

  // MARK: - SQuAD

  /// SQuAD v1.1 JSON: one file per article, title on line 1, each paragraph on one line
  /// (newlines inside it become spaces) after a blank line; the gold citation of a question
  /// is its paragraph's line.
  static func squad(_ url: URL) throws -> ([(name: String, text: String)], [BatchQuestion]) {
    struct File: Decodable {
      struct Article: Decodable { var title: String; var paragraphs: [Paragraph] }
      struct Paragraph: Decodable { var context: String; var qas: [QA] }
      struct QA: Decodable { var id: String; var question: String; var answers: [Answer] }
      struct Answer: Decodable { var text: String }
      var data: [Article]
    }
    let file = try decode(File.self, url, what: "SQuAD v1.1 JSON")
    var used = Set<String>()
    var documents: [(name: String, text: String)] = []
    var questions: [BatchQuestion] = []
    for (a, article) in file.data.enumerated() {
      let name = fileName(article.title, prefix: String(format: "a%02d-", a), used: &used)
      var lines = [article.title.replacingOccurrences(of: "_", with: " ")]
      for paragraph in article.paragraphs {
        lines.append("")
        let text = paragraph.context.split(whereSeparator: \.isNewline).joined(separator: " ")
        lines.append(text)
        let line = lines.count
        for qa in paragraph.qas {
          var gold: [String] = []
          for answer in qa.answers where !gold.contains(answer.text) { gold.append(answer.text) }
          questions.append(BatchQuestion(
            id: .string(qa.id), line: 0, question: qa.question, gold: gold,
            goldCitations: [GoldCitation(path: "collection/" + name, lines: line...line)],
            extra: ["title": .string(article.title)]))
        }
      }
      documents.append((name, lines.joined(separator: "\n") + "\n"))
    }
    return (documents, questions)
  }

  // MARK: - HotpotQA

  /// HotpotQA (the shared sample: `hotpotqa_train.json` and `hotpotqa_train_corpus.json` in one
  /// folder): one file per corpus passage, its title on line 1, a blank line, then one
  /// sentence per line, so supporting fact (title, sentence i) is line i + 3.
  static func hotpot(_ url: URL) throws -> ([(name: String, text: String)], [BatchQuestion]) {
    struct Question: Decodable {
      var _id: String
      var question: String
      var answer: String
      var supporting_facts: [[JSONValue]]
      var type: String?
      var level: String?
    }
    let folder = url.hasDirectoryPath || isDirectory(url) ? url : url.deletingLastPathComponent()
    let questionsURL = isDirectory(url) ? folder.appendingPathComponent("hotpotqa_train.json") : url
    let corpusURL = folder.appendingPathComponent("hotpotqa_train_corpus.json")
    let corpus = try decode([String: [String]].self, corpusURL, what: "a HotpotQA corpus (title → sentences)")
    let items = try decode([Question].self, questionsURL, what: "HotpotQA questions JSON")
    var used = Set<String>()
    var names: [String: String] = [:]
    var documents: [(name: String, text: String)] = []
    for title in corpus.keys.sorted() {
      let name = fileName(title, used: &used)
      names[title] = name
      let sentences = (corpus[title] ?? []).map { $0.trimmingCharacters(in: .whitespacesAndNewlines).split(whereSeparator: \.isNewline).joined(separator: " ") }
      documents.append((name, ([title, ""] + sentences).joined(separator: "\n") + "\n"))
    }
    let questions = items.map { item in
      var citations: [GoldCitation] = []
      for fact in item.supporting_facts {
        guard fact.count == 2, case .string(let title) = fact[0], case .integer(let i) = fact[1], let name = names[title] else { continue }
        let line = Int(i) + 3
        citations.append(GoldCitation(path: "collection/" + name, lines: line...line))
      }
      var extra: [String: JSONValue] = [:]
      if let type = item.type { extra["type"] = .string(type) }
      if let level = item.level { extra["level"] = .string(level) }
      return BatchQuestion(
        id: .string(item._id), line: 0, question: item.question, gold: [item.answer], goldCitations: citations, extra: extra)
    }
    return (documents, questions)
  }

  static func isDirectory(_ url: URL) -> Bool {
    var directory: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) && directory.boolValue
  }

  // MARK: - QMSum

  /// QMSum (a folder of meeting JSON files, or one file): one file per meeting, `Meeting X`
  /// on line 1, a blank line, then turn i as `Speaker: text` on line i + 3. Every specific
  /// query becomes a question (prefixed with the meeting's name, since the collection holds
  /// many meetings) with its relevant spans as gold citations; general queries cite the
  /// whole meeting. Each question's `document` is its meeting's file, so `tome batch` answers
  /// it from that transcript alone.
  static func qmsum(_ url: URL) throws -> ([(name: String, text: String)], [BatchQuestion]) {
    struct Meeting: Decodable {
      struct Query: Decodable {
        var query: String
        var answer: String
        var relevant_text_span: [[String]]?
      }
      struct Turn: Decodable { var speaker: String; var content: String }
      var general_query_list: [Query]?
      var specific_query_list: [Query]?
      var meeting_transcripts: [Turn]
    }
    let files: [URL]
    if isDirectory(url) {
      files = try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
        .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    } else {
      files = [url]
    }
    guard !files.isEmpty else { throw DatasetError(path: url.path, reason: "no QMSum .json files") }
    var documents: [(name: String, text: String)] = []
    var questions: [BatchQuestion] = []
    for file in files {
      let meeting = try decode(Meeting.self, file, what: "QMSum meeting JSON")
      let id = file.deletingPathExtension().lastPathComponent
      let name = id + ".txt"
      let turns = meeting.meeting_transcripts.map { t in
        "\(t.speaker): " + t.content.split(whereSeparator: \.isNewline).joined(separator: " ")
      }
      documents.append((name, (["Meeting \(id)", ""] + turns).joined(separator: "\n") + "\n"))
      let all = (meeting.general_query_list ?? []).map { ($0, "general") } + (meeting.specific_query_list ?? []).map { ($0, "specific") }
      for (n, (query, kind)) in all.enumerated() {
        var citations: [GoldCitation] = []
        if let spans = query.relevant_text_span {
          for span in spans {
            guard span.count == 2, let first = Int(span[0]), let last = Int(span[1]), first <= last, first < turns.count else { continue }
            citations.append(GoldCitation(path: "collection/" + name, lines: (first + 3)...(min(last, turns.count - 1) + 3)))
          }
        } else if !turns.isEmpty {
          citations.append(GoldCitation(path: "collection/" + name))
        }
        questions.append(BatchQuestion(
          id: .string("\(id)-\(n + 1)"), line: 0, question: "In meeting \(id): \(query.query)", gold: [query.answer],
          goldCitations: citations, documents: ["collection/" + name], extra: ["meeting": .string(id), "kind": .string(kind)]))
      }
    }
    return (documents, questions)
  }

  // MARK: - bAbI

  /// bAbI (the `en` folder, or one task file): task `task`'s test file; one file per story
  /// (`Story N` on line 1, a blank line, then fact k on line k + 2, question lines left
  /// out). The question is the story's last one, asked about the whole story and prefixed
  /// with `In story N:`; its supporting facts are the gold citations.
  static func babi(_ url: URL, task: Int) throws -> ([(name: String, text: String)], [BatchQuestion]) {
    let file: URL
    if isDirectory(url) {
      let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
      guard let match = names.first(where: { $0.hasPrefix("qa\(task)_") && $0.hasSuffix("_test.txt") }) else {
        throw DatasetError(path: url.path, reason: "no qa\(task)_*_test.txt (bAbI task \(task))")
      }
      file = url.appendingPathComponent(match)
    } else {
      file = url
    }
    guard let text = try? String(contentsOf: file, encoding: .utf8) else { throw DatasetError(path: file.path, reason: "cannot read") }
    struct Story {
      var facts: [String] = []
      /// bAbI line number → fact index (1-based) in `facts`.
      var factIndex: [Int: Int] = [:]
      var last: (question: String, answer: String, support: [Int])?
    }
    var stories: [Story] = []
    for raw in text.split(whereSeparator: \.isNewline) {
      let line = raw.trimmingCharacters(in: .whitespaces)
      guard let space = line.firstIndex(of: " "), let number = Int(line[..<space]) else {
        throw DatasetError(path: file.path, reason: "not bAbI format: \(line.prefix(60))")
      }
      if number == 1 || stories.isEmpty { stories.append(Story()) }
      let body = line[line.index(after: space)...]
      // Question lines: `question \t answer \t support` (Facebook's files) or with `|` (this copy).
      let separator: Character = body.contains("\t") ? "\t" : "|"
      let parts = body.split(separator: separator, omittingEmptySubsequences: false)
      let index = stories.count - 1
      if parts.count >= 2 {
        let support = parts.count > 2 ? parts[2].split(separator: " ").compactMap { Int($0) } : []
        stories[index].last = (parts[0].trimmingCharacters(in: .whitespaces), String(parts[1]), support)
      } else {
        stories[index].facts.append(String(body))
        stories[index].factIndex[number] = stories[index].facts.count
      }
    }
    let taskName = file.lastPathComponent.replacingOccurrences(of: "_test.txt", with: "")
    var documents: [(name: String, text: String)] = []
    var questions: [BatchQuestion] = []
    for (i, story) in stories.enumerated() {
      let n = i + 1
      let name = String(format: "story-%04d.txt", n)
      documents.append((name, (["Story \(n)", ""] + story.facts).joined(separator: "\n") + "\n"))
      guard let last = story.last else { continue }
      let citations = last.support.compactMap { story.factIndex[$0] }.map { GoldCitation(path: "collection/" + name, lines: ($0 + 2)...($0 + 2)) }
      questions.append(BatchQuestion(
        id: .string("\(taskName)-\(n)"), line: 0, question: "In story \(n): \(last.question)", gold: [last.answer],
        goldCitations: citations, extra: ["story": .integer(Int64(n)), "task": .integer(Int64(task))]))
    }
    return (documents, questions)
  }
}
