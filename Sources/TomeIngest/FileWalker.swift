public import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A regular file found by a walk, with what the incremental check needs.
public struct DiscoveredFile: Sendable, Hashable {
  /// Display path: the root as the user gave it joined with the path below it (`docs/a.md`);
  /// absolute when the root was absolute. Chunk spans carry this path.
  public var path: String
  /// Absolute location of the file.
  public var url: URL
  /// Size in bytes when walked.
  public var size: Int
  /// Modification time in nanoseconds since the Unix epoch, when walked.
  public var modificationTime: Int64

  public init(path: String, url: URL, size: Int, modificationTime: Int64) {
    self.path = path
    self.url = url
    self.size = size
    self.modificationTime = modificationTime
  }

  /// Describes a single existing file (for callers that bypass the walker, and tests).
  ///
  /// - Throws: ``IngestError`` (vanished or unreadable) when the path cannot be stat'ed.
  public init(path: String) throws(IngestError) {
    guard let info = FileStatus(path: path, followLinks: true) else {
      let code = errno
      throw code == ENOENT ? .vanished(path) : .cannotRead(path, cause: errnoDescription(code))
    }
    self.init(
      path: path, url: URL(fileURLWithPath: path).standardizedFileURL, size: info.size,
      modificationTime: info.modificationTime)
  }
}

/// Something a walk met but did not take, and why. Paths pruned by ignore rules are not reported.
public struct SkippedPath: Sendable, Hashable, CustomStringConvertible {
  /// Why a path was not taken.
  public enum Reason: Sendable, Hashable, CustomStringConvertible {
    /// A symlink to a directory that is one of its own ancestors.
    case symlinkLoop(target: String)
    /// A symlink whose target does not exist.
    case danglingSymlink
    /// The directory exists but could not be listed.
    case unreadableDirectory(cause: String)
    /// A FIFO, socket or device: not a document.
    case notRegularFile(type: String)
    /// A root that does not exist or cannot be stat'ed.
    case missing(cause: String)

    public var description: String {
      switch self {
      case .symlinkLoop(let target): "symlink loop (points back to ancestor \(target)), skipped"
      case .danglingSymlink: "dangling symlink, skipped"
      case .unreadableDirectory(let cause): "cannot list directory: \(cause)"
      case .notRegularFile(let type): "not a regular file (\(type)), skipped"
      case .missing(let cause): "cannot access: \(cause)"
      }
    }
  }

  /// Display path of the skipped entry.
  public var path: String
  public var reason: Reason

  public init(path: String, reason: Reason) {
    self.path = path
    self.reason = reason
  }

  public var description: String { "\(path): \(reason)" }

  /// The same finding as a warning, for pipelines that log or store warnings in one place.
  public var warning: IngestWarning { IngestWarning(path: path, message: reason.description) }
}

/// The outcome of a walk.
public struct WalkResult: Sendable, Hashable {
  /// Files to index, sorted by display path, one per real path.
  public var files: [DiscoveredFile]
  /// What was met and not taken, in the order it was met.
  public var skipped: [SkippedPath]
}

/// Walks roots (folders or single files) and lists the regular files to index.
///
/// Symlinks to files and folders are followed. Folder loops are detected by the (device, inode)
/// of the folders on the current path and reported once per offending link; a folder reached
/// again through a different link (an alias, not a loop) is not walked twice. Files reached
/// through several paths are kept once, under the smallest display path.
public struct FileWalker: Sendable {
  public var roots: [String]
  public var rules: IgnoreRules

  public init(roots: [String], rules: IgnoreRules = IgnoreRules()) {
    self.roots = roots
    self.rules = rules
  }

  /// Walks every root. Never throws: everything not taken is in ``WalkResult/skipped``.
  public func walk() -> WalkResult {
    var state = WalkState()
    for root in roots {
      walk(root: root, into: &state)
    }
    var seenRealPaths = Set<String>()
    let files = state.files.sorted { $0.file.path < $1.file.path }.compactMap { entry -> DiscoveredFile? in
      seenRealPaths.insert(entry.realPath).inserted ? entry.file : nil
    }
    return WalkResult(files: files, skipped: state.skipped)
  }

  private struct FoundFile {
    var file: DiscoveredFile
    var realPath: String
  }

  private struct WalkState {
    var files: [FoundFile] = []
    var skipped: [SkippedPath] = []
    var visitedDirectories = Set<FileStatus.Identity>()
  }

  private func walk(root: String, into state: inout WalkState) {
    guard let info = FileStatus(path: root, followLinks: true) else {
      let code = errno
      if let link = FileStatus(path: root, followLinks: false), link.isSymlink {
        state.skipped.append(SkippedPath(path: root, reason: .danglingSymlink))
      } else {
        state.skipped.append(SkippedPath(path: root, reason: .missing(cause: errnoDescription(code))))
      }
      return
    }
    let absoluteRoot = URL(fileURLWithPath: root).standardizedFileURL
    if info.isDirectory {
      var ancestors = Set<FileStatus.Identity>()
      walkDirectory(
        display: displayPrefix(root), absolute: absoluteRoot, relative: "", info: info,
        ancestors: &ancestors, state: &state)
    } else {
      // An explicitly named file is always taken (ignore rules are for what a walk discovers).
      take(display: root, absolute: absoluteRoot, info: info, state: &state)
    }
  }

  /// The root as a prefix for display paths: `docs/` for `docs` or `docs/`, empty for `.`.
  private func displayPrefix(_ root: String) -> String {
    if root == "." || root == "./" { return "" }
    return root.hasSuffix("/") ? root : root + "/"
  }

