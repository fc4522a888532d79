public import Foundation
public import TomeCore
import TomeStore

extension Collection {
  /// The documents `paths` name, for answering within them (`--document`, a batch line's
  /// `document`, `/v1/ask`'s `document`).
  ///
  /// A path names a document when it is the indexed (absolute) path, when it is that path
  /// relative to `workingDirectory`, or when it is a unique ending of one on a `/` boundary
  /// (`collection/Bed002.txt`, `Bed002.txt`).
  ///
  /// - Throws: `DocumentPathError` for the first path that names no document, names several,
  ///   or names one without indexed text.
  /// - Complexity: O(p·n) for p paths and n documents.
  public func documentIDs(forPaths paths: [String], workingDirectory: URL? = nil) throws -> Set<DocumentID> {
    Set(try documents(named: paths, workingDirectory: workingDirectory).compactMap(\.id))
  }

  /// The indexed documents `paths` name, in the order of `paths` (see `documentIDs`).
  /// - Throws: `DocumentPathError`.
  public func documents(named paths: [String], workingDirectory: URL? = nil) throws -> [DocumentRecord] {
    let documents = try store.documents()
    return try paths.map { path in
      let document = try Self.document(named: path, in: documents, workingDirectory: workingDirectory)
      guard document.id != nil, document.status == .indexed, document.chunkCount > 0 else {
        throw DocumentPathError.noText(path: path, document: document.path, status: document.status.rawValue)
      }
      return document
    }
  }

  /// The documents under `prefixes`: those whose path is a prefix or continues it after a `/`
  /// (`docs/admin` holds `docs/admin/a.txt`, not `docs/administration.txt`). A relative prefix
  /// is taken from `workingDirectory`.
  ///
  /// - Throws: `DocumentPathError.nothingUnder` for the first prefix that holds no document
  ///   with indexed text.
  /// - Complexity: O(p·n) for p prefixes and n documents.
  public func documentIDs(under prefixes: [String], workingDirectory: URL? = nil) throws -> Set<DocumentID> {
    let documents = try store.documents().filter { $0.status == .indexed && $0.chunkCount > 0 }
    var found: Set<DocumentID> = []
    for prefix in prefixes {
      let given = prefix.trimmingCharacters(in: .whitespaces)
      var folder = given.hasPrefix("/") ? given : Self.absolute(given, from: workingDirectory) ?? given
      while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
      let under = documents.filter { $0.path == folder || $0.path.hasPrefix(folder == "/" ? "/" : folder + "/") }
      guard !under.isEmpty else { throw DocumentPathError.nothingUnder(path: prefix) }
      found.formUnion(under.compactMap(\.id))
    }
    return found
  }

  /// A relative `path` made absolute from `workingDirectory` (nil without one).
  static func absolute(_ path: String, from workingDirectory: URL?) -> String? {
    workingDirectory?.appendingPathComponent(path).standardizedFileURL.path
  }

  static func document(named path: String, in documents: [DocumentRecord], workingDirectory: URL?) throws -> DocumentRecord {
    let given = path.trimmingCharacters(in: .whitespaces)
    guard !given.isEmpty else { throw DocumentPathError.unknown(path: path) }
    if let exact = documents.first(where: { $0.path == given }) { return exact }
    if !given.hasPrefix("/"), let absolute = Self.absolute(given, from: workingDirectory),
      let relative = documents.first(where: { $0.path == absolute })
    {
      return relative
    }
    var ending = given
    while ending.hasPrefix("./") { ending.removeFirst(2) }
    let suffix = ending.hasPrefix("/") ? ending : "/" + ending
    let matches = documents.filter { $0.path.hasSuffix(suffix) }
    switch matches.count {
    case 0: throw DocumentPathError.unknown(path: path)
    case 1: return matches[0]
    default: throw DocumentPathError.ambiguous(path: path, candidates: matches.map(\.path))
    }
  }
}

/// A document path that names no single indexed document.
public enum DocumentPathError: Error, CustomStringConvertible, Sendable, Hashable {
  /// No indexed path is, or ends with, the path.
  case unknown(path: String)
  /// Several indexed paths end with it.
  case ambiguous(path: String, candidates: [String])
  /// The document is known but has no chunks (skipped, failed or empty).
  case noText(path: String, document: String, status: String)
  /// No document with indexed text lies under the folder or path.
  case nothingUnder(path: String)

  public var description: String {
    switch self {
    case .unknown(let path):
      return "no document \"\(path)\" in the index; give its path as `tome status` lists it, or a unique end of it such as the file name"
    case .ambiguous(let path, let candidates):
      let shown = candidates.prefix(5).joined(separator: ", ") + (candidates.count > 5 ? ", … (\(candidates.count) in all)" : "")
      return "document \"\(path)\" is ambiguous: it matches \(shown); give more of the path"
    case .nothingUnder(let path):
      return "no indexed document under \"\(path)\"; `tome status` lists the indexed paths"
    case .noText(let path, let document, let status):
      return "document \"\(path)\" (\(document)) has no indexed text (\(status)); `tome status` says why"
    }
  }
}
