public import Foundation
import TomeIngest
public import TomeLinalg

/// What `tome doctor` reports: the CPU, the BLAS and SIMD kernels in use and how fast sgemm
/// runs, the model files and their checksums, and the index folder with its free disk.
///
/// Every speed figure Tome prints depends on the kernels (a generic OpenBLAS core is 5–6×
/// slower), so this is the first thing to look at when a figure looks wrong.
public struct SystemReport: Sendable, Codable {
  public struct BLASReport: Sendable, Codable {
    /// OpenBLAS's build description (version, DYNAMIC_ARCH, threads).
    public var library: String
    public var choice: BLASChoice
    /// The set Tome recommends for this CPU, if any.
    public var recommended: String?
    public var threads: Int
    /// sgemm 2048×1536×384 throughput, measured for about a second (nil when skipped).
    public var sgemmGFLOPS: Double?
  }

  public struct FileReport: Sendable, Codable {
    public enum Status: String, Sendable, Codable {
      case ok, missing, unexpected = "differs from the pinned file"
    }
    public var name: String
    public var path: String
    public var bytes: Int?
    public var sha256: String?
    public var status: Status
  }

  public struct IndexReport: Sendable, Codable {
    public var path: String
    public var exists: Bool
    /// Bytes of the index folder's files.
    public var bytes: Int?
    public var freeDiskBytes: Int?
  }

  public var cpu: CPUInfo
  public var processors: Int
  public var blas: BLASReport
  public var simd: SIMDPath
  public var files: [FileReport]
  public var index: IndexReport

  /// The weight files Scripts/bootstrap.sh fetches, with their pinned sha256 sums.
  static let pinned: [(name: String, relativePath: String, sha256: String)] = [
    ("encoder weights", "all-MiniLM-L6-v2/model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
    ("encoder vocabulary", "all-MiniLM-L6-v2/vocab.txt", "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
    ("chat model", "SmolLM2-135M-Instruct.Q4_1.gguf", "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
  ]

  /// Gathers the report. Hashing the weights reads ~200 MB; `sgemmSeconds` = 0 skips the
  /// throughput figure.
  public static func gather(models: ModelDirectory, index: URL, sgemmSeconds: Double = 1) -> SystemReport {
    let cpu = CPUInfo.identify()
    let blas = BLASReport(
      library: BLAS.configuration, choice: KernelSelection.current, recommended: BLAS.recommendedCore(for: cpu)?.name,
      threads: BLAS.threadCount, sgemmGFLOPS: sgemmSeconds > 0 ? BLAS.measureSgemm(seconds: sgemmSeconds) : nil)
    let files = pinned.map { file in
      let url = models.url.appendingPathComponent(file.relativePath)
      guard let hash = sha256(of: url) else {
        return FileReport(name: file.name, path: url.path, bytes: nil, sha256: nil, status: .missing)
      }
      return FileReport(
        name: file.name, path: url.path, bytes: hash.bytes, sha256: hash.digest,
        status: hash.digest == file.sha256 ? .ok : .unexpected)
    }
    return SystemReport(
      cpu: cpu, processors: ProcessInfo.processInfo.activeProcessorCount, blas: blas, simd: .current, files: files,
      index: indexReport(index))
  }

  static func sha256(of url: URL) -> (digest: String, bytes: Int)? {
    guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
    defer { try? handle.close() }
    var hash = SHA256()
    var total = 0
    while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
      chunk.withUnsafeBytes { hash.update($0) }
      total += chunk.count
    }
    return (hash.finalize(), total)
  }

  static func indexReport(_ url: URL) -> IndexReport {
    let manager = FileManager.default
    var isDirectory: ObjCBool = false
    let exists = manager.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    var bytes: Int?
    if exists, let names = try? manager.contentsOfDirectory(atPath: url.path) {
      bytes = names.reduce(0) { total, name in
        let size = (try? manager.attributesOfItem(atPath: url.appendingPathComponent(name).path)[.size]) as? Int
        return total + (size ?? 0)
      }
    }
    // Free space where the index is, or would be created.
    var probe = url
    while !manager.fileExists(atPath: probe.path) && probe.path != "/" { probe.deleteLastPathComponent() }
    let free = (try? manager.attributesOfFileSystem(forPath: probe.path)[.systemFreeSize]) as? Int
    return IndexReport(path: url.path, exists: exists, bytes: bytes, freeDiskBytes: free)
  }
}

extension SystemReport {
  /// One line naming the kernels, for printing beside every speed figure.
  public static var kernelSummary: String {
    let choice = KernelSelection.current
    let simd = SIMDPath.current
    var blas = "OpenBLAS \(choice.core)"
    if let replaced = choice.replaced { blas += " (OpenBLAS picked \(replaced))" }
    if choice.source == .user { blas += " (OPENBLAS_CORETYPE)" }
    var line = "kernels: \(blas), \(BLAS.threadCount) threads; SIMD \(simd.level)"
    if simd.level != simd.supported { line += " (CPU supports \(simd.supported))" }
    return line
  }
}
