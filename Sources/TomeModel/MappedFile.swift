#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TomeCore

/// A read-only memory mapping of a whole file.
///
/// `@unchecked Sendable`: the mapping is created once, never written (PROT_READ) and unmapped
/// only in `deinit`, so sharing the base pointer across threads is safe.
final class MappedFile: @unchecked Sendable {
  let path: String
  let base: UnsafeRawPointer
  let count: Int

  init(path: String) throws(ModelError) {
    self.path = path
    // Checked before opening: opening a FIFO for reading waits for a writer (issue 11).
    if let problem = RegularFile.problem(path) { throw ModelError(.io, file: path, problem) }
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever;
    // the regular-file check below then refuses it. It changes nothing for regular files.
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else {
      throw ModelError(.io, file: path, "cannot open (\(String(cString: strerror(errno))))")
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      throw ModelError(.io, file: path, "cannot stat (\(String(cString: strerror(errno))))")
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw ModelError(.io, file: path, "not a regular file") }
    let size = Int(st.st_size)
    guard size > 0 else { throw ModelError(.truncated, file: path, "file is empty") }
    guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      throw ModelError(.io, file: path, "cannot map \(size) bytes (\(String(cString: strerror(errno))))")
    }
    base = UnsafeRawPointer(p)
    count = size
  }

  deinit { munmap(UnsafeMutableRawPointer(mutating: base), count) }
}
