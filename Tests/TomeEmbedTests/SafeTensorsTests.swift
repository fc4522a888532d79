import Foundation
import TomeEmbed
import TomeTestSupport
import Testing

/// Builds a safetensors file from a JSON header and raw payload.
func safetensors(header: String, payload: [UInt8]) -> Data {
  var data = Data()
  var length = UInt64(header.utf8.count).littleEndian
  withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
  data.append(contentsOf: Array(header.utf8))
  data.append(contentsOf: payload)
  return data
}

@Suite struct SafeTensorsTests {
  @Test("the real model file loads")
  func realFile() throws {
    let file = try SafeTensorsFile(contentsOf: Model.requireDirectory().appendingPathComponent("model.safetensors"))
    let words = try #require(file.tensors["embeddings.word_embeddings.weight"])
    #expect(words.shape == [30522, 384])
    #expect(words.dtype == .f32)
    let gamma = try file.floats("embeddings.LayerNorm.weight", shape: [384])
    #expect(gamma.count == 384 && gamma.allSatisfy { $0.isFinite })
    #expect(throws: EmbedError.self) { try file.floats("embeddings.position_ids") }  // I64
    #expect(throws: EmbedError.self) { try file.floats("embeddings.LayerNorm.weight", shape: [385]) }
    #expect(throws: EmbedError.self) { try file.floats("no.such.tensor") }
  }

  @Test("a truncated copy fails with a one-line error naming the file")
  func truncated() throws {
    let directory = try TemporaryDirectory()
    let source = try Data(contentsOf: Model.requireDirectory().appendingPathComponent("model.safetensors"))
    let url = try directory.write("model.safetensors", data: source.prefix(1_000_000))
    do {
      _ = try SafeTensorsFile(contentsOf: url)
      Issue.record("truncated file loaded")
    } catch let error as EmbedError {
      #expect(error.kind == .corruptFile)
      #expect(error.description.contains(url.path))
      #expect(error.description.contains("truncated"))
      #expect(!error.description.contains("\n"))
    }
    let tiny = try directory.write("tiny.safetensors", data: Data([1, 2, 3]))
    #expect(throws: EmbedError.self) { try SafeTensorsFile(contentsOf: tiny) }
  }

  @Test("garbage headers fail cleanly", arguments: [
    "not json at all", "[1, 2, 3]", #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 9]}}"#,
    #"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#,
    #"{"a": {"dtype": "Q9", "shape": [2], "data_offsets": [0, 8]}}"#,
    #"{"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#,
    #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}"#,
    #"{"a": {"dtype": "F32", "shape": [1099511627775, 1099511627775, 1099511627775], "data_offsets": [0, 8]}}"#,
  ])
  func garbage(header: String) throws {
    let directory = try TemporaryDirectory()
    let url = try directory.write("bad.safetensors", data: safetensors(header: header, payload: Array(repeating: 0, count: 8)))
    #expect(throws: EmbedError.self) { try SafeTensorsFile(contentsOf: url) }
    var huge = Data(repeating: 0xFF, count: 8)
    huge.append(contentsOf: Array("{}".utf8))
    let hugeURL = try directory.write("huge.safetensors", data: huge)
    #expect(throws: EmbedError.self) { try SafeTensorsFile(contentsOf: hugeURL) }
  }

  @Test("F16 and BF16 tensors convert to f32")
  func halfPrecision() throws {
    let directory = try TemporaryDirectory()
    // F16: 1.0 = 0x3C00, -2.5 = 0xC100; BF16: 1.0 = 0x3F80, 0.5 = 0x3F00.
    let header = #"{"__metadata__": {"format": "pt"}, "h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}, "b": {"dtype": "BF16", "shape": [1, 2], "data_offsets": [4, 8]}}"#
    let url = try directory.write(
      "half.safetensors", data: safetensors(header: header, payload: [0x00, 0x3C, 0x00, 0xC1, 0x80, 0x3F, 0x00, 0x3F]))
    let file = try SafeTensorsFile(contentsOf: url)
    #expect(try file.floats("h") == [1, -2.5])
    #expect(try file.floats("b", shape: [1, 2]) == [1, 0.5])
  }

  @Test("a missing model says how to fetch it")
  func missingModel() throws {
    let directory = try TemporaryDirectory()
    do {
      _ = try BERTEncoder(modelDirectory: directory.url)
      Issue.record("empty directory loaded")
    } catch let error as EmbedError {
      #expect(error.kind == .missingFile)
      #expect(error.description.contains("Scripts/bootstrap.sh"))
    }
    #expect(throws: EmbedError.self) {
      try SafeTensorsFile(contentsOf: directory.url.appendingPathComponent("model.safetensors"))
    }
  }
}
