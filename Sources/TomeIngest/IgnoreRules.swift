/// Which files a walk picks up.
///
/// Names in ``ignoredNames`` and (by default) hidden entries are pruned silently: they are
/// never content the user meant to index. ``include`` and ``exclude`` are matched against the
/// path relative to the root it was found under. A root that names a single file is always
/// taken: the user asked for it explicitly.
public struct IgnoreRules: Sendable, Hashable {
  /// The default pruned names: version control, SwiftPM build folders, JavaScript packages.
  public static let defaultIgnoredNames: [GlobPattern] = [".git", ".build*", "node_modules"]

  /// When true (the default), files and folders whose name starts with `.` are skipped.
  public var skipsHidden: Bool
  /// Single-name patterns (matched against one file or folder name) that are always skipped.
  public var ignoredNames: [GlobPattern]
  /// When non-empty, a file must match at least one of these to be taken.
  public var include: [GlobPattern]
  /// Files (and folders, by their relative path) matching any of these are skipped.
  public var exclude: [GlobPattern]

  public init(
    include: [GlobPattern] = [], exclude: [GlobPattern] = [], skipsHidden: Bool = true,
    ignoredNames: [GlobPattern] = IgnoreRules.defaultIgnoredNames
  ) {
    self.include = include
    self.exclude = exclude
    self.skipsHidden = skipsHidden
    self.ignoredNames = ignoredNames
  }

  /// True when an entry with this name is pruned before anything else is looked at.
  func prunes(name: String) -> Bool {
    if skipsHidden && name.hasPrefix(".") { return true }
    return ignoredNames.contains { $0.matches(name) }
  }

  /// True when a directory at `relativePath` is excluded as a whole.
  func excludes(directory relativePath: String) -> Bool {
    exclude.contains { $0.matches(relativePath) }
  }

  /// True when a file at `relativePath` passes include and exclude.
  func accepts(file relativePath: String) -> Bool {
    if exclude.contains(where: { $0.matches(relativePath) }) { return false }
    return include.isEmpty || include.contains { $0.matches(relativePath) }
  }
}
