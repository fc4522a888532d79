package import Foundation
import Glibc

extension FileHandle {
  /// Every byte up to end of file, read with read(2).
  ///
  /// Foundation's `readDataToEndOfFile()` traps on any read error, and a full CI run once
  /// crashed the whole test process in it with EAGAIN on a pipe: some concurrent test had
  /// left the shared pipe description non-blocking. Here EINTR is retried, EAGAIN waits for
  /// data with poll(2), and another error ends the read with what was read.
  package func readAll() -> Data {
    let descriptor = fileDescriptor
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
      if count > 0 {
        data.append(contentsOf: buffer[..<count])
      } else if count == 0 {
        return data
      } else if errno == EINTR {
        continue
      } else if errno == EAGAIN || errno == EWOULDBLOCK {
        var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&waiting, 1, 1000)
      } else {
        return data
      }
    }
  }
}
