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
    /// `OPENBLAS_CORETYPE` chose them and Tome kept them: as capable as the CPU allows, or
    /// `TOME_BLAS=keep` was set.
    case user
  }

  /// The kernel set running now (`openblas_get_corename()`).
  public var core: String
  /// What ran before Tome replaced it (OpenBLAS's own pick, or `OPENBLAS_CORETYPE`'s).
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
/// the fix is to set it and execute the program again. A weaker set named by `OPENBLAS_CORETYPE`
/// is replaced too (this project's machines export `OPENBLAS_CORETYPE=Haswell` everywhere, which
/// halves sgemm on AVX-512 CPUs); `TOME_BLAS=keep` keeps whatever OpenBLAS loaded. Before
/// trusting a kernel set, a child
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
    let source: BLASChoice.Source = variable("OPENBLAS_CORETYPE") != nil ? .user : .openblas
    return BLASChoice(core: core, replaced: nil, source: source, note: variable(noteVariable))
  }

  /// Call first thing in `main`. In a checking child it exits; when a better kernel set is
  /// available and trusted it re-executes the program with it (and does not return);
  /// otherwise it returns and the process goes on with OpenBLAS's own choice.
  public func prepareProcess(arguments: [String]) {
    if Self.variable(Self.probeVariable) != nil { Self.runProbe() }
    if Self.variable(Self.replacedVariable) != nil || Self.variable("TOME_BLAS") == "keep" { return }
    let cpu = CPUInfo.identify()
    let current = BLAS.coreName
    guard let (wanted, wantedClass) = BLAS.recommendedCore(for: cpu),
      let currentClass = BLAS.CoreClass(core: current), currentClass < wantedClass
    else { return }
    let key = Self.verdictKey(cpu: cpu, core: wanted)
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
    let previous = Self.variable("OPENBLAS_CORETYPE") != nil ? "\(current) (OPENBLAS_CORETYPE)" : current
    setenv("OPENBLAS_CORETYPE", wanted, 1)
    setenv(Self.replacedVariable, previous, 1)
    Self.execute(arguments)
    // Only reached when exec failed: go on with the kernels already loaded.
    unsetenv(Self.replacedVariable)
  }

  /// What a check result is remembered under: the CPU, the OpenBLAS build (its description
  /// without the name of the kernels loaded now) and the kernel set.
  static func verdictKey(cpu: CPUInfo, core: String) -> String {
    let loaded = BLAS.coreName.lowercased()
    let build = BLAS.configuration.split(separator: " ").filter { $0.lowercased() != loaded }.joined(separator: " ")
    return [cpu.vendor, cpu.brand, "\(cpu.family)/\(cpu.model)", build, core].joined(separator: " | ")
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
