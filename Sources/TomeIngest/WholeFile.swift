import Foundation

/// Reading or hashing a file in one go, for loaders that cannot stream (HTML, PDF).
enum WholeFile {
  struct Digest: Sendable, Hashable {
    var sha256: String
    var byteCount: Int
  }

  struct Loaded {
    var bytes: [UInt8]
    var sha256: String
  }

  /// Reads the whole file, refusing files over `limit` bytes.
  static func read(_ file: DiscoveredFile, limit: Int) throws(IngestError) -> Loaded {
    let source = try FileByteSource(path: file.path, filesystemPath: file.url.path)
    var bytes: [UInt8] = []
    var hasher = SHA256()
    try forEachBlock(source) { block throws(IngestError) in
      if bytes.count + block.count > limit {
        throw .tooLarge(file.path, size: max(file.size, bytes.count + block.count), limit: limit)
      }
      hasher.update(block)
      bytes.append(contentsOf: block)
    }
    return Loaded(bytes: bytes, sha256: hasher.finalize())
  }

  /// Hashes the file without keeping it.
  static func hash(_ file: DiscoveredFile) throws(IngestError) -> Digest {
    let source = try FileByteSource(path: file.path, filesystemPath: file.url.path)
    var hasher = SHA256()
    var count = 0
    try forEachBlock(source) { block throws(IngestError) in
      hasher.update(block)
      count += block.count
    }
    return Digest(sha256: hasher.finalize(), byteCount: count)
  }

  private static func forEachBlock(
    _ source: FileByteSource, _ body: (UnsafeRawBufferPointer) throws(IngestError) -> Void
  ) throws(IngestError) {
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let outcome: Result<Int, IngestError> = buffer.withUnsafeMutableBytes { raw in
        do throws(IngestError) { return .success(try source.read(into: raw)) } catch { return .failure(error) }
      }
      let n = try outcome.get()
      if n == 0 { return }
      let result: Result<Void, IngestError> = buffer.withUnsafeBytes { raw in
        do throws(IngestError) {
          return .success(try body(UnsafeRawBufferPointer(rebasing: raw[0..<n])))
        } catch { return .failure(error) }
      }
      try result.get()
    }
  }
}

extension SHA256 {
  /// Hex sha256 of a file's bytes, read in 1 MiB blocks (for the pipeline's "same size, new
  /// mtime" check, before it decides to re-chunk).
  public static func hex(of file: DiscoveredFile) throws(IngestError) -> String {
    try WholeFile.hash(file).sha256
  }
}
