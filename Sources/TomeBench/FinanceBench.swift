public import Foundation
import TomeCore
import TomeStore
public import TomeKit

/// FinanceBench (Islam et al. 2023) as a page-retrieval task: SEC filings as text with pages
/// separated by form feeds, analyst questions, and the gold evidence pages.
///
/// The folder holds `txt/<doc_name>.txt`, `questions.jsonl` and `documents.jsonl` (the layout of
/// `shared/data/financebench-dev`). A question is answered when a retrieved chunk of the gold
/// filing covers one of its evidence pages, which is how FinanceBench's gold is given.
public struct FinanceBench: Sendable {
  /// One filing: its name (the file stem), company and path.
  public struct Filing: Sendable, Hashable {
    public var name: String
    public var company: String
    public var url: URL
  }

  /// A page of a filing: the file stem and the 0-based page (form feeds counted before it).
  public struct Page: Sendable, Hashable, Codable {
    public var document: String
    public var page: Int

    public init(document: String, page: Int) {
      self.document = document
      self.page = page
    }
  }

  /// One analyst question with its evidence pages.
  public struct Question: Sendable, Hashable {
    public var id: String
    public var text: String
    public var company: String
    public var evidence: [Page]
  }

  /// Which questions a run uses. Companies are split, not questions, so the held-apart
  /// questions ask about filings whose companies no tuning question named.
  public enum Part: String, Sendable, CaseIterable, Codable {
    /// Companies at even positions in name order: for fitting settings.
    case tuning
    /// Companies at odd positions: for the figures that judge the settings.
    case heldApart = "held-apart"
  }

  public var filings: [Filing]
  public var questions: [Question]

  /// Reads the folder; `companies`, when given, keeps only those companies' filings and
  /// questions (case-insensitive names as in `documents.jsonl`).
  /// - Throws: `DatasetError` when a file is missing or not in the expected shape.
  public static func load(folder: URL, companies: [String]? = nil) throws -> FinanceBench {
    struct DocumentLine: Decodable {
      var doc_name: String
      var company: String
    }
    struct EvidenceLine: Decodable {
      var doc_name: String
      var evidence_page_num: Int
    }
    struct QuestionLine: Decodable {
      var financebench_id: String
      var question: String
      var company: String
      var evidence: [EvidenceLine]
    }
    func lines<T: Decodable>(_ name: String, as _: T.Type) throws -> [T] {
      let url = folder.appendingPathComponent(name)
      guard let text = try? String(contentsOf: url, encoding: .utf8) else {
        throw DatasetError(path: url.path, reason: "cannot read")
      }
      return try text.split(whereSeparator: \.isNewline).enumerated().map { index, line in
        do {
          return try JSONDecoder().decode(T.self, from: Data(line.utf8))
        } catch {
          throw DatasetError(path: url.path, reason: "line \(index + 1) is not a FinanceBench record")
        }
      }
    }
    let wanted = companies.map { Set($0.map { $0.lowercased() }) }
    let keep: (String) -> Bool = { company in wanted?.contains(company.lowercased()) ?? true }
    let filings = try lines("documents.jsonl", as: DocumentLine.self).filter { keep($0.company) }.map { line -> Filing in
      let url = folder.appendingPathComponent("txt").appendingPathComponent(line.doc_name + ".txt")
      guard FileManager.default.fileExists(atPath: url.path) else {
        throw DatasetError(path: url.path, reason: "filing listed in documents.jsonl is missing")
      }
      return Filing(name: line.doc_name, company: line.company, url: url)
    }
    if let wanted, wanted.count != Set(filings.map { $0.company.lowercased() }).count {
      let known = Set(filings.map { $0.company.lowercased() })
      let unknown = wanted.subtracting(known).sorted().joined(separator: ", ")
      throw DatasetError(path: folder.path, reason: "no filings of \(unknown)")
    }
    let names = Set(filings.map(\.name))
    let questions = try lines("questions.jsonl", as: QuestionLine.self).filter { keep($0.company) }.map { line in
      Question(
        id: line.financebench_id, text: line.question, company: line.company,
        evidence: line.evidence.filter { names.contains($0.doc_name) }.map { Page(document: $0.doc_name, page: $0.evidence_page_num) })
    }.filter { !$0.evidence.isEmpty }
    return FinanceBench(filings: filings, questions: questions)
  }

  /// The part a company belongs to: companies sorted by name alternate tuning, held-apart.
  public func part(of company: String) -> Part {
    let companies = Set(filings.map(\.company) + questions.map(\.company)).sorted()
    let index = companies.firstIndex(of: company) ?? 0
    return index % 2 == 0 ? .tuning : .heldApart
  }

  /// The questions of one part.
  public func questions(in part: Part) -> [Question] {
    questions.filter { self.part(of: $0.company) == part }
  }
}

