/// Why a strategy could not answer.
public struct ReasoningError: Error, CustomStringConvertible, Sendable, Equatable {
  private enum Code: Equatable, Sendable {
    case missingTemplate(path: String)
    case unreadableTemplate(path: String, reason: String)
    case unknownPlaceholder(template: String, name: String)
    case questionTooLong(tokens: Int, limit: Int)
    case contextTooSmall(needed: Int, available: Int)
    case emptyQuestion
    case invalidMaxTokens(Int)
    case windowTooSmall(strategy: String, needed: Int, available: Int)
    case attentionUnavailable(model: String)
    case attentionLayerOutOfRange(layer: Int, layers: Int)
    case rerankUnavailable(model: String)
    case filterUnavailable(model: String)
    case filterLayerOutOfRange(layer: Int, layers: Int)
  }

  private var code: Code

  /// The prompt template file does not exist (or cannot be read).
  public static func missingTemplate(path: String) -> ReasoningError { ReasoningError(code: .missingTemplate(path: path)) }
  /// The prompt template path exists but is not a readable regular file.
  public static func unreadableTemplate(path: String, reason: String) -> ReasoningError {
    ReasoningError(code: .unreadableTemplate(path: path, reason: reason))
  }
  /// A template uses a `{{name}}` that the strategy does not fill.
  public static func unknownPlaceholder(template: String, name: String) -> ReasoningError {
    ReasoningError(code: .unknownPlaceholder(template: template, name: name))
  }
  /// The prompt without any passage already leaves no room for the answer.
  public static func questionTooLong(tokens: Int, limit: Int) -> ReasoningError {
    ReasoningError(code: .questionTooLong(tokens: tokens, limit: limit))
  }
  /// Not even the best passage fits next to the question and the answer.
  public static func contextTooSmall(needed: Int, available: Int) -> ReasoningError {
    ReasoningError(code: .contextTooSmall(needed: needed, available: available))
  }
  public static let emptyQuestion = ReasoningError(code: .emptyQuestion)
  /// The answer's token limit is not positive.
  public static func invalidMaxTokens(_ value: Int) -> ReasoningError { ReasoningError(code: .invalidMaxTokens(value)) }

  /// A reading strategy's segment does not fit beside its question, summary and evidence.
  public static func windowTooSmall(strategy: String, needed: Int, available: Int) -> ReasoningError {
    ReasoningError(code: .windowTooSmall(strategy: strategy, needed: needed, available: available))
  }

  /// `attend` reads the model's attention, which only the in-process model offers.
  public static func attentionUnavailable(model: String) -> ReasoningError {
    ReasoningError(code: .attentionUnavailable(model: model))
  }
  /// Re-ranking scores with the model's log-probabilities over its own cache.
  public static func rerankUnavailable(model: String) -> ReasoningError {
    ReasoningError(code: .rerankUnavailable(model: model))
  }
  /// `attend`'s layer is not one of the model's.
  public static func attentionLayerOutOfRange(layer: Int, layers: Int) -> ReasoningError {
    ReasoningError(code: .attentionLayerOutOfRange(layer: layer, layers: layers))
  }

  /// `--filter gem` reads the model's early layers, which only the in-process model offers.
  public static func filterUnavailable(model: String) -> ReasoningError {
    ReasoningError(code: .filterUnavailable(model: model))
  }
  /// GemFilter's layer is not one of the model's.
  public static func filterLayerOutOfRange(layer: Int, layers: Int) -> ReasoningError {
    ReasoningError(code: .filterLayerOutOfRange(layer: layer, layers: layers))
  }

  /// True when the question or its settings are at fault (too long, empty, a bad limit), not
  /// the collection or the templates: a server answers these with 400, not 500.
  public var isRequestProblem: Bool {
    switch code {
    case .questionTooLong, .contextTooSmall, .emptyQuestion, .invalidMaxTokens, .windowTooSmall, .attentionUnavailable,
      .attentionLayerOutOfRange, .rerankUnavailable, .filterUnavailable, .filterLayerOutOfRange:
      true
    case .missingTemplate, .unreadableTemplate, .unknownPlaceholder: false
    }
  }

  public var description: String {
    switch code {
    case .missingTemplate(let path):
      return "prompt template \(path) is missing; restore it from the repository's Prompts/ or pass --prompts DIR"
    case .unreadableTemplate(let path, let reason):
      return "prompt template \(path) \(reason)"
    case .unknownPlaceholder(let template, let name):
      return "prompt template \(template) uses {{\(name)}}, which this strategy does not fill"
    case .questionTooLong(let tokens, let limit):
      return "the question is too long: the prompt needs \(tokens) tokens before any passage, but the model's context leaves \(limit) (lower --max-tokens or shorten the question)"
    case .contextTooSmall(let needed, let available):
      return "the best passage needs \(needed) tokens but only \(available) are left in the model's context (lower --max-tokens)"
    case .emptyQuestion:
      return "the question is empty"
    case .invalidMaxTokens(let value):
      return "the answer's token limit must be positive (got \(value))"
    case .windowTooSmall(let strategy, let needed, let available):
      return "\(strategy) needs segments of at least \(max(needed, 64)) tokens but the context leaves \(available) beside the question, summary and evidence (raise --context or lower --max-tokens)"
    case .attentionUnavailable(let model):
      return "attend needs the in-process model: it reads the model's attention, which \(model) does not offer (drop --endpoint or choose another --strategy)"
    case .attentionLayerOutOfRange(let layer, let layers):
      return "attend reads layer \(layer), but the model has layers 0…\(layers - 1)"
    case .rerankUnavailable(let model):
      return "re-ranking needs the in-process model: it scores passages with the model's own cache, which \(model) does not offer (drop --endpoint or --rerank)"
    case .filterUnavailable(let model):
      return "--filter gem needs the in-process model: it reads the model's early layers, which \(model) does not offer (drop --endpoint or use --filter none)"
    case .filterLayerOutOfRange(let layer, let layers):
      return "--filter gem reads layer \(layer), but the model has layers 0…\(layers - 1)"
    }
  }
}
