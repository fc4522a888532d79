import Foundation
import Testing
import TomeModel
import TomeTestSupport

/// Thrown when the shared model or golden file is not where `Scripts/bootstrap.sh` puts it.
struct MissingFixture: Error, CustomStringConvertible {
  let description: String
}

/// The real SmolLM2 GGUF and the golden llama.cpp outputs, shared by all model tests.
enum Fixtures {
  static let modelFileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

  static var modelPath: String { SharedData.models.appendingPathComponent(modelFileName).path }

  /// The model path, or a clear failure when the file is missing.
  static func requireModelPath() throws -> String {
    guard FileManager.default.fileExists(atPath: modelPath) else {
      throw MissingFixture(description: "model file missing at \(modelPath); run Scripts/bootstrap.sh (or set TOME_MODELS)")
    }
    return modelPath
  }

  static func gguf() throws -> GGUFFile { try GGUFFile(path: try requireModelPath()) }

  static let sharedGolden: Result<Golden, any Error> = Result {
    let url = SharedData.data("golden/smollm2.json")
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw MissingFixture(description: "golden file missing at \(url.path); set TOME_SHARED")
    }
    return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
  }

  static func golden() throws -> Golden { try sharedGolden.get() }
}

/// `shared/data/golden/smollm2.json`.
struct Golden: Decodable {
  struct TokenizeCase: Decodable, CustomStringConvertible {
    let text: String
    let ids: [Int]
    var description: String { text.debugDescription }
  }
  struct Logit: Decodable {
    let id: Int
    let logit: Float
  }
  struct LogitsCase: Decodable {
    let name: String
    let prompt: String
    let ids: [Int]
    let top10: [Logit]
    let greedy32: [Int]
    let greedy32_text: String
  }
  let tokenize: [TokenizeCase]
  let logits: [LogitsCase]
}

extension Fixtures {
  /// Loaded once per test process.
  static let sharedModel: Result<LlamaModel, any Error> = Result {
    try LlamaModel(path: try requireModelPath())
  }

  static func model() throws -> LlamaModel { try sharedModel.get() }
}

func argmax(_ v: [Float]) -> Int {
  var best = 0
  for i in v.indices where v[i] > v[best] { best = i }
  return best
}
