import Foundation
import Testing
import TomeTestSupport

/// `tome model info` and `tome generate` on the real SmolLM2 file, and on a copy whose chat
/// template key is renamed (a GGUF without a template, as some conversions ship).
@Suite(.timeLimit(.minutes(15))) struct ModelCLITests {
  static var smolLM: URL { SharedData.models.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf") }

  /// A copy of SmolLM2 whose `tokenizer.chat_template` key reads `tokenizer.chat_templatX`.
  static func withoutTemplate(in dir: URL) throws -> URL {
    let copy = dir.appendingPathComponent("no-template.gguf")
    try FileManager.default.copyItem(at: smolLM, to: copy)
    let handle = try FileHandle(forUpdating: copy)
    defer { try? handle.close() }
    let head = try #require(try handle.read(upToCount: 32 << 20))
    let key = Data("tokenizer.chat_template".utf8)
    let at = try #require(head.range(of: key))
    try handle.seek(toOffset: UInt64(at.upperBound - 1))
    try handle.write(contentsOf: Data("X".utf8))
    return copy
  }

  @Test("model info names the architecture, quantisation and chat template")
  func info() throws {
    let dir = try TemporaryDirectory()
    let result = try TomeBinary.run(["model", "info", Self.smolLM.path], in: dir.url)
    #expect(result.status == 0, "\(result.stderr)")
    for text in ["llama", "Q4_1", "layers:        30", "chat template: ChatML"] {
      #expect(result.stdout.contains(text), "\(text) in \(result.stdout)")
    }
  }

  @Test("a file without a chat template: --chat names --chat-template; with it, the same text as the original under that format")
  func chatTemplateOverride() throws {
    let dir = try TemporaryDirectory()
    let copy = try Self.withoutTemplate(in: dir.url)
    let info = try TomeBinary.run(["model", "info", copy.path], in: dir.url)
    #expect(info.status == 0 && info.stdout.contains("chat template: unknown") && info.stdout.contains("--chat-template"))

    let question = ["generate", "--chat", "What is the capital of France?", "--max-tokens", "12"]
    let refused = try TomeBinary.run(question + ["--model", copy.path], in: dir.url)
    #expect(refused.status == 1)
    #expect(refused.stderr.contains(copy.path) && refused.stderr.contains("--chat-template"), "\(refused.stderr)")
    #expect(refused.stderr.split(separator: "\n").count == 1)

    let named = try TomeBinary.run(question + ["--model", copy.path, "--chat-template", "chatml"], in: dir.url)
    let original = try TomeBinary.run(question + ["--chat-template", "chatml"], in: dir.url, environment: ["TOME_MODELS": SharedData.models.path])
    #expect(named.status == 0 && original.status == 0, "\(named.stderr) \(original.stderr)")
    #expect(!named.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    #expect(named.stdout == original.stdout)

    // Raw generation needs no template.
    let raw = try TomeBinary.run(["generate", "Paris is the capital of", "--max-tokens", "4", "--model", copy.path], in: dir.url)
    #expect(raw.status == 0, "\(raw.stderr)")
    let bad = try TomeBinary.run(question + ["--chat-template", "jinja"], in: dir.url)
    #expect(bad.status == 2)
  }

  @Test("--chat-template is refused with --endpoint: the server applies its own")
  func chatTemplateWithEndpoint() throws {
    let dir = try TemporaryDirectory()
    let result = try TomeBinary.run(["ask", "why?", "--endpoint", "http://127.0.0.1:9", "--chat-template", "chatml"], in: dir.url)
    #expect(result.status == 2 && result.stderr.contains("--chat-template"), "\(result.stderr)")
  }
}
