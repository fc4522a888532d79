/// Backend-neutral seams for text generation.
///
/// Strategies see only these protocols, so every strategy runs on the in-process GGUF model
/// (TomeModel) or an OpenAI-compatible server (TomeLLM). Capabilities that only an in-process
/// model can offer (direct KV-cache access, attention taps, early exit) are separate, optional
/// protocols: a strategy checks `model as? any AttentionProbing` and falls back, or says why it
/// cannot, when it is absent.

/// One turn of a conversation.
public struct ChatMessage: Sendable, Hashable, Codable {
  public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
    case system, user, assistant
  }

  public var role: Role
  public var content: String

  public init(role: Role, content: String) {
    self.role = role
    self.content = content
  }

  public static func system(_ content: String) -> ChatMessage { ChatMessage(role: .system, content: content) }
  public static func user(_ content: String) -> ChatMessage { ChatMessage(role: .user, content: content) }
  public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: .assistant, content: content) }
}

/// How to pick tokens and when to stop. The defaults are greedy decoding of up to 512 tokens.
///
/// Sampling order (llama.cpp's): repetition penalty → top-k → temperature → top-p → draw.
/// `temperature == 0` is greedy and ignores the other sampling settings.
public struct GenerationParameters: Sendable, Hashable {
  /// Most tokens to generate.
  public var maxTokens: Int
  /// 0 = greedy (argmax). Typical: 0.7.
  public var temperature: Double
  /// Keep only the k most likely tokens (0 = off).
  public var topK: Int
  /// Keep the smallest set of tokens whose probabilities sum to at least p (1 = off).
  public var topP: Double
  /// Divides positive logits (multiplies negative ones) of recently seen tokens (1 = off).
  public var repetitionPenalty: Double
  /// How many recent tokens the repetition penalty looks at.
  public var repetitionWindow: Int
  /// Seed of the sampler's random generator; the same seed gives the same text. nil = random.
  public var seed: UInt64?
  /// Generation stops before any of these strings; they are not part of the output.
  public var stop: [String]

  public init(
    maxTokens: Int = 512, temperature: Double = 0, topK: Int = 40, topP: Double = 0.95,
    repetitionPenalty: Double = 1, repetitionWindow: Int = 64, seed: UInt64? = nil, stop: [String] = []
  ) {
    self.maxTokens = maxTokens
    self.temperature = temperature
    self.topK = topK
    self.topP = topP
    self.repetitionPenalty = repetitionPenalty
    self.repetitionWindow = repetitionWindow
    self.seed = seed
    self.stop = stop
  }

  /// Greedy decoding of up to `maxTokens` tokens.
  public static func greedy(maxTokens: Int = 512) -> GenerationParameters {
    GenerationParameters(maxTokens: maxTokens)
  }
}

/// A model that turns chat messages into streamed text.
///
/// Implementations: the in-process GGUF runtime (`TomeModel.LocalLanguageModel`) and the
/// OpenAI-compatible HTTP client. Cancelling the task that consumes `stream` stops generation.
public protocol LanguageModel: Sendable {
  /// A stable name for logs and the index's `meta` table (model file or server model id).
  var identifier: String { get }
  /// Most tokens (prompt + generated) the model attends to.
  var contextLength: Int { get }
  /// Tokens `text` becomes with this model's own tokenizer (no template, no BOS).
  func tokenCount(_ text: String) throws -> Int
  /// Tokens the prompt for `messages` takes after the chat template (for context budgets).
  func promptTokenCount(_ messages: [ChatMessage]) throws -> Int
  /// Generates the assistant's reply to `messages`, as text pieces in order.
  func stream(_ messages: [ChatMessage], parameters: GenerationParameters) -> AsyncThrowingStream<String, any Error>
}

extension LanguageModel {
  /// The whole reply to `messages` (collects `stream`).
  public func reply(to messages: [ChatMessage], parameters: GenerationParameters = .greedy()) async throws -> String {
    var out = ""
    for try await piece in stream(messages, parameters: parameters) { out += piece }
    return out
  }
}

/// How a page of cached keys and values is stored.
public enum KVPageFormat: String, Sendable, Hashable, Codable {
  /// IEEE half floats, little-endian: exact for a half-precision cache, 2 bytes per value.
  case float16
  /// Symmetric int8 with one f32 scale per (layer, position, K or V) row: 1 byte per value.
  case int8
}

