import Foundation
import Testing
import TomeLinalg
import TomeModel
import TomeTestSupport

@Suite("GGUF reader")
struct GGUFTests {
  @Test("reads the real file's header, metadata and tensors")
  func realFile() throws {
    let f = try Fixtures.gguf()
    #expect(f.version == 3)
    #expect(f["general.architecture"]?.string == "llama")
    #expect(f.tensors.count == 272)
    #expect(f.alignment == 32)
    #expect(f["llama.block_count"]?.int == 30)
    #expect(f["llama.embedding_length"]?.int == 576)
    #expect(f["tokenizer.ggml.tokens"]?.array?.count == 49152)
    #expect(f["tokenizer.ggml.merges"]?.array?.count == 48900)
    #expect(f["tokenizer.ggml.pre"]?.string == "smollm")
    let embd = try #require(f.tensor(named: "token_embd.weight"))
    #expect(embd.type == .q8_0)
    #expect(embd.shape == [576, 49152])
    #expect(f.tensor(named: "output.weight") == nil)
    #expect(f.tensors.filter { $0.type == .q4_1 }.count == 210)
    #expect(f.data(of: embd).count == 49152 * 576 / 32 * 34)
  }

  @Test("a truncated copy fails with a typed error naming the file")
  func truncated() throws {
    let path = try Fixtures.requireModelPath()
    let dir = try TemporaryDirectory()
    let whole = try Data(contentsOf: URL(fileURLWithPath: path))
    for cut in [3, 20, 100_000, 5_000_000, whole.count - 1000] {
      let url = try dir.write("cut\(cut).gguf", data: whole.prefix(cut))
      do {
        _ = try GGUFFile(path: url.path)
        Issue.record("a file cut at \(cut) bytes was accepted")
      } catch {
        #expect(error.kind == .truncated || error.kind == .malformed)
        #expect(error.description.contains("cut\(cut).gguf"))
      }
    }
  }

  @Test("garbage, empty and missing files fail with typed errors")
  func garbage() throws {
    let dir = try TemporaryDirectory()
    var rng = SystemRandomNumberGenerator()
    let noise = Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) })
    let g = try dir.write("noise.gguf", data: noise)
    #expect(throws: ModelError.self) { try GGUFFile(path: g.path) }
    // A valid magic and version followed by an absurd tensor count.
    var hostile = Data("GGUF".utf8)
    hostile.append(contentsOf: [3, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 16))
    let h = try dir.write("hostile.gguf", data: hostile)
    do {
      _ = try GGUFFile(path: h.path)
      Issue.record("hostile file accepted")
    } catch {
      #expect(error.kind == .malformed)
    }
    let e = try dir.write("empty.gguf", data: Data())
    #expect(throws: ModelError.self) { try GGUFFile(path: e.path) }
    #expect(throws: ModelError.self) { try GGUFFile(path: dir.url.appendingPathComponent("absent.gguf").path) }
  }
}
