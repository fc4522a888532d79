import ArgumentParser
import Foundation
import TomeCore
import TomeKit
import TomeReasoning

/// The answering options `ask`, `chat` and `batch` share: retrieval depth, ordering, model or
/// endpoint, sampling, prompts.
struct AnswerOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Answering strategy: \(StrategyKind.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")).",
      valueName: "name"))
  var strategy: StrategyKind = .rag

  @Option(name: .long, help: "For agents: read the top documents a broad search finds (top) or the whole collection (all).")
  var scope: AgentsStrategy.Scope = .top

  @Option(name: .long, parsing: .unconditional, help: "For agents: windows the seeking agents read (top scope).")
  var agents = 4

  // Not `--parallel`: batch and bench qa have their own `--parallel` (questions at once), and
  // two options of one name left this one unreachable there.
  @Option(
    name: .customLong("parallel-agents"), parsing: .unconditional,
    help: "For agents over --endpoint: agents that ask the server at once (the in-process model reads one window at a time).")
  var parallelAgents = 1

  @Option(name: .long, parsing: .unconditional, help: "For gor: questions simulated to cover the text (records already covering a stretch are reused).")
  var questions = 12

  @Option(
    name: .customLong("segment-tokens"), parsing: .unconditional,
    help: ArgumentHelp("For infty, mapreduce and attend: tokens read per segment (default: what the window leaves, at most 1536; attend: 1024).", valueName: "n"))
  var segmentTokens: Int?

  @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("For infty and attend: segments read at most (default: the whole text).", valueName: "n"))
  var rounds: Int?

  // `.unconditional`: `-k -3` reaches validate() and gets its range message, instead of
  // argument-parser's "Missing value for '-k'".
  @Option(name: .shortAndLong, parsing: .unconditional, help: "Chunks to retrieve.")
  var k = 12

  @Option(name: .long, help: ArgumentHelp("GGUF chat model file. Default: SmolLM2-135M-Instruct in the model folder.", valueName: "file"))
  var model: String?

  @OptionGroup var chatTemplate: ChatTemplateOption

  @Option(
    name: .long,
    help: ArgumentHelp(
      "OpenAI-compatible server to answer with instead of the in-process model (llama.cpp server, Ollama, vLLM), e.g. http://127.0.0.1:8080.",
      valueName: "url"))
  var endpoint: String?

  @Option(name: .customLong("endpoint-model"), help: ArgumentHelp("Model name to request from --endpoint.", valueName: "name"))
  var endpointModel: String?

  @Option(
    name: .customLong("token-env"),
    help: ArgumentHelp("Environment variable holding the bearer token for --endpoint.", valueName: "name"))
  var tokenVariable: String?

  @Option(
    name: .customLong("endpoint-timeout"),
    help: ArgumentHelp("Seconds --endpoint may stay silent before the question fails.", valueName: "seconds"))
  var endpointTimeout = 60.0

  @Option(name: .long, parsing: .unconditional, help: "Most tokens in the answer.")
  var maxTokens = 256

  @Option(name: .long, parsing: .unconditional, help: "Sampling temperature (0 = greedy).")
  var temperature = 0.0

  @Option(name: .long, help: ArgumentHelp("Use at most this many tokens of the model's context (default: all of it).", valueName: "n"))
  var context: Int?

  @Flag(name: .long, help: "Keep passages in rank order instead of edge order.")
  var noReorder = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Re-rank the first N hits by the likelihood of the question after each passage (in-process model; cheap with `tome kv build`), then keep -k.",
      valueName: "n"))
  var rerank: Int?

  @Flag(
    name: .customLong("evidence-attention"),
    help: "Order evidence sentences by the model's attention from the question (sink-corrected, layer 8) together with the encoder; in-process model only, one extra pass over the passages.")
  var evidenceAttention = false

  @Flag(
    name: .customLong("no-kv-pages"),
    help: "Read every passage with the model even when the index has stored KV pages for it (`tome kv build`), e.g. to compare.")
  var noKVPages = false
  /// `--filter`'s values.
  enum Filter: String, ExpressibleByArgument, CaseIterable {
    case none, gem
  }

  @Option(
    name: .long,
    help: ArgumentHelp(
      "For rag and attend: none, or gem (GemFilter: read the answering prompt through the model's first layers and keep the --filter-tokens passage tokens a middle layer's last query points at, with the template and question; applies when the passages hold more than --filter-tokens tokens; in-process model only).",
      valueName: "none|gem"))
  var filter: Filter = .none

  @Option(
    name: .customLong("filter-tokens"), parsing: .unconditional,
    help: ArgumentHelp("With --filter gem: passage tokens kept (default \(GemFilter.Configuration().keptTokens)).", valueName: "n"))
  var filterTokens: Int?

  @Option(
    name: .customLong("filter-layer"), parsing: .unconditional,
    help: ArgumentHelp("With --filter gem: the layer that chooses, from 0 (default \(GemFilter.Configuration().layer), from a needle sweep on SmolLM2-135M).", valueName: "n"))
  var filterLayer: Int?

  @Option(name: .long, help: ArgumentHelp("Folder of prompt templates. Default: $TOME_PROMPTS, else the repository's Prompts/.", valueName: "dir"))
  var prompts: String?

  func validate() throws {
    guard k >= 1 && k <= 200 else { throw ValidationError("-k must be between 1 and 200 (got \(k))") }
    guard maxTokens >= 1 && maxTokens <= 8192 else { throw ValidationError("--max-tokens must be between 1 and 8192 (got \(maxTokens))") }
    guard temperature >= 0 && temperature <= 5 else { throw ValidationError("--temperature must be between 0 and 5 (got \(temperature))") }
    guard endpointTimeout.isFinite, endpointTimeout > 0, endpointTimeout <= 3600 else {
      throw ValidationError("--endpoint-timeout must be between 0 and 3600 seconds (got \(endpointTimeout))")
    }
    guard agents >= 1 && agents <= 256 else { throw ValidationError("--agents must be between 1 and 256 (got \(agents))") }
    guard questions >= 1 && questions <= 200 else { throw ValidationError("--questions must be between 1 and 200 (got \(questions))") }
    if let segmentTokens, segmentTokens < 64 { throw ValidationError("--segment-tokens must be at least 64 (got \(segmentTokens))") }
    if let rounds, rounds < 1 { throw ValidationError("--rounds must be at least 1 (got \(rounds))") }
    guard parallelAgents >= 1 && parallelAgents <= 64 else {
      throw ValidationError("--parallel-agents must be between 1 and 64 (got \(parallelAgents))")
    }
    if parallelAgents > 1 && endpoint == nil {
      throw ValidationError("--parallel-agents needs --endpoint: the in-process model reads one window at a time")
    }
    if let rerank {
      guard (1...200).contains(rerank) else { throw ValidationError("--rerank must be between 1 and 200 (got \(rerank))") }
      if endpoint != nil { throw ValidationError("--rerank scores with the in-process model's cache; it does not work with --endpoint") }
    }
    if evidenceAttention && endpoint != nil {
      throw ValidationError("--evidence-attention reads the in-process model's attention; it does not work with --endpoint")
    }
    if filter == .gem {
      guard strategy == .rag || strategy == .attend else {
        throw ValidationError("--filter gem works with --strategy rag or attend (got \(strategy.rawValue))")
      }
      if let filterTokens, !(16...65_536).contains(filterTokens) {
        throw ValidationError("--filter-tokens must be between 16 and 65536 (got \(filterTokens))")
      }
      if let filterLayer, filterLayer < 0 { throw ValidationError("--filter-layer must be 0 or more (got \(filterLayer))") }
    } else if filterTokens != nil || filterLayer != nil {
      throw ValidationError("--filter-tokens and --filter-layer need --filter gem")
    }
    if let context, context < 64 { throw ValidationError("--context must be at least 64 tokens (got \(context))") }
    if endpoint != nil && model != nil { throw ValidationError("--model and --endpoint exclude each other: one model answers") }
    if let endpoint {
      guard let url = URL(string: endpoint), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
        throw ValidationError("--endpoint must be an http(s) URL such as http://127.0.0.1:8080 (got \(endpoint))")
      }
      if chatTemplate.format != nil { throw ValidationError("--chat-template is for the in-process model; the server at --endpoint applies its own") }
    } else if endpointModel != nil || tokenVariable != nil {
      throw ValidationError("--endpoint-model and --token-env need --endpoint")
    }
  }

  /// Where the model comes from.
  var modelSource: LanguageModelSource {
    if let endpoint, let url = URL(string: endpoint) {
      return .endpoint(url, model: endpointModel, tokenVariable: tokenVariable, idleTimeout: .milliseconds(Int64(endpointTimeout * 1000)))
    }
    return .local(file: model.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }, template: chatTemplate.format)
  }

  /// The answerer settings these options describe.
  var settings: AnswererSettings {
    let cwd = Terminal.workingDirectory
    let promptDirectory = prompts.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath, isDirectory: true) }
      ?? Self.defaultPrompts(environment: ProcessInfo.processInfo.environment, executable: Self.executableURL, workingDirectory: cwd)
    var rag = RAGStrategy.Configuration(ordering: noReorder ? .rank : .edge)
    rag.contextTokens = context
    if evidenceAttention { rag.evidence.attention = AttentionEvidence() }
    rag.rerankDepth = rerank
    if filter == .gem {
      var gem = GemFilter.Configuration()
      if let filterTokens { gem.keptTokens = filterTokens }
      if let filterLayer { gem.layer = filterLayer }
      rag.filter = gem
    }
    let agentSettings = AgentsStrategy.Configuration(agents: agents, scope: scope, parallel: parallelAgents)
    let strategies = StrategyFactory(
      rag: rag, agents: agentSettings, gor: .init(questions: questions),
      infty: .init(segmentTokens: segmentTokens, rounds: rounds), mapreduce: .init(windowTokens: segmentTokens),
      attend: .init(segmentTokens: segmentTokens ?? 1_024, rounds: rounds))
    return AnswererSettings(
      retrieval: .init(k: k), strategies: strategies, strategy: strategy,
      model: modelSource, prompts: promptDirectory, kvPages: !noKVPages)
  }

  /// Sampling for one answer (seeded when sampling, so a run can be repeated).
  var parameters: GenerationParameters {
    var parameters = GenerationParameters(maxTokens: maxTokens, temperature: temperature)
    if temperature > 0 { parameters.seed = 42 }
    return parameters
  }

  /// Checks that the model file exists before the slower loads start, with how to get one.
  func checkModelFile(_ directory: ModelDirectory) throws {
    guard endpoint == nil else { return }
    if let model {
      let url = URL(fileURLWithPath: (model as NSString).expandingTildeInPath)
      if !FileManager.default.fileExists(atPath: url.path) { throw CLIError("model file \(url.path) does not exist") }
    } else if !FileManager.default.fileExists(atPath: directory.defaultChatModelURL.path) {
      throw CLIError("model file \(directory.defaultChatModelURL.path) does not exist; run Scripts/bootstrap.sh or pass --model FILE")
    }
  }

  /// The prompt folder when `--prompts` is not given: `$TOME_PROMPTS` when set, else the first
  /// `Prompts/` holding `rag-answer.txt` found walking up from the executable's folder (a build
  /// folder sits inside the repository), else `Prompts/` in the working directory.
  static func defaultPrompts(environment: [String: String], executable: URL, workingDirectory: URL) -> URL {
    if let env = environment["TOME_PROMPTS"], !env.isEmpty { return URL(fileURLWithPath: env, isDirectory: true) }
    var folder = executable.resolvingSymlinksInPath().deletingLastPathComponent()
    while folder.path != "/" && !folder.path.isEmpty {
      let candidate = folder.appendingPathComponent("Prompts", isDirectory: true)
      if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("rag-answer.txt").path) { return candidate }
      folder = folder.deletingLastPathComponent()
    }
    return workingDirectory.appendingPathComponent("Prompts", isDirectory: true)
  }

  /// The running executable (through /proc on Linux, so a `tome` found on PATH resolves too).
  static var executableURL: URL {
    let proc = URL(fileURLWithPath: "/proc/self/exe")
    if FileManager.default.fileExists(atPath: proc.path) { return proc.resolvingSymlinksInPath() }
    return Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
  }
}