/// Keys and values of a run of positions, detached from any model session, for storage in
/// SQLite BLOBs or page files (ARCHITECTURE.md `kv_pages`).
public struct KVPage: Sendable, Hashable, Codable {
  public var format: KVPageFormat
  /// Identifier of the model that produced it; pages never mix models.
  public var modelIdentifier: String
  public var layerCount: Int
  /// Floats per position per layer for K (and for V): kv heads × head dimension.
  public var kvDimension: Int
  /// The token ids whose keys and values these are.
  public var tokens: [Int]
  /// Position of the first token when the page was computed (keys carry its RoPE rotation).
  public var startPosition: Int
  /// Layer-major: for each layer, K rows then V rows (`tokens.count` rows each) in `format`.
  public var payload: [UInt8]
  /// Per-row scales for `.int8` (same row order as `payload`); empty for `.float16`.
  public var scales: [Float]

  public init(
    format: KVPageFormat, modelIdentifier: String, layerCount: Int, kvDimension: Int, tokens: [Int],
    startPosition: Int, payload: [UInt8], scales: [Float]
  ) {
    self.format = format
    self.modelIdentifier = modelIdentifier
    self.layerCount = layerCount
    self.kvDimension = kvDimension
    self.tokens = tokens
    self.startPosition = startPosition
    self.payload = payload
    self.scales = scales
  }
}

/// A stateful sequence whose KV cache the caller controls.
///
/// Why: reusing a shared prefix's cache cut follow-up answers from ~8 s to under 1 s
/// (PERFORMANCE.md), and paging strategies (RetroLM-style, InfiniRetri's KV mode) store
/// per-chunk pages and splice them into new sequences, re-rotating keys to new positions.
/// Only an in-process model can offer this.
public protocol KVCacheAccess: AnyObject {
  /// Token ids whose keys and values are cached, in position order.
  var cachedTokens: [Int] { get }
  /// Number of cached positions (`cachedTokens.count`).
  var positionCount: Int { get }
  /// Runs the model over `tokens`, appending their keys and values.
  func append(tokens: [Int]) throws
  /// Forgets positions from `count` on.
  func truncate(to count: Int)
  /// An independent copy of this sequence (cache included), e.g. to branch from a prefix.
  func copySequence() -> Self
  /// The keys and values of `positions` as a detached page.
  func exportPage(positions: Range<Int>, format: KVPageFormat) -> KVPage
  /// Appends `tokens` and returns the log-probability of each of `tokens[first...]` given
  /// everything before it (`first ≥ 1`: a token is scored from the logits at the token before
  /// it, which this call computes). For query likelihood: how well a passage predicts a question.
  func appendScoring(tokens: [Int], scoredFrom first: Int) throws -> [Double]
  /// Appends a page at the end of the sequence, re-rotating its keys from the page's start
  /// position to the current end. Throws when the page is from another model.
  func importPage(_ page: KVPage) throws
  /// Re-rotates cached keys of `positions` by `delta` positions (RoPE is a rotation, so
  /// shifting by Δ equals recomputing at position + Δ).
  func shiftKeys(positions: Range<Int>, by delta: Int)
  /// Appends `prompt`, then generates, calling `onText` with each completed piece of text
  /// (return `false` to stop). Generated tokens stay in the cache, so a later call continues
  /// the conversation. Synchronous: the sequence belongs to the caller's task.
  /// - Returns: the whole generated text.
  func generateContinuation(
    prompt: [Int], parameters: GenerationParameters, onText: (String) -> Bool
  ) throws -> String
}

/// A model whose sessions expose their KV cache. `makeSequence` starts an empty sequence.
public protocol KVPaging: LanguageModel {
  associatedtype Sequence: KVCacheAccess
  func makeSequence() -> Sequence
  /// Token ids of `text` (no template, special-token texts parsed).
  func tokenize(_ text: String) -> [Int]
  /// Token ids of the full prompt for `messages`, ending with the assistant header.
  func promptTokens(_ messages: [ChatMessage]) throws -> [Int]
  /// Generates the continuation of raw `prompt` tokens (no chat template applied), as text
  /// pieces in order: how a prompt edited at the token level (GemFilter's selection) is answered.
  func stream(prompt: [Int], parameters: GenerationParameters) -> AsyncThrowingStream<String, any Error>
}

