/// A shell-style path pattern: `*` (any run of characters within one path segment), `**` (a
/// whole segment meaning zero or more segments), `?` (one character), `[abc]`, `[a-z]`,
/// `[!abc]`/`[^abc]`.
///
/// A pattern without `/` matches the last segment at any depth (as in `.gitignore`), so `*.md`
/// selects every Markdown file; a pattern with `/` is matched against the whole path relative
/// to its root, so `docs/*.md` only selects files directly in `docs`.
public struct GlobPattern: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
  /// The pattern as written.
  public let pattern: String
  private let segments: [[Character]]
  private let matchesBasenameOnly: Bool

  public init(_ pattern: String) {
    self.pattern = pattern
    var trimmed = Substring(pattern)
    while trimmed.hasPrefix("./") { trimmed = trimmed.dropFirst(2) }
    if trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
    matchesBasenameOnly = !trimmed.contains("/")
    segments = trimmed.split(separator: "/", omittingEmptySubsequences: true).map { Array($0) }
  }

  public init(stringLiteral value: String) { self.init(value) }

  public var description: String { pattern }

  /// True when `path` (relative, `/`-separated) matches the pattern.
  public func matches(_ path: String) -> Bool {
    let parts = path.split(separator: "/", omittingEmptySubsequences: true).map { Array($0) }
    if matchesBasenameOnly {
      guard let last = parts.last, let only = segments.first else { return false }
      return only == ["*", "*"] || Self.matchSegment(only[...], last[...])
    }
    return Self.matchSegments(segments[...], parts[...])
  }

  private static func matchSegments(_ pattern: ArraySlice<[Character]>, _ path: ArraySlice<[Character]>) -> Bool {
    guard let first = pattern.first else { return path.isEmpty }
    if first == ["*", "*"] {
      // `**` absorbs zero or more whole segments.
      var rest = path
      while true {
        if matchSegments(pattern.dropFirst(), rest) { return true }
        guard !rest.isEmpty else { return false }
        rest = rest.dropFirst()
      }
    }
    guard let segment = path.first, matchSegment(first[...], segment[...]) else { return false }
    return matchSegments(pattern.dropFirst(), path.dropFirst())
  }

  /// Matches one segment with `*`, `?` and bracket classes (iterative, with one backtrack point
  /// for the last `*`, so it runs in linear-ish time on ordinary names).
  private static func matchSegment(_ pattern: ArraySlice<Character>, _ name: ArraySlice<Character>) -> Bool {
    var p = pattern.startIndex
    var n = name.startIndex
    var starP: Int? = nil
    var starN = 0
    while n < name.endIndex {
      if p < pattern.endIndex {
        let c = pattern[p]
        if c == "*" {
          starP = p
          starN = n
          p += 1
          continue
        }
        if c == "?" {
          p += 1
          n += 1
          continue
        }
        if c == "[", let result = matchClass(pattern, at: p, name[n]) {
          if result.matched {
            p = result.next
            n += 1
            continue
          }
        } else if c == name[n] {
          p += 1
          n += 1
          continue
        }
      }
      guard let star = starP else { return false }
      p = star + 1
      starN += 1
      n = starN
    }
    while p < pattern.endIndex, pattern[p] == "*" { p += 1 }
    return p == pattern.endIndex
  }

  /// Evaluates a bracket class starting at `start`; nil when the bracket is unterminated
  /// (it is then taken literally).
  private static func matchClass(_ pattern: ArraySlice<Character>, at start: Int, _ c: Character) -> (matched: Bool, next: Int)? {
    var i = start + 1
    var negated = false
    if i < pattern.endIndex, pattern[i] == "!" || pattern[i] == "^" {
      negated = true
      i += 1
    }
    var matched = false
    var first = true
    while i < pattern.endIndex {
      let item = pattern[i]
      if item == "]" && !first { return (matched != negated, i + 1) }
      first = false
      if i + 2 < pattern.endIndex, pattern[i + 1] == "-", pattern[i + 2] != "]" {
        if item <= c && c <= pattern[i + 2] { matched = true }
        i += 3
      } else {
        if item == c { matched = true }
        i += 1
      }
    }
    return nil
  }
}
