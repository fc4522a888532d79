import Foundation
import Testing
import TomeEmbed
import TomeLinalg
import TomeModel
import TomeTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 on the command line: damaged weights, FIFOs, batch files that would overwrite
/// their input, escape sequences in documents and file names.
@Suite(.serialized, .timeLimit(.minutes(15))) struct HardeningCLITests {
  static var smolLM: URL { SharedData.models.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf") }

  /// A copy of SmolLM2 with `patch` applied to its bytes (offsets from `GGUFFile`).
  static func damagedCopy(in dir: URL, name: String, _ patch: (GGUFFile, FileHandle) throws -> Void) throws -> URL {
    let copy = dir.appendingPathComponent(name)
    try FileManager.default.copyItem(at: smolLM, to: copy)
    let gguf = try GGUFFile(path: smolLM.path)
    let handle = try FileHandle(forUpdating: copy)
    defer { try? handle.close() }
    try patch(gguf, handle)
    return copy
  }

  static func write(_ handle: FileHandle, at offset: Int, _ bytes: [UInt8]) throws {
    try handle.seek(toOffset: UInt64(offset))
    try handle.write(contentsOf: Data(bytes))
  }

  @Test("damaged weights are refused at load, naming the file and tensor; model info fails too; nothing crashes")
  func damagedWeights() throws {
    let dir = try TemporaryDirectory()
    // A NaN block scale in a quantised matrix.
    let nanScale = try Self.damagedCopy(in: dir.url, name: "nan-scale.gguf") { gguf, handle in
      let t = try #require(gguf.tensors.first { $0.name == "blk.7.ffn_down.weight" })
      let block = 1234
      try Self.write(handle, at: gguf.dataOffset + t.offset + block * t.type.bytesPerBlock, [0x00, 0x7E])
    }
    // An infinite value in an F32 norm vector.
    let infNorm = try Self.damagedCopy(in: dir.url, name: "inf-norm.gguf") { gguf, handle in
      let t = try #require(gguf.tensors.first { $0.name == "output_norm.weight" })
      try #require(t.type == .f32)
      try Self.write(handle, at: gguf.dataOffset + t.offset + 4 * 17, [0x00, 0x00, 0x80, 0x7F])
    }
    for (file, tensor) in [(nanScale, "blk.7.ffn_down.weight"), (infNorm, "output_norm.weight")] {
      #expect(throws: ModelError.self) { _ = try LlamaModel(path: file.path) }
      let generate = try TomeBinary.run(["generate", "Hello", "--max-tokens", "4", "--model", file.path], in: dir.url, timeout: 120)
      #expect(generate.status == 1, "exit \(generate.status): \(generate.stderr)")
      #expect(generate.stderr.contains(file.path) && generate.stderr.contains(tensor), "\(generate.stderr)")
      #expect(generate.stderr.split(separator: "\n").count == 1, "\(generate.stderr)")
      let info = try TomeBinary.run(["model", "info", file.path], in: dir.url, timeout: 120)
      #expect(info.status == 1, "model info passed a damaged file: \(info.stdout)")
      #expect(info.stderr.contains(tensor), "\(info.stderr)")
    }

    // A tensor relabelled to another type (Q4_1 → Q4_0): the data no longer means what the
    // header says. Refused (scale scan or probe), never a trap.
    let relabelled = try Self.damagedCopy(in: dir.url, name: "relabelled.gguf") { gguf, handle in
      try handle.seek(toOffset: 0)
      let head = try #require(try handle.read(upToCount: gguf.dataOffset))
      let name = Data("blk.3.attn_q.weight".utf8)
      let at = try #require(head.range(of: name)).upperBound
      let dims = Int(head[at]) | Int(head[at + 1]) << 8
      let typeOffset = at + 4 + 8 * dims
      #expect(head[typeOffset] == UInt8(GGMLType.q4_1.rawValue))
      try Self.write(handle, at: typeOffset, [UInt8(GGMLType.q4_0.rawValue)])
    }
    let generate = try TomeBinary.run(["generate", "Hello", "--max-tokens", "4", "--model", relabelled.path], in: dir.url, timeout: 120)
    #expect(generate.status == 1, "exit \(generate.status): \(generate.stderr)")
    #expect(generate.stderr.contains(relabelled.path), "\(generate.stderr)")

    // The real file still loads and says so.
    let info = try TomeBinary.run(["model", "info", Self.smolLM.path], in: dir.url)
    #expect(info.status == 0 && info.stdout.contains("weights:       checked"), "\(info.stdout) \(info.stderr)")
  }

  @Test("while the model reads the passages, a terminal sees a spinner (erased before the answer); a pipe never does",
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
  func waitingSpinner() throws {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("essays"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: SharedData.data("paul_graham_essays/essays/superangels.txt"), to: dir.url.appendingPathComponent("essays/superangels.txt"))
    #expect(try TomeBinary.run(["ingest", "essays", "-q"], in: dir.url).status == 0)
    let ask = ["ask", "What is a super-angel?", "--max-tokens", "12", "-k", "4"]
    let piped = try TomeBinary.run(ask, in: dir.url)
    #expect(piped.status == 0, "\(piped.stderr)")
    #expect(!piped.stderr.contains("reading") && !piped.stdout.contains("reading"))
    // `script` gives the command a pseudo-terminal and copies what it draws.
    let command = ([TomeBinary.url.path] + ask).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    let script = Process()
    script.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    script.arguments = ["-qc", command, "/dev/null"]
    script.currentDirectoryURL = dir.url
    var environment = ProcessInfo.processInfo.environment
    environment["TERM"] = "xterm"
    environment.removeValue(forKey: "TOME_INDEX")
    script.environment = environment
    let out = Pipe()
    script.standardOutput = out
    script.standardInput = FileHandle.nullDevice
    try script.run()
    let drawn = String(decoding: out.fileHandleForReading.readAll(), as: UTF8.self)
    script.waitUntilExit()
    let reading = try #require(drawn.range(of: "the model is reading"), "\(drawn.suffix(500))")
    let answer = try #require(drawn.range(of: "Answer"), "\(drawn.suffix(500))")
    #expect(reading.lowerBound < answer.lowerBound)
    // The spinner line is erased before the answer starts.
    #expect(drawn[reading.upperBound..<answer.lowerBound].contains("\r\u{1B}[K"))
  }

  @Test("NaN encoder weights are refused naming the file and tensor; no vector is stored")
  func damagedEncoder() throws {
    let dir = try TemporaryDirectory()
    let models = dir.url.appendingPathComponent("models")
    let encoder = models.appendingPathComponent("all-MiniLM-L6-v2")
    try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
    try FileManager.default.copyItem(at: SharedData.models.appendingPathComponent("all-MiniLM-L6-v2"), to: encoder)
    let weights = encoder.appendingPathComponent("model.safetensors")
    let tensor = "encoder.layer.2.attention.self.query.weight"
    let info = try #require(try SafeTensorsFile(contentsOf: weights).tensors[tensor])
    let handle = try FileHandle(forUpdating: weights)
    try Self.write(handle, at: info.byteRange.lowerBound + 4 * 100, [0x00, 0x00, 0xC0, 0x7F])  // NaN
    try handle.close()
    try dir.write("docs/a.txt", "Super-angels invest in startups.\n")
    let ingest = try TomeBinary.run(["ingest", "docs", "--models", models.path], in: dir.url)
    #expect(ingest.status == 1, "\(ingest.stderr)")
    #expect(ingest.stderr.contains(tensor) && ingest.stderr.contains(weights.path), "\(ingest.stderr)")
    let status = try TomeBinary.run(["status", "--json"], in: dir.url)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any], "\(status.stdout)")
    #expect((json["vectors"] as? Int ?? 0) == 0, "\(status.stdout)")
  }

  @Test("a FIFO where a file belongs is refused at once, not waited on")
  func fifos() throws {
    let dir = try TemporaryDirectory()
    let fifo = dir.url.appendingPathComponent("model.gguf")
    #expect(mkfifo(fifo.path, 0o600) == 0)
    let generate = try TomeBinary.run(["generate", "Hello", "--model", fifo.path], in: dir.url, timeout: 60)
    #expect(generate.status == 1, "exit \(generate.status): \(generate.stderr)")
    #expect(generate.stderr.contains("FIFO"), "\(generate.stderr)")
    let info = try TomeBinary.run(["model", "info", fifo.path], in: dir.url, timeout: 60)
    #expect(info.status == 1 && info.stderr.contains("FIFO"), "\(info.stderr)")

    try dir.write("docs/a.txt", "Super-angels invest in startups.\n")
    let ingest = try TomeBinary.run(["ingest", "docs", "--no-embed", "-q"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    let questions = dir.url.appendingPathComponent("questions.jsonl")
    #expect(mkfifo(questions.path, 0o600) == 0)
    let batch = try TomeBinary.run(["batch", questions.path], in: dir.url, timeout: 60)
    #expect(batch.status == 1, "exit \(batch.status): \(batch.stderr)")
    #expect(batch.stderr.contains("FIFO"), "\(batch.stderr)")

    // A prompt template that is a FIFO.
    let prompts = dir.url.appendingPathComponent("prompts")
    try FileManager.default.createDirectory(at: prompts, withIntermediateDirectories: true)
    for name in try FileManager.default.contentsOfDirectory(atPath: SharedData.repositoryRoot.appendingPathComponent("Prompts").path) {
      try FileManager.default.copyItem(
        at: SharedData.repositoryRoot.appendingPathComponent("Prompts/\(name)"), to: prompts.appendingPathComponent(name))
    }
    try FileManager.default.removeItem(at: prompts.appendingPathComponent("rag-system.txt"))
    #expect(mkfifo(prompts.appendingPathComponent("rag-system.txt").path, 0o600) == 0)
    let ask = try TomeBinary.run(["ask", "What do super-angels do?", "--prompts", prompts.path, "--max-tokens", "4"], in: dir.url, timeout: 120)
    #expect(ask.status == 1, "exit \(ask.status): \(ask.stderr)")
    #expect(ask.stderr.contains("FIFO"), "\(ask.stderr)")
  }

  @Test("batch refuses an --output or --report that is its input (or a link to it); skipped lines make the run fail")
  func batchOutputs() throws {
    let dir = try TemporaryDirectory()
    try dir.write("docs/angels.txt", "Super-angels invest about $100k in early startups.\nThey are angel investors who invest professionally.\n")
    let ingest = try TomeBinary.run(["ingest", "docs", "-q"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    let input = #"{"id": 1, "question": "How much do super-angels invest?"}"# + "\n"
    let questions = try dir.write("q.jsonl", input)
    try FileManager.default.createSymbolicLink(at: dir.url.appendingPathComponent("link.jsonl"), withDestinationURL: questions)
    try FileManager.default.linkItem(at: questions, to: dir.url.appendingPathComponent("hard.jsonl"))
    let fast = ["-k", "2", "--max-tokens", "8"]
    for (option, path) in [("--output", "q.jsonl"), ("--output", "./q.jsonl"), ("--report", "link.jsonl"), ("--output", "hard.jsonl")] {
      let run = try TomeBinary.run(["batch", "q.jsonl", option, path] + fast, in: dir.url)
      #expect(run.status == 1, "\(option) \(path): exit \(run.status) \(run.stderr)")
      #expect(run.stderr.contains(option) && run.stderr.contains("input"), "\(run.stderr)")
      #expect(try String(contentsOf: questions, encoding: .utf8) == input, "\(option) \(path) overwrote the input")
    }

    // One good line, one bad: the good one is answered and written, and the run fails.
    try dir.write("mixed.jsonl", input + #"{"id": 2}"# + "\n")
    let mixed = try TomeBinary.run(["batch", "mixed.jsonl"] + fast, in: dir.url)
    #expect(mixed.status == 1, "\(mixed.stderr)")
    #expect(mixed.stderr.contains("mixed.jsonl:2") && mixed.stderr.contains("skipped"), "\(mixed.stderr)")
    let results = try String(contentsOf: dir.url.appendingPathComponent("mixed.results.jsonl"), encoding: .utf8)
    #expect(results.split(separator: "\n").count == 1)
  }

  @Test("escape sequences in documents and file names reach the terminal as visible text; JSON stays exact")
  func terminalEscapes() throws {
    let dir = try TemporaryDirectory()
    let hostile = "The launch code \u{1B}[2J\u{1B}]0;owned\u{07}is 4242 for super angels.\r\n"
    try dir.write("docs/evil\u{1B}[31m\nname.txt", hostile)
    let ingest = try TomeBinary.run(["ingest", "docs", "--no-embed"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    #expect(!ingest.stdout.contains("\u{1B}") && !ingest.stderr.contains("\u{1B}"))

    let search = try TomeBinary.run(["search", "launch code", "--mode", "bm25"], in: dir.url)
    #expect(search.status == 0, "\(search.stderr)")
    for control in ["\u{1B}", "\u{07}", "\r"] { #expect(!search.stdout.contains(control), "\(search.stdout.debugDescription)") }
    let lines = search.stdout.split(separator: "\n")
    #expect(lines.count == 2, "one result is a header and an excerpt: \(search.stdout.debugDescription)")
    #expect(lines.first?.contains(#"evil\e[31m\nname.txt"#) == true, "\(search.stdout)")

    let status = try TomeBinary.run(["status"], in: dir.url)
    #expect(!status.stdout.contains("\u{1B}"), "\(status.stdout.debugDescription)")
    #expect(status.stdout.split(separator: "\n").count == 3, "\(status.stdout)")

    let json = try TomeBinary.run(["search", "launch code", "--mode", "bm25", "--json"], in: dir.url)
    let decoded = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
    #expect((decoded.first?["text"] as? String)?.contains("\u{1B}[2J") == true)
    #expect((decoded.first?["path"] as? String)?.hasSuffix("evil\u{1B}[31m\nname.txt") == true)
  }
}
