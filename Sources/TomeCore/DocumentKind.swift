/// The loader family a file belongs to. It decides how text is extracted and segmented.
public enum DocumentKind: String, Sendable, Hashable, Codable, CaseIterable {
  case text
  case markdown
  case restructuredText = "rst"
  case html
  /// Source code: kept verbatim; blank-line blocks are segments.
  case code
  case pdf
}
