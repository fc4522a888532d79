public import TomeCore
import Foundation

extension LocalLanguageModel: EarlyExitProbing {
  public var layerCount: Int { model.configuration.layerCount }

  /// Reads on a context of its own that caches only the layers read (the parked context for
  /// prefix reuse is left alone), on its own thread, like `stream`.
  public func readEarly(tokens: [Int], layers: [Int], queryCount: Int) async throws -> [LayerReading] {
    let model = self.model
    let cachedLayers = min((layers.max() ?? 0) + 1, model.configuration.layerCount)
    return try await withCheckedThrowingContinuation { continuation in
      let thread = Thread {
        do {
          let context = LlamaContext(model: model, cachedLayers: max(cachedLayers, 1))
          continuation.resume(returning: try context.readEarly(tokens: tokens, layers: layers, queryCount: queryCount))
        } catch {
          continuation.resume(throwing: error)
        }
      }
      thread.stackSize = 8 << 20
      thread.start()
    }
  }
}
