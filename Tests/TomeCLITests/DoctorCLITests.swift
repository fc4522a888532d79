import Foundation
import Testing
@testable import TomeKit
import TomeLinalg
import TomeTestSupport

/// `tome doctor` and the kernel choices it reports: OpenBLAS's kernels are the ones this CPU
/// deserves (or the user's), and Tome's SIMD kernels can be forced to the portable copy.
@Suite(.timeLimit(.minutes(15))) struct DoctorCLITests {
  /// `tome doctor --json` with `environment`; HOME is a fresh folder unless given, so check
  /// verdicts start empty.
  func report(environment: [String: String] = [:]) throws -> SystemReport {
    let dir = try TemporaryDirectory()
    // Empty values count as unset, whatever the test runner's own environment holds.
    var env = ["OPENBLAS_CORETYPE": "", "TOME_SIMD": "", "TOME_BLAS": "", "HOME": dir.url.path]
    for (k, v) in environment { env[k] = v }
    let result = try TomeBinary.run(
      ["doctor", "--json", "--sgemm-seconds", "0.2", "--models", SharedData.models.path], in: dir.url, environment: env)
    #expect(result.status == 0, "\(result.stderr)")
    return try JSONDecoder().decode(SystemReport.self, from: Data(result.stdout.utf8))
  }

  @Test("OpenBLAS runs kernels as capable as the CPU allows, and they multiply correctly")
  func fastKernels() throws {
    let r = try report()
    let cpu = CPUInfo.identify()
    #expect(r.cpu == cpu)
    let running = try #require(BLAS.CoreClass(core: r.blas.choice.core), "unknown core \(r.blas.choice.core)")
    if let recommended = BLAS.recommendedCore(for: cpu) {
      // Fails where OpenBLAS's generic (or merely older) kernels are left running.
      #expect(running >= recommended.coreClass, "running \(r.blas.choice.core) on a CPU that supports \(recommended.name)")
    }
    #expect(r.blas.choice.source != .user)
    #expect((r.blas.sgemmGFLOPS ?? 0) > 0)
    #expect(r.simd.level == r.simd.supported)
    #expect(r.files.allSatisfy { $0.status == .ok }, "\(r.files)")
  }

  @Test("a weaker OPENBLAS_CORETYPE is checked, replaced and the verdict remembered")
  func replacesWeakerCore() throws {
    let cpu = CPUInfo.identify()
    guard let recommended = BLAS.recommendedCore(for: cpu) else { return }  // nothing better to ask for
    let home = try TemporaryDirectory()
    let r = try report(environment: ["OPENBLAS_CORETYPE": "Prescott", "HOME": home.url.path])
    #expect(r.blas.choice.core.lowercased() == recommended.name.lowercased())
    #expect(r.blas.choice.source == .tome)
    #expect(r.blas.choice.replaced == "Prescott (OPENBLAS_CORETYPE)")
    let verdicts = home.url.appendingPathComponent(".cache/tome/blas-verdicts.json")
    let saved = try JSONDecoder().decode([String: KernelSelection.Verdict].self, from: Data(contentsOf: verdicts))
    let verdict = try #require(saved[KernelSelection.verdictKey(cpu: cpu, core: recommended.name)])
    #expect(verdict.failure == nil)
  }

  @Test("a kernel set that failed its check is not used, and doctor says why")
  func failedCheck() throws {
    let cpu = CPUInfo.identify()
    guard let recommended = BLAS.recommendedCore(for: cpu) else { return }
    let home = try TemporaryDirectory()
    let verdicts = home.url.appendingPathComponent(".cache/tome/blas-verdicts.json")
    try FileManager.default.createDirectory(at: verdicts.deletingLastPathComponent(), withIntermediateDirectories: true)
    let failed = [KernelSelection.verdictKey(cpu: cpu, core: recommended.name): KernelSelection.Verdict(failure: "crashed with signal 4")]
    try JSONEncoder().encode(failed).write(to: verdicts)
    let r = try report(environment: ["OPENBLAS_CORETYPE": "Prescott", "HOME": home.url.path])
    #expect(r.blas.choice.core == "Prescott")
    #expect(r.blas.choice.note?.contains("crashed with signal 4") == true, "\(r.blas.choice)")
  }

  @Test("TOME_BLAS=keep keeps OPENBLAS_CORETYPE; TOME_SIMD=portable runs the portable kernels")
  func userChoices() throws {
    let r = try report(environment: ["OPENBLAS_CORETYPE": "Prescott", "TOME_BLAS": "keep", "TOME_SIMD": "portable"])
    #expect(r.blas.choice.core == "Prescott")
    #expect(r.blas.choice.source == .user)
    #expect(r.simd.level == .portable && r.simd.requested == .portable)
  }

  @Test("text report names the CPU, the kernels, the SIMD path and the model files")
  func text() throws {
    let dir = try TemporaryDirectory()
    let result = try TomeBinary.run(
      ["doctor", "--sgemm-seconds", "0", "--models", SharedData.models.path], in: dir.url)
    #expect(result.status == 0, "\(result.stderr)")
    for label in ["CPU ", "features ", "BLAS ", "  kernels ", "SIMD ", "chat model: ", "index "] {
      #expect(result.stdout.contains(label), "\(label) in \(result.stdout)")
    }
  }

  @Test("the portable kernels give the same search ranking and a sensible answer")
  func portableParity() throws {
    let dir = try TemporaryDirectory()
    let docs = dir.url.appendingPathComponent("docs")
    try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
    let texts = [
      "a.txt": "The lighthouse keeper climbed ninety steps every evening to light the lamp.",
      "b.txt": "Sourdough bread needs a starter of flour and water fed for several days.",
      "c.txt": "Glaciers carve valleys slowly as the ice moves downhill under its own weight.",
    ]
    for (name, text) in texts { try text.write(to: docs.appendingPathComponent(name), atomically: true, encoding: .utf8) }
    let models = ["--models", SharedData.models.path]
    func search(_ simd: String?) throws -> [(String, Double)] {
      let index = dir.url.appendingPathComponent("index-\(simd ?? "native")").path
      let env = simd.map { ["TOME_SIMD": $0] } ?? [:]
      let ingest = try TomeBinary.run(["ingest", docs.path, "--index", index] + models, in: dir.url, environment: env)
      #expect(ingest.status == 0, "\(ingest.stderr)")
      let result = try TomeBinary.run(
        ["search", "how is bread made", "--mode", "dense", "--json", "--index", index] + models, in: dir.url, environment: env)
      #expect(result.status == 0, "\(result.stderr)")
      let hits = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
      return hits.map { (($0["path"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent } ?? "", ($0["score"] as? Double) ?? -1) }
    }
    let native = try search(nil)
    let portable = try search("portable")
    #expect(native.map(\.0) == portable.map(\.0))
    #expect(native.first?.0 == "b.txt")
    let generate = try TomeBinary.run(
      ["generate", "--chat", "Paris is the capital of which country?", "--max-tokens", "12"] + models, in: dir.url,
      environment: ["TOME_SIMD": "portable"])
    #expect(generate.status == 0, "\(generate.stderr)")
    #expect(generate.stdout.contains("France"), "\(generate.stdout)")
  }
}
