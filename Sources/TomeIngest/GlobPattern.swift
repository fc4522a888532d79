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
    // `**/**` means the same as `**`; collapsing runs keeps matching linear in their number.
    var segments: [[Character]] = []
    for segment in trimmed.split(separator: "/", omittingEmptySubsequences: true).map({ Array($0) }) {
      if segment == ["*", "*"], segments.last == ["*", "*"] { continue }
      segments.append(segment)
    }
    self.segments = segments
  }

  /// Why `pattern` is not a usable glob, or nil when it is: an empty pattern, an unclosed or
  /// empty `[`, a reversed range such as `[z-a]`, or a trailing `/` (patterns match files;
  /// `dir/**` selects a folder's contents). Such patterns used to match nothing, silently.
  public static func problem(in pattern: String) -> String? {
    if pattern.allSatisfy(\.isWhitespace) { return "the pattern is empty" }
    if pattern.hasSuffix("/") {
      return "patterns match files, not folders; write \(pattern)** for everything under it"
    }
    let chars = Array(pattern)
    var i = 0
    while i < chars.count {
      guard chars[i] == "[" else {
        i += 1
        continue
      }
      var j = i + 1
      if j < chars.count, chars[j] == "!" || chars[j] == "^" { j += 1 }
      let classStart = j
      var closed = false
      while j < chars.count {
        if chars[j] == "]" && j > classStart {
          closed = true
          break
        }
        if j + 2 < chars.count, chars[j + 1] == "-", chars[j + 2] != "]" {
          if chars[j] > chars[j + 2] { return "the range \(chars[j])-\(chars[j + 2]) in [...] is reversed" }
          j += 3
        } else {
          j += 1
        }
      }
      if !closed { return "the [ at character \(i + 1) is never closed with ]" }
      i = j + 1
    }
    return nil
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

  /// Matches whole segments, `**` absorbing zero or more of them. Runs as a set of live
  /// pattern positions advanced one path segment at a time (an NFA), so several `**` cost
  /// O(pattern × path) segment matches instead of the exponential backtracking a recursive
  /// matcher needs on `a/**/b/**/c/**/…` against a deep path.
  private static func matchSegments(_ pattern: ArraySlice<[Character]>, _ path: ArraySlice<[Character]>) -> Bool {
    let p = Array(pattern)
    let globstar: [Character] = ["*", "*"]
    func closure(_ states: inout [Bool]) {
      for i in 0..<p.count where states[i] && p[i] == globstar { states[i + 1] = true }
    }
    var states = [Bool](repeating: false, count: p.count + 1)
    states[0] = true
    closure(&states)
    for segment in path {
      var next = [Bool](repeating: false, count: p.count + 1)
      var any = false
      for i in 0..<p.count where states[i] {
        if p[i] == globstar {
          next[i] = true
          any = true
        } else if matchSegment(p[i][...], segment[...]) {
          next[i + 1] = true
          any = true
        }
      }
      guard any else { return false }
      closure(&next)
      states = next
    }
    return states[p.count]
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
