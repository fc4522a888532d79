public import Foundation

/// A retrieval test collection: documents, queries, and graded relevance judgements.
///
/// Each document becomes one file when the collection is materialised, so a ranked list of
/// chunks maps back to documents through their paths.
public struct RetrievalDataset: Sendable {
  /// One document: a stable name (used as its file name) and its text.
  public struct Document: Sendable, Hashable {
    public var name: String
    public var text: String

    public init(name: String, text: String) {
      self.name = name
      self.text = text
    }
  }

  /// One query and the documents judged relevant to it, with graded gains (> 0).
  public struct Query: Sendable, Hashable {
    public var id: String
    public var text: String
    /// Document name → gain (higher is more relevant).
    public var relevant: [String: Double]

    public init(id: String, text: String, relevant: [String: Double]) {
      self.id = id
      self.text = text
      self.relevant = relevant
    }
  }

  public var name: String
  public var documents: [Document]
  public var queries: [Query]

  public init(name: String, documents: [Document], queries: [Query]) {
    self.name = name
    self.documents = documents
    self.queries = queries
  }

  /// The queries at even positions (for fitting) and at odd positions (for judging the fit),
  /// each over all the documents.
  public func splitQueries() -> (tuning: RetrievalDataset, heldApart: RetrievalDataset) {
    var tuning = self, heldApart = self
    tuning.queries = queries.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
    heldApart.queries = queries.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
    return (tuning, heldApart)
  }

  /// Writes every document as `<folder>/<name>.txt`.
  public func materialise(in folder: URL) throws {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for document in documents {
      try Data(document.text.utf8).write(to: folder.appendingPathComponent(document.name + ".txt"))
    }
  }
}

/// Why a dataset could not be read.
public struct DatasetError: Error, CustomStringConvertible, Sendable {
  public var path: String
  public var reason: String
  public var description: String { "\(path): \(reason)" }
}

extension RetrievalDataset {
  /// SQuAD v1.1 JSON as a retrieval task: every paragraph is a passage, and each question's
  /// gold passage is the paragraph it was asked about (gain 1).
  public static func squad(at url: URL) throws -> RetrievalDataset {
    struct File: Decodable {
      struct Article: Decodable {
        var title: String
        var paragraphs: [Paragraph]
      }
      struct Paragraph: Decodable {
        var context: String
        var qas: [QA]
      }
      struct QA: Decodable {
        var id: String
        var question: String
      }
      var data: [Article]
    }
    let file: File
    do {
      file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    } catch {
      let detail = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ").prefix(200)
      throw DatasetError(path: url.path, reason: "not SQuAD v1.1 JSON (\(detail))")
    }
    var documents: [Document] = []
    var queries: [Query] = []
    for (a, article) in file.data.enumerated() {
      for (p, paragraph) in article.paragraphs.enumerated() {
        let name = String(format: "a%02d-p%03d", a, p)
        documents.append(Document(name: name, text: paragraph.context))
        for qa in paragraph.qas {
          queries.append(Query(id: qa.id, text: qa.question, relevant: [name: 1]))
        }
      }
    }
    return RetrievalDataset(name: "squad", documents: documents, queries: queries)
  }

  /// Cranfield 1400 in SMART format (`cran.all.1400`, `cran.qry`, `cranqrel`).
  ///
  /// qrels name queries by ordinal (1…225), not by their `.I` number. Grades follow Cleverdon:
  /// 1 = complete answer … 4 = minimal interest, −1 = not relevant; the gain is 5 − grade, so
  /// 1 → 4 and 4 → 1, and −1 is left out.
  public static func cranfield(folder: URL) throws -> RetrievalDataset {
    func fields(_ url: URL) throws -> [[Character: String]] {
      guard let raw = try? String(contentsOf: url, encoding: .utf8) else {
        throw DatasetError(path: url.path, reason: "cannot read")
      }
      // The SMART files use CRLF; a Swift Character keeps "\r\n" whole, so normalise first.
      let text = raw.replacingOccurrences(of: "\r\n", with: "\n")
      var records: [[Character: String]] = []
      var current: [Character: String] = [:]
      var field: Character?
      for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("."), line.count >= 2, let f = line.dropFirst().first, line.count == 2 || line.dropFirst(2).first == " " {
          if f == "I" {
            if !current.isEmpty { records.append(current) }
            current = ["I": line.dropFirst(2).trimmingCharacters(in: .whitespaces)]
            field = nil
          } else {
            field = f
          }
        } else if let field {
          current[field, default: ""] += line + "\n"
        }
      }
      if !current.isEmpty { records.append(current) }
      return records
    }
    let docs = try fields(folder.appendingPathComponent("cran.all.1400"))
    let qry = try fields(folder.appendingPathComponent("cran.qry"))
    let qrelsURL = folder.appendingPathComponent("cranqrel")
    guard let qrelText = try? String(contentsOf: qrelsURL, encoding: .utf8) else {
      throw DatasetError(path: qrelsURL.path, reason: "cannot read")
    }
    let documents = docs.map { d in
      Document(name: "cran-\(d["I"] ?? "")", text: ((d["T"] ?? "") + "\n" + (d["W"] ?? "")).trimmingCharacters(in: .whitespacesAndNewlines))
    }
    var relevant: [Int: [String: Double]] = [:]
    for line in qrelText.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n") {
      let parts = line.split(separator: " ").compactMap { Int($0) }
      guard parts.count >= 3 else { continue }
      let grade = parts[2]
      guard (1...4).contains(grade) else { continue }
      relevant[parts[0], default: [:]]["cran-\(parts[1])"] = Double(5 - grade)
    }
    let queries = qry.enumerated().compactMap { index, q -> Query? in
      guard let rel = relevant[index + 1], !rel.isEmpty else { return nil }
      return Query(id: "\(index + 1)", text: (q["W"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines), relevant: rel)
    }
    return RetrievalDataset(name: "cranfield", documents: documents, queries: queries)
  }
}