  private func walkDirectory(
    display: String, absolute: URL, relative: String, info: FileStatus,
    ancestors: inout Set<FileStatus.Identity>, state: inout WalkState
  ) {
    state.visitedDirectories.insert(info.identity)
    ancestors.insert(info.identity)
    defer { ancestors.remove(info.identity) }

    let names: [String]
    switch listDirectory(absolute.path) {
    case .success(let listed):
      names = listed.sorted()
    case .failure(let failure):
      let shown = display.isEmpty ? "." : String(display.dropLast())
      state.skipped.append(SkippedPath(path: shown, reason: .unreadableDirectory(cause: failure.cause)))
      return
    }
    for name in names where !rules.prunes(name: name) {
      let childDisplay = display + name
      let childRelative = relative.isEmpty ? name : relative + "/" + name
      let childAbsolute = absolute.appendingPathComponent(name)
      guard let link = FileStatus(path: childAbsolute.path, followLinks: false) else {
        state.skipped.append(SkippedPath(path: childDisplay, reason: .missing(cause: errnoDescription(errno))))
        continue
      }
      var target = link
      if link.isSymlink {
        guard let followed = FileStatus(path: childAbsolute.path, followLinks: true) else {
          state.skipped.append(SkippedPath(path: childDisplay, reason: .danglingSymlink))
          continue
        }
        target = followed
      }
      if target.isDirectory {
        if rules.excludes(directory: childRelative) { continue }
        if ancestors.contains(target.identity) {
          let resolved = childAbsolute.resolvingSymlinksInPath().path
          state.skipped.append(SkippedPath(path: childDisplay, reason: .symlinkLoop(target: resolved)))
          continue
        }
        // Reached before through another link: its files are already taken.
        if state.visitedDirectories.contains(target.identity) { continue }
        walkDirectory(
          display: childDisplay + "/", absolute: childAbsolute, relative: childRelative, info: target,
          ancestors: &ancestors, state: &state)
      } else if target.isRegularFile {
        guard rules.accepts(file: childRelative) else { continue }
        take(display: childDisplay, absolute: childAbsolute, info: target, state: &state)
      } else {
        state.skipped.append(SkippedPath(path: childDisplay, reason: .notRegularFile(type: target.typeName)))
      }
    }
  }

  private func take(display: String, absolute: URL, info: FileStatus, state: inout WalkState) {
    guard info.isRegularFile else {
      state.skipped.append(SkippedPath(path: display, reason: .notRegularFile(type: info.typeName)))
      return
    }
    let real = realPath(absolute.path) ?? absolute.path
    state.files.append(
      FoundFile(
        file: DiscoveredFile(path: display, url: absolute, size: info.size, modificationTime: info.modificationTime),
        realPath: real))
  }

  private struct ListingError: Error {
    var cause: String
  }

  /// Entry names of a directory (without `.` and `..`), or the `strerror` text of why not.
  /// POSIX rather than FileManager, so the cause is the system's own words.
  private func listDirectory(_ path: String) -> Result<[String], ListingError> {
    guard let handle = opendir(path) else { return .failure(ListingError(cause: errnoDescription(errno))) }
    defer { closedir(handle) }
    var names: [String] = []
    while true {
      errno = 0
      guard let entry = readdir(handle) else {
        if errno != 0 { return .failure(ListingError(cause: errnoDescription(errno))) }
        break
      }
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return .success(names)
  }
}

/// The few `stat` fields the walker and loaders need, without C types in the API.
struct FileStatus {
  struct Identity: Hashable {
    var device: UInt64
    var inode: UInt64
  }

  var identity: Identity
  var mode: UInt32
  var size: Int
  var modificationTime: Int64

  /// Stats `path`; nil with `errno` set when it cannot.
  init?(path: String, followLinks: Bool) {
    var st = stat()
    let rc = followLinks ? stat(path, &st) : lstat(path, &st)
    guard rc == 0 else { return nil }
    self.init(st)
  }

  /// Stats an open descriptor.
  init?(descriptor: Int32) {
    var st = stat()
    guard fstat(descriptor, &st) == 0 else { return nil }
    self.init(st)
  }

  private init(_ st: stat) {
    identity = Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    mode = UInt32(st.st_mode)
    size = Int(st.st_size)
    #if canImport(Darwin)
      modificationTime = Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
    #else
      modificationTime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    #endif
  }

  private var type: UInt32 { mode & UInt32(S_IFMT) }
  var isDirectory: Bool { type == UInt32(S_IFDIR) }
  var isRegularFile: Bool { type == UInt32(S_IFREG) }
  var isSymlink: Bool { type == UInt32(S_IFLNK) }

  var typeName: String {
    switch type {
    case UInt32(S_IFIFO): "FIFO"
    case UInt32(S_IFSOCK): "socket"
    case UInt32(S_IFCHR): "character device"
    case UInt32(S_IFBLK): "block device"
    case UInt32(S_IFDIR): "directory"
    case UInt32(S_IFLNK): "symlink"
    default: "unknown type"
    }
  }
}

/// `strerror` text for an errno value ("Permission denied").
func errnoDescription(_ code: Int32) -> String {
  String(cString: strerror(code))
}

/// The canonical path with every symlink resolved, or nil when it cannot be resolved.
func realPath(_ path: String) -> String? {
  guard let resolved = realpath(path, nil) else { return nil }
  defer { free(resolved) }
  return String(cString: resolved)
}
