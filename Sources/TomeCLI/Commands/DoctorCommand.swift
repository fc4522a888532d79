import ArgumentParser
import Foundation
import TomeKit
import TomeLinalg

/// `tome doctor`: what this machine gives Tome, and what Tome made of it.
struct DoctorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "doctor",
    abstract: "Show the CPU, the BLAS and SIMD kernels in use, sgemm speed, model files and the index folder.",
    discussion: """
      Every speed figure depends on the kernels: Debian's OpenBLAS runs generic kernels on CPUs \
      it does not recognise (5–6× slower), and Tome then asks it for the right ones and \
      re-executes itself. This shows what was chosen and why, measures sgemm for about a \
      second, and checks the model files against their pinned sha256 sums.

      Environment: TOME_BLAS=keep keeps the kernels OpenBLAS loaded (by itself or from \
      OPENBLAS_CORETYPE) even when they are weaker than the CPU allows; \
      TOME_SIMD=portable|avx2|avx512 runs Tome's own kernels at a lower level than the CPU supports.
      """)

  @OptionGroup var indexOptions: IndexOptions
  @OptionGroup var modelOptions: ModelOptions

  @Flag(name: .long, help: "Print the report as JSON.")
  var json = false

  @Option(name: .long, help: ArgumentHelp("Seconds to measure sgemm (0 skips it).", valueName: "s"))
  var sgemmSeconds = 1.0

  func validate() throws {
    guard sgemmSeconds >= 0 && sgemmSeconds <= 60 else {
      throw ValidationError("--sgemm-seconds must be between 0 and 60 (got \(sgemmSeconds))")
    }
  }

  func run() throws {
    let report = SystemReport.gather(
      models: modelOptions.directory, index: indexOptions.location.directory, sgemmSeconds: sgemmSeconds)
    if json {
      try Terminal.printJSON(report)
      return
    }
    print(Self.render(report))
  }

  static func render(_ r: SystemReport) -> String {
    var lines: [String] = []
    let cpu = r.cpu
    lines.append("CPU        \(cpu.brand.isEmpty ? "unknown" : cpu.brand) (\(cpu.vendor) family \(cpu.family) model \(cpu.model)), \(r.processors) processors")
    lines.append("features   \(cpu.features.isEmpty ? "none detected" : cpu.features.joined(separator: " "))")
    let choice = r.blas.choice
    var kernels = choice.core
    switch choice.source {
    case .tome: kernels += " (Tome asked for it; \(choice.replaced ?? "?") ran before)"
    case .user: kernels += " (OPENBLAS_CORETYPE, kept)"
    case .openblas: kernels += " (OpenBLAS's own pick)"
    }
    lines.append("BLAS       \(r.blas.library)")
    lines.append("  kernels  \(kernels)")
    if let recommended = r.blas.recommended, let wanted = BLAS.CoreClass(core: recommended),
      let running = BLAS.CoreClass(core: choice.core), running < wanted
    {
      lines.append("  advice   \(recommended) suits this CPU better (unset TOME_BLAS=keep to let Tome choose)")
    }
    if let note = choice.note { lines.append("  note     \(note)") }
    lines.append("  threads  \(r.blas.threads)")
    if let g = r.blas.sgemmGFLOPS { lines.append(String(format: "  sgemm    %.1f GFLOP/s (2048×1536×384)", g)) }
    var simd = "\(r.simd.level)"
    if let requested = r.simd.requested { simd += " (TOME_SIMD=\(requested))" }
    if r.simd.level != r.simd.supported { simd += "; the CPU supports \(r.simd.supported)" }
    lines.append("SIMD       \(simd)")
    for file in r.files {
      var line = "\(file.name): \(file.path)"
      switch file.status {
      case .ok: line += " ok (sha256 \(file.sha256?.prefix(16) ?? "")…)"
      case .missing: line += " missing (Scripts/bootstrap.sh fetches it)"
      case .unexpected: line += " sha256 \(file.sha256 ?? "") differs from the pinned file"
      }
      lines.append("model      " + line)
    }
    var index = "\(r.index.path)"
    if r.index.exists, let bytes = r.index.bytes {
      index += String(format: " (%.1f MB)", Double(bytes) / 1e6)
    } else if !r.index.exists {
      index += " (not created yet)"
    }
    if let free = r.index.freeDiskBytes { index += String(format: ", %.1f GB free", Double(free) / 1e9) }
    lines.append("index      \(index)")
    return lines.joined(separator: "\n")
  }
}
