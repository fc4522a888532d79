public import Foundation

/// Where an index lives: a folder holding `tome.sqlite`.
///
/// `--index NAME` means `Indexes/NAME` under the current directory; anything with a slash, or
/// starting with `.` or `~`, is a path to the folder itself.
public struct IndexLocation: Sendable, Hashable, CustomStringConvertible {
  /// The index folder.
  public var directory: URL

  public init(directory: URL) {
    self.directory = directory.standardizedFileURL
  }

  /// Resolves a `--index` argument (or `TOME_INDEX`) relative to `workingDirectory`.
  public init(argument: String, workingDirectory: URL) {
    let expanded = (argument as NSString).expandingTildeInPath
    if expanded.contains("/") || expanded.hasPrefix(".") {
      self.init(directory: URL(fileURLWithPath: expanded, relativeTo: workingDirectory))
    } else {
      self.init(directory: workingDirectory.appendingPathComponent("Indexes").appendingPathComponent(expanded))
    }
  }

  /// The index `tome` uses when none is named: `$TOME_INDEX` when set and not empty (a name
  /// or a path, as for `--index`), else `Indexes/default` under `workingDirectory`.
  public static func `default`(environment: [String: String], workingDirectory: URL) -> IndexLocation {
    if let argument = environment["TOME_INDEX"], !argument.isEmpty { return IndexLocation(argument: argument, workingDirectory: workingDirectory) }
    return IndexLocation(argument: "default", workingDirectory: workingDirectory)
  }

  public var description: String { directory.path }
}
