#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The check every module makes before it opens a path a user named (issue 11).
///
/// Opening a FIFO for reading blocks until a writer appears, so a model, vocabulary, batch
/// input or template path that names a FIFO hung Tome forever; a directory or a device gives
/// a confusing error later. The check uses `stat` (following links), which never blocks, and
/// says what the path is instead. It is the one file-system call in TomeCore: a `stat`, no
/// read, shared because every loader needs it.
public enum RegularFile {
  /// Nil when `path` is a regular file (after following links); else why it cannot be read
  /// as one, in a few words (`does not exist`, `is a FIFO`, `is a directory`, …).
  public static func problem(_ path: String) -> String? {
    var st = stat()
    guard stat(path, &st) == 0 else {
      let e = errno
      if e == ENOENT { return "does not exist" }
      return "cannot be read (\(String(cString: strerror(e))))"
    }
    switch st.st_mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFIFO: return "is a FIFO, not a regular file"
    case S_IFDIR: return "is a directory, not a file"
    case S_IFCHR, S_IFBLK: return "is a device, not a regular file"
    case S_IFSOCK: return "is a socket, not a regular file"
    default: return "is not a regular file"
    }
  }
}
