/// Which files a walk picks up.
///
/// Names in ``ignoredNames`` and (by default) hidden entries are pruned silently: they are
/// never content the user meant to index, so they are not reported as skipped. ``include`` and
/// ``exclude`` are glob patterns (see ``GlobPattern``) matched against the path relative to the
/// root it was found under. A root that names a single file is always taken: the user asked
/// for it explicitly.
public struct IgnoreRules: Sendable, Hashable {
  /// The default pruned names: version control, SwiftPM build folders, JavaScript packages.
  public static let defaultIgnoredNames: [String] = [".git", ".build*", "node_modules"]

  /// When true (the default), files and folders whose name starts with `.` are skipped.
  public var skipsHidden: Bool
  /// Single-name patterns (matched against one file or folder name) that are always skipped.
  public var ignoredNames: [String] { didSet { ignoredPatterns = ignoredNames.map { GlobPattern($0) } } }
  /// When non-empty, a file must match at least one of these to be taken (`*.md`, `docs/**/*.txt`).
  public var include: [String] { didSet { includePatterns = include.map { GlobPattern($0) } } }
  /// Files (and folders, by their relative path) matching any of these are skipped (`**/test_*`).
  public var exclude: [String] { didSet { excludePatterns = exclude.map { GlobPattern($0) } } }

  // Compiled once; the walker matches every entry against them.
  private var ignoredPatterns: [GlobPattern]
  private var includePatterns: [GlobPattern]
  private var excludePatterns: [GlobPattern]

  public init(
    include: [String] = [], exclude: [String] = [], skipsHidden: Bool = true,
    ignoredNames: [String] = IgnoreRules.defaultIgnoredNames
  ) {
    self.include = include
    self.exclude = exclude
    self.skipsHidden = skipsHidden
    self.ignoredNames = ignoredNames
    ignoredPatterns = ignoredNames.map { GlobPattern($0) }
    includePatterns = include.map { GlobPattern($0) }
    excludePatterns = exclude.map { GlobPattern($0) }
  }

  /// True when an entry with this name is pruned before anything else is looked at.
  func prunes(name: String) -> Bool {
    if skipsHidden && name.hasPrefix(".") { return true }
    return ignoredPatterns.contains { $0.matches(name) }
  }

  /// True when a directory at `relativePath` is excluded as a whole.
  func excludes(directory relativePath: String) -> Bool {
    excludePatterns.contains { $0.matches(relativePath) }
  }

  /// True when a file at `relativePath` passes include and exclude.
  func accepts(file relativePath: String) -> Bool {
    if excludePatterns.contains(where: { $0.matches(relativePath) }) { return false }
    return includePatterns.isEmpty || includePatterns.contains { $0.matches(relativePath) }
  }
}
