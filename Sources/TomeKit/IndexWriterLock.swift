public import Foundation

/// An exclusive, per-index lock held while a process writes an index (ingest, embedding).
///
/// Two `tome ingest` runs on one index used to both do all the work, one re-writing what
/// the other had just indexed (issue 11). The lock is `flock(2)` on `Indexes/<name>/writer.lock`:
/// the kernel releases it when the process ends, however it ends (kill -9 included), so a
/// stale file never blocks anyone. The file holds the holder's pid, command and start time,
/// so the refusal can say who is writing.
public final class IndexWriterLock: Sendable {
  /// Name of the lock file inside an index folder.
  public static let fileName = "writer.lock"

  private let fd: Int32

  /// Takes the lock of the index in `directory` without waiting.
  ///
  /// - Parameter purpose: what the holder is doing, recorded for whoever is refused.
  /// - Throws: `IndexLockedError` naming the holder when another process holds it.
  public init(directory: URL, purpose: String) throws {
    let path = directory.appendingPathComponent(Self.fileName).path
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard fd >= 0 else {
      throw IndexLockedError(directory: directory.path, holder: nil, reason: String(cString: strerror(errno)))
    }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      let holder = Self.readHolder(fd)
      close(fd)
      throw IndexLockedError(directory: directory.path, holder: holder, reason: nil)
    }
    let formatter = ISO8601DateFormatter()
    let text = "pid \(getpid()), \(purpose), since \(formatter.string(from: Date()))\n"
    _ = ftruncate(fd, 0)
    _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    self.fd = fd
  }

  private static func readHolder(_ fd: Int32) -> String? {
    var buffer = [UInt8](repeating: 0, count: 512)
    let n = pread(fd, &buffer, buffer.count, 0)
    guard n > 0 else { return nil }
    let text = String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return text.isEmpty ? nil : text
  }

  deinit {
    _ = ftruncate(fd, 0)
    flock(fd, LOCK_UN)
    close(fd)
  }
}

/// Another process is writing the index (or its lock file cannot be opened).
public struct IndexLockedError: Error, CustomStringConvertible, Sendable {
  public var directory: String
  /// What the holder recorded (`pid 123, tome ingest, since …`), when readable.
  public var holder: String?
  /// Why the lock file could not be opened, when that was the problem.
  public var reason: String?

  public var description: String {
    if let reason { return "cannot lock the index \(directory) for writing: \(reason)" }
    return "the index \(directory) is being written by another process (\(holder ?? "holder unknown")); wait for it to finish or stop it"
  }
}
