public import Foundation
import TomeCore

/// A prompt template: plain text with `{{name}}` placeholders.
public struct PromptTemplate: Sendable, Hashable {
  /// The file it was read from (for error messages).
  public var name: String
  public var text: String

  public init(name: String, text: String) {
    self.name = name
    self.text = text
  }

  /// The placeholder names used, in order of first use.
  public var placeholders: [String] {
    var names: [String] = []
    var rest = text[...]
    while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
      let name = String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces)
      if !names.contains(name) { names.append(name) }
      rest = rest[close.upperBound...]
    }
    return names
  }

  /// Fills every placeholder from `values`.
  ///
  /// - Throws: `ReasoningError.unknownPlaceholder` for a placeholder `values` lacks.
  public func render(_ values: [String: String]) throws -> String {
    for name in placeholders where values[name] == nil {
      throw ReasoningError.unknownPlaceholder(template: self.name, name: name)
    }
    var out = ""
    var rest = text[...]
    while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
      out += rest[..<open.lowerBound]
      let name = String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces)
      out += values[name] ?? ""
      rest = rest[close.upperBound...]
    }
    out += rest
    return out
  }
}

/// Prompt templates read at run time from a folder (`Prompts/` in the repository, or
/// `--prompts DIR`), one file per kind of model call, so prompts change without a rebuild.
public struct PromptLibrary: Sendable, Hashable {
  public var directory: URL

  public init(directory: URL) {
    self.directory = directory
  }

  /// Reads `name` (e.g. `rag-answer.txt`).
  ///
  /// - Throws: `ReasoningError.missingTemplate` naming the file.
  public func template(_ name: String) throws -> PromptTemplate {
    let url = directory.appendingPathComponent(name)
    if let problem = RegularFile.problem(url.path), problem != "does not exist" {
      throw ReasoningError.unreadableTemplate(path: url.path, reason: problem)
    }
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw ReasoningError.missingTemplate(path: url.path)
    }
    return PromptTemplate(name: url.path, text: String(decoding: data, as: UTF8.self))
  }
}