/// Read access to the model's attention while it reads new tokens.
///
/// Why: InfiniRetri and Recycled Attention pick what to keep from the model's own attention;
/// GemFilter, RetrievalAttention and TokenSelect need post-RoPE queries and keys
/// (METHODS-INDEX-KV.md §7). On this model a middle-late layer with sink correction works
/// best (§9), so the layer is a parameter.
public protocol AttentionProbing: AnyObject {
  /// Transformer layers; `layer` arguments run from 0 to `layerCount - 1`.
  var layerCount: Int { get }
  /// Appends `tokens` and returns, for each requested absolute query position among them,
  /// the post-softmax attention row at `layer` summed over heads (length position + 1;
  /// each head's row sums to 1, so the sum is the head count).
  func appendCapturingAttention(tokens: [Int], layer: Int, queryPositions: [Int]) throws -> [Int: [Float]]
  /// Appends `tokens` and returns their post-RoPE queries at `layer`, laid out
  /// `[head][token][headDimension]`.
  func appendCapturingQueries(tokens: [Int], layer: Int) throws -> [Float]
  /// Post-RoPE cached keys at `layer` for `positions`, laid out `[kvHead][token][headDimension]`.
  func keys(layer: Int, positions: Range<Int>) -> [Float]
}

/// What one layer sees of a prompt: the post-RoPE queries of its last positions for every
/// query head and every position's post-RoPE key, as GemFilter scores them
/// (METHODS-INDEX-KV.md §5).
public struct LayerReading: Sendable, Hashable {
  /// The layer read (0-based).
  public var layer: Int
  public var headCount: Int
  public var kvHeadCount: Int
  public var headDimension: Int
  /// Positions read (the prompt's length).
  public var tokenCount: Int
  /// The positions whose queries are read: the last ones of the prompt.
  public var queryPositions: Range<Int>
  /// Their queries, `[position][head][headDimension]` in position order.
  public var queries: [Float]
  /// Every position's key, `[kvHead][token][headDimension]`. Grouped-query attention: query
  /// head `h` reads kv head `h / (headCount / kvHeadCount)`, so expanding the kv heads is
  /// indexing, not copying.
  public var keys: [Float]

  public init(
    layer: Int, headCount: Int, kvHeadCount: Int, headDimension: Int, tokenCount: Int, queryPositions: Range<Int>,
    queries: [Float], keys: [Float]
  ) {
    precondition(headCount % kvHeadCount == 0, "query heads come in whole groups per kv head")
    precondition(queryPositions.upperBound <= tokenCount, "queries of read positions")
    precondition(queries.count == queryPositions.count * headCount * headDimension, "one query row per position and head")
    precondition(keys.count == kvHeadCount * tokenCount * headDimension, "one key row per kv head and position")
    self.layer = layer
    self.headCount = headCount
    self.kvHeadCount = kvHeadCount
    self.headDimension = headDimension
    self.tokenCount = tokenCount
    self.queryPositions = queryPositions
    self.queries = queries
    self.keys = keys
  }
}

/// A model that can read a prompt through its first layers only.
///
/// Why: GemFilter (Shi et al. 2024, arXiv 2409.17422) finds the tokens a question needs from a
/// middle layer's queries and keys, so the pass that finds them can stop there and cost
/// about (r + 1) / L of a full prefill. Only an in-process model can stop early.
public protocol EarlyExitProbing: Sendable {
  /// Transformer layers; `layers` arguments run from 0 to `layerCount - 1`.
  var layerCount: Int { get }
  /// Runs layers 0…max(`layers`) over `tokens` from position 0 in a fresh pass of its own (in
  /// chunks, keeping keys and values for those layers only, no output head) and returns the
  /// reading at each of `layers`, in the order given, with the queries of the last
  /// `queryCount` positions (at least 1, at most `tokens.count`). `tokens` may be longer than
  /// `contextLength`: positions past the trained window are out of distribution, so a caller
  /// going there should have measured that its selection survives. Runs off the cooperative
  /// pool, like generation.
  func readEarly(tokens: [Int], layers: [Int], queryCount: Int) async throws -> [LayerReading]
}

/// A model that scores fixed continuations by its own log-probabilities.
///
/// Why: a 135M model cannot be trusted to write "yes", "NO INFORMATION" or a paragraph number
/// on its own, but it can be asked which of them is likeliest. Decision steps of the
/// strategies (is this passage relevant? continue or stop?) read these scores instead of
/// parsing free text. An HTTP endpoint without logprobs does not conform; the caller falls
/// back to parsing a short reply and says so in the trace.
public protocol ChoiceScoring: LanguageModel {
  /// For each option, the summed log-probability of its tokens as the start of the assistant's
  /// reply to `messages`. The prompt is read once; each option costs its own tokens.
  func logProbabilities(of options: [String], after messages: [ChatMessage]) async throws -> [Double]
}
