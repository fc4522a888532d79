public import Foundation
public import TomeCore
import TomeEmbed

/// Where model weights live (`$TOME_MODELS`, default `~/.cache/tome/models`), and the one place
/// that turns them into concrete encoders and models.
public struct ModelDirectory: Sendable, Hashable {
  /// The folder holding `all-MiniLM-L6-v2/` and GGUF files.
  public var url: URL

  public init(url: URL) {
    self.url = url
  }

  /// `~/.cache/tome/models`.
  public static var userDefault: ModelDirectory {
    ModelDirectory(url: FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/tome/models"))
  }

  /// The sentence encoder's folder.
  public var encoderURL: URL { url.appendingPathComponent("all-MiniLM-L6-v2") }

  /// Loads the in-process sentence encoder and its WordPiece tokenizer.
  ///
  /// - Throws: `EmbedError` naming the missing or corrupt file and how to fetch the weights.
  public func loadEncoder() throws -> Encoder {
    let encoder = try BERTEncoder(modelDirectory: encoderURL)
    return Encoder(embedder: encoder, tokenCounter: encoder.tokenizer)
  }
}

/// An encoder and the tokenizer that measures chunk budgets in its own tokens.
public struct Encoder: Sendable {
  public let embedder: any TextEmbedder
  public let tokenCounter: any TokenCounter
}
