public import Foundation
import TomeLinalg

/// Which OpenBLAS kernels this process runs, and how they were chosen.
public struct BLASChoice: Sendable, Codable, Equatable {
  /// Who decided the kernel set.
  public enum Source: String, Sendable, Codable {
    /// OpenBLAS's own pick from CPUID, kept (already right, or no better set passed its check).
    case openblas
    /// Tome asked for a better set than OpenBLAS picked and re-executed with it.
    case tome
    /// `OPENBLAS_CORETYPE` was set by the user; Tome leaves it alone.
    case user
  }

  /// The kernel set running now (`openblas_get_corename()`).
  public var core: String
  /// What OpenBLAS picked by itself, when Tome replaced it.
  public var replaced: String?
  public var source: Source
  /// Why a better set was not used, when one was tried and failed its check.
  public var note: String?
}

/// Makes OpenBLAS run the kernels the CPU deserves, once per process, before the first BLAS call.
///
/// Debian's OpenBLAS 0.3.21 does not know every CPU: on an Emerald Rapids Xeon it runs its
/// generic Prescott kernels (sgemm 27–31 GFLOP/s instead of 169), on a Zen 5 EPYC its Haswell
/// ones (53–68 instead of 105–122). OpenBLAS reads `OPENBLAS_CORETYPE` only while it loads, so
/// the fix is to set it and execute the program again. Before trusting a kernel set, a child
/// process runs sgemm with it against a plain reference; a set that gives wrong results or
/// crashes is not used, and that is said once and remembered (`verdicts`, keyed by CPU, OpenBLAS
/// build and kernel set), so later runs pay only the re-execution (a few milliseconds).
public struct KernelSelection: Sendable {
  /// Set in the child that checks a kernel set.
  static let probeVariable = "TOME_BLAS_PROBE"
  /// Set when re-executing: the kernel set OpenBLAS had picked by itself.
  static let replacedVariable = "TOME_BLAS_REPLACED"
  /// Set when a better kernel set failed its check: why.
  static let noteVariable = "TOME_BLAS_NOTE"

  /// Where check results are remembered (a small JSON file), or nil to check every time.
  public var verdicts: URL?
  /// Called with a one-line message when a kernel set fails its check.
  public var warn: @Sendable (String) -> Void

  public init(verdicts: URL?, warn: @escaping @Sendable (String) -> Void) {
    self.verdicts = verdicts
    self.warn = warn
  }

  /// The kernel choice of this process.
  public static var current: BLASChoice {
    let core = BLAS.coreName
    if let replaced = variable(replacedVariable) {
      return BLASChoice(core: core, replaced: replaced, source: .tome, note: nil)
    }
    if variable("OPENBLAS_CORETYPE") != nil { return BLASChoice(core: core, replaced: nil, source: .user, note: nil) }
    return BLASChoice(core: core, replaced: nil, source: .openblas, note: variable(noteVariable))
  }

  /// Call first thing in `main`. In a checking child it exits; when a better kernel set is
  /// available and trusted it re-executes the program with it (and does not return);
  /// otherwise it returns and the process goes on with OpenBLAS's own choice.
  public func prepareProcess(arguments: [String]) {
    if Self.variable(Self.probeVariable) != nil { Self.runProbe() }
    if Self.variable(Self.replacedVariable) != nil || Self.variable("OPENBLAS_CORETYPE") != nil { return }
    let cpu = CPUInfo.identify()
    let current = BLAS.coreName
    guard let (wanted, wantedClass) = BLAS.recommendedCore(for: cpu),
      let currentClass = BLAS.CoreClass(core: current), currentClass < wantedClass
    else { return }
    let key = [cpu.vendor, cpu.brand, "\(cpu.family)/\(cpu.model)", BLAS.configuration, wanted].joined(separator: " | ")
    var known = loadVerdicts()
    let failure: String?
    if let remembered = known[key] {
      failure = remembered.failure
    } else {
      failure = Self.probe(core: wanted)
      known[key] = Verdict(failure: failure)
      saveVerdicts(known)
      if let failure { warn("OpenBLAS kernels \(wanted) failed their check (\(failure)); keeping \(current), which is slower") }
    }
    if let failure {
      setenv(Self.noteVariable, "\(wanted) failed its check (\(failure)); kept \(current)", 1)
      return
    }
    setenv("OPENBLAS_CORETYPE", wanted, 1)
    setenv(Self.replacedVariable, current, 1)
    Self.execute(arguments)
    // Only reached when exec failed: go on with the kernels already loaded.
    unsetenv("OPENBLAS_CORETYPE")
    unsetenv(Self.replacedVariable)
  }

  struct Verdict: Codable {
    /// Why the kernel set failed, or nil when it passed.
    var failure: String?
  }

  func loadVerdicts() -> [String: Verdict] {
    guard let verdicts, let data = try? Data(contentsOf: verdicts) else { return [:] }
    return (try? JSONDecoder().decode([String: Verdict].self, from: data)) ?? [:]
  }

  func saveVerdicts(_ all: [String: Verdict]) {
    guard let verdicts, let data = try? JSONEncoder().encode(all) else { return }
    try? FileManager.default.createDirectory(at: verdicts.deletingLastPathComponent(), withIntermediateDirectories: true)
    try? data.write(to: verdicts, options: .atomic)
  }

  /// An environment variable's value; empty counts as unset.
  static func variable(_ name: String) -> String? {
    guard let value = getenv(name).map({ String(cString: $0) }), !value.isEmpty else { return nil }
    return value
  }

  /// In the checking child: exit 0 when the loaded kernels multiply correctly, 3 otherwise.
  static func runProbe() -> Never {
    let asked = variable("OPENBLAS_CORETYPE") ?? ""
    let loaded = BLAS.coreName.lowercased() == asked.lowercased()
    _exit(loaded && BLAS.sgemmError() < 1e-4 ? 0 : 3)
  }

  /// Runs this program as a checking child with `core`; nil when it passed, else why not.
  static func probe(core: String) -> String? {
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_CORETYPE"] = core
    environment[probeVariable] = "1"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
    process.arguments = []
    process.environment = environment
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      return "could not start the check: \(error.localizedDescription)"
    }
    let deadline = Date().addingTimeInterval(30)
    while process.isRunning && Date() < deadline { usleep(5_000) }
    if process.isRunning {
      process.terminate()
      return "the check did not finish in 30 s"
    }
    switch (process.terminationReason, process.terminationStatus) {
    case (.exit, 0): return nil
    case (.exit, 3): return "wrong sgemm results"
    case (.uncaughtSignal, let signal): return "crashed with signal \(signal)"
    case (_, let status): return "exit status \(status)"
    }
  }

  /// Replaces this process with a new run of the same program and arguments (Linux).
  static func execute(_ arguments: [String]) {
    let strings = arguments.map { strdup($0) }
    defer { strings.forEach { free($0) } }
    var argv = strings + [nil]
    fflush(nil)
    _ = argv.withUnsafeMutableBufferPointer { buffer in
      buffer.baseAddress.map { execv("/proc/self/exe", $0) }
    }
  }
}