/// Maps a chunk's byte range in a text file to the form-feed pages it covers, for files whose
/// chunks carry no page (an index built before text files had pages) and to check those that do.
public struct FormFeedPages: Sendable {
  /// Byte offsets of every form feed in the file, ascending.
  public let offsets: [Int]

  public init(url: URL) throws {
    let data = try Data(contentsOf: url)
    offsets = data.withUnsafeBytes { raw in raw.indices.filter { raw[$0] == 0x0C } }
  }

  /// 0-based pages touched by bytes `range` (a page starts after each form feed).
  public func pages(of range: Range<Int>) -> ClosedRange<Int> {
    func page(at offset: Int) -> Int {
      var low = 0
      var high = offsets.count
      while low < high {
        let mid = (low + high) / 2
        if offsets[mid] < offset { low = mid + 1 } else { high = mid }
      }
      return low
    }
    let first = page(at: range.lowerBound)
    return first...max(first, page(at: max(range.lowerBound, range.upperBound - 1)))
  }
}

/// Evidence-page recall of one retrieval setting over FinanceBench questions.
public struct PageRecall: Sendable, Codable, Hashable {
  public var questions = 0
  /// Questions with an evidence page in the first 1, 5, 10 chunks.
  public var top1 = 0
  public var top5 = 0
  public var top10 = 0
  /// Questions whose gold filing is the filing of the first chunk.
  public var documentTop1 = 0

  public init() {}

  /// Adds one question: `hitRank` is the 0-based rank of the first chunk on an evidence page.
  public mutating func add(hitRank: Int?, firstDocumentRight: Bool) {
    questions += 1
    if let r = hitRank {
      if r < 1 { top1 += 1 }
      if r < 5 { top5 += 1 }
      if r < 10 { top10 += 1 }
    }
    if firstDocumentRight { documentTop1 += 1 }
  }

  public func fraction(_ count: Int) -> Double { questions == 0 ? 0 : Double(count) / Double(questions) }
}

extension FinanceBench {
  /// Runs `questions` through `search` (the first 10 chunks of each) and scores evidence pages.
  public func pageRecall(
    of questions: [Question], search: (String) throws -> [SearchResult], progress: (Int) -> Void = { _ in }
  ) throws -> PageRecall {
    var pages = EvidencePages()
    var recall = PageRecall()
    for (index, question) in questions.enumerated() {
      let results = Array(try search(question.text).prefix(10))
      let firstDocument = results.first.map { EvidencePages.documentName(of: $0) }
      recall.add(
        hitRank: try pages.rank(of: question, in: results),
        firstDocumentRight: firstDocument.map { name in question.evidence.contains { $0.document == name } } ?? false)
      progress(index + 1)
    }
    return recall
  }
}

/// Finds the first retrieved chunk that lies on one of a question's evidence pages.
///
/// A chunk's pages are its `span.page` when it has one, otherwise those its byte range covers
/// in the file (so indexes whose chunks carry no page can be scored the same way); the form
/// feeds of each file are read once.
public struct EvidencePages: Sendable {
  var pagesByFile: [String: FormFeedPages] = [:]

  public init() {}

  /// The 0-based rank of the first of `results` on an evidence page of `question`; nil when
  /// none is.
  /// - Throws: when a file without stored pages cannot be read.
  public mutating func rank(of question: FinanceBench.Question, in results: [SearchResult]) throws -> Int? {
    let gold = Set(question.evidence)
    let goldDocuments = Set(question.evidence.map(\.document))
    for (rank, result) in results.enumerated() {
      let name = Self.documentName(of: result)
      guard goldDocuments.contains(name) else { continue }
      let covered: ClosedRange<Int>
      if let page = result.chunk.span.page {
        covered = (page - 1)...(page - 1)
      } else {
        let path = result.chunk.span.path
        let pages = try pagesByFile[path] ?? FormFeedPages(url: URL(fileURLWithPath: path))
        pagesByFile[path] = pages
        covered = pages.pages(of: result.chunk.span.byteRange)
      }
      if covered.contains(where: { gold.contains(FinanceBench.Page(document: name, page: $0)) }) { return rank }
    }
    return nil
  }

  /// A result's filing: its file name without the extension.
  static func documentName(of result: SearchResult) -> String {
    URL(fileURLWithPath: result.chunk.span.path).deletingPathExtension().lastPathComponent
  }
}

extension FinanceBench {
  /// Ingests and embeds the filings into `collection`, reusing vectors from the cache file at
  /// `cacheURL` (the text of a filing does not change between runs, so re-runs embed nothing).
  public func index(
    into collection: Collection, encoder: SentenceEncoder, cacheURL: URL, progress: (SyncProgress) -> Void = { _ in }
  ) throws -> SyncReport {
    let cache = try VectorCache(url: cacheURL)
    return try collection.sync(paths: filings.map(\.url), encoder: encoder, cache: cache, progress: progress)
  }
}
