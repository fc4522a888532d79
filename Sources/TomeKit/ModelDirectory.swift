public import Foundation
public import TomeCore
import TomeEmbed
public import TomeModel

/// Where model weights live, and the one place that turns them into concrete encoders and models.
public struct ModelDirectory: Sendable, Hashable {
  /// The folder holding `all-MiniLM-L6-v2/` and GGUF files.
  public var url: URL

  public init(url: URL) {
    self.url = url
  }

  /// The folder `tome` uses when none is named: `$TOME_MODELS` when set and not empty, else
  /// `.cache/tome/models` in the user's home (where `Scripts/bootstrap.sh` puts the weights).
  /// The caller passes the environment, so a library user decides whether it counts.
  public static func `default`(environment: [String: String]) -> ModelDirectory {
    if let path = environment["TOME_MODELS"], !path.isEmpty { return ModelDirectory(url: URL(fileURLWithPath: path)) }
    return ModelDirectory(url: FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/tome/models"))
  }

  /// The default chat model file (SmolLM2-135M-Instruct, Q4_1).
  public var defaultChatModelURL: URL { url.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf") }

  /// Loads an in-process GGUF chat model: `file`, or the default model when nil, with
  /// `template` or the one detected from the file.
  ///
  /// - Throws: `ModelError` naming the file and the cause (missing files say how to fetch them;
  ///   an unrecognised chat template says how to name one).
  public func loadChatModel(file: URL? = nil, template: ChatTemplate? = nil) throws -> any LanguageModel {
    let url = file ?? defaultChatModelURL
    if file == nil && !FileManager.default.fileExists(atPath: url.path) {
      throw ModelDirectoryError(path: url.path, reason: "default model not found; run Scripts/bootstrap.sh to fetch it")
    }
    return try LocalLanguageModel(path: url.path, template: template)
  }

  /// The sentence encoder's folder.
  public var encoderURL: URL { url.appendingPathComponent("all-MiniLM-L6-v2") }

  /// Loads the in-process sentence encoder and its WordPiece tokenizer.
  ///
  /// - Throws: `EmbedError` naming the missing or corrupt file and how to fetch the weights.
  public func loadEncoder() throws -> SentenceEncoder {
    let encoder = try BERTEncoder(modelDirectory: encoderURL)
    return SentenceEncoder(embedder: encoder, tokenCounter: encoder.tokenizer)
  }
}

/// An encoder and the tokenizer that measures chunk budgets in its own tokens.
public struct SentenceEncoder: Sendable {
  public let embedder: any TextEmbedder
  public let tokenCounter: any TokenCounter
}

/// A model file missing from the models folder, with how to get it.
public struct ModelDirectoryError: Error, CustomStringConvertible, Sendable {
  public var path: String
  public var reason: String
  public var description: String { "\(path): \(reason)" }
}
