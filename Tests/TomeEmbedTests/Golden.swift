import Foundation
import TomeEmbed
import TomeTestSupport
import Testing

/// The golden file `shared/data/golden/minilm.json`: WordPiece ids from HF tokenizers and
/// float64 reference embeddings.
struct GoldenCase: Decodable, Sendable, CustomTestStringConvertible {
  let text: String
  let ids: [Int32]
  let n_tokens: Int
  let embedding: [Double]
  var testDescription: String { "\(ids.count) tokens: \(text.prefix(40))" }
}

enum Golden {
  struct File: Decodable { let cases: [GoldenCase] }

  static func cases() throws -> [GoldenCase] {
    let url = SharedData.data("golden/minilm.json")
    guard let data = try? Data(contentsOf: url) else {
      throw TestFailure("golden file missing at \(url.path); set TOME_SHARED to the shared folder")
    }
    return try JSONDecoder().decode(File.self, from: data).cases
  }

  /// The golden cases, or an empty list when the file is missing (the test then fails via `loadOrFail`).
  static let all: [GoldenCase] = (try? cases()) ?? []
}

struct TestFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// The encoder's model folder; fails with a clear message when the weights are missing.
enum Model {
  static var directory: URL { SharedData.models.appendingPathComponent("all-MiniLM-L6-v2") }

  static func requireDirectory() throws -> URL {
    let weights = directory.appendingPathComponent("model.safetensors")
    guard FileManager.default.fileExists(atPath: weights.path) else {
      throw TestFailure(
        "all-MiniLM-L6-v2 weights missing at \(weights.path): run Scripts/bootstrap.sh (or set TOME_MODELS)")
    }
    return directory
  }

  static func tokenizer() throws -> WordPieceTokenizer {
    try WordPieceTokenizer(
      vocabularyURL: requireDirectory().appendingPathComponent("vocab.txt"), name: "all-MiniLM-L6-v2")
  }
}
