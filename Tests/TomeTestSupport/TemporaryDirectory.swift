package import Foundation

/// A fresh directory under the system temporary folder, removed when the value is released.
package final class TemporaryDirectory: Sendable {
  package let url: URL

  package init(_ label: String = "tome-test") throws {
    url = FileManager.default.temporaryDirectory
      .appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  /// Writes `contents` to `relativePath` (creating folders) and returns its URL.
  @discardableResult
  package func write(_ relativePath: String, _ contents: String) throws -> URL {
    try write(relativePath, data: Data(contents.utf8))
  }

  /// Writes raw bytes to `relativePath` (creating folders) and returns its URL.
  @discardableResult
  package func write(_ relativePath: String, data: Data) throws -> URL {
    let file = url.appendingPathComponent(relativePath)
    try FileManager.default.createDirectory(
      at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try data.write(to: file)
    return file
  }

  deinit { try? FileManager.default.removeItem(at: url) }
}
