import ArgumentParser
import Foundation
import TomeCore
import TomeKit
import TomeReasoning
import TomeServe

/// `tome serve`: an OpenAI-compatible HTTP server over the in-process model.
struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Serve the in-process model over an OpenAI-compatible HTTP API.",
    discussion: """
      Routes: POST /v1/chat/completions (streaming and not), GET /v1/models, GET /health, \
      and with --index, POST /v1/ask (a question answered from the index, with citations, as \
      JSON; without --index it answers 404; its body takes "question", "strategy", \
      "max_tokens" and "document", a path or a list of paths to answer from, as `tome ask \
      --document` takes them). Answers to /v1/ask are kept as records (`tome records`) unless \
      --no-record. Binds 127.0.0.1 unless --host says otherwise; a \
      host that does not resolve to loopback only needs --token (or $TOME_SERVE_TOKEN), sent \
      as `Authorization: Bearer`. The model generates one reply at a time (chat and ask \
      alike); up to --max-queue requests wait, more get 503. A client that disconnects \
      cancels its request.

      Browser safety: a request's Host must be the bound address or a loopback name \
      (--allow-host adds names), POST bodies must be application/json, and requests with an \
      Origin header are refused unless --allow-origin lists it. A request must arrive whole \
      within --request-timeout seconds. Ctrl-C stops the server after the requests in flight.
      """)

  @Option(help: "Address to bind.")
  var host = "127.0.0.1"

  @Option(help: "Port to listen on (0 picks a free one).")
  var port = 8080

  @Option(help: "Bearer token clients must send (default: $TOME_SERVE_TOKEN). Required off loopback.")
  var token: String?

  @Option(help: ArgumentHelp("GGUF chat model file (default: SmolLM2-135M-Instruct in --models).", valueName: "file"))
  var model: String?

  @OptionGroup var chatTemplate: ChatTemplateOption

  @Option(name: .customLong("max-body"), help: ArgumentHelp("Largest request body accepted, in bytes.", valueName: "bytes"))
  var maxBody = 1 << 20

  @Option(name: .customLong("max-queue"), help: ArgumentHelp("Requests that may wait while one generates.", valueName: "n"))
  var maxQueue = 8

  @OptionGroup var models: ModelOptions

  @Option(
    name: .long,
    help: ArgumentHelp("Index that POST /v1/ask answers from (name under Indexes/ or a path); without it /v1/ask answers 404.", valueName: "name|path"))
  var index: String?

  @OptionGroup var recording: RecordOption

  @Option(name: .long, help: ArgumentHelp("Folder of prompt templates for /v1/ask. Default: $TOME_PROMPTS, else the repository's Prompts/.", valueName: "dir"))
  var prompts: String?

  @Option(
    name: .customLong("allow-origin"),
    help: ArgumentHelp("A browser origin (scheme://host:port) allowed to call the server; repeatable. Default: none.", valueName: "origin"))
  var allowedOrigins: [String] = []

  @Option(
    name: .customLong("allow-host"),
    help: ArgumentHelp("A Host name accepted besides the bound address and loopback names; repeatable.", valueName: "name"))
  var allowedHosts: [String] = []

  @Option(
    name: .customLong("request-timeout"),
    help: ArgumentHelp("Seconds a request (head and body) may take to arrive before the connection is closed.", valueName: "seconds"))
  var requestTimeout = 30.0

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0…65535 (got \(port))") }
    guard maxBody > 0 else { throw ValidationError("--max-body must be positive (got \(maxBody))") }
    guard maxQueue >= 0 else { throw ValidationError("--max-queue must be at least 0 (got \(maxQueue))") }
    guard requestTimeout.isFinite, requestTimeout > 0, requestTimeout <= 86_400 else {
      throw ValidationError("--request-timeout must be between 0 and 86400 seconds (got \(requestTimeout))")
    }
    let bind = BindAddress(resolving: host)
    guard let address = bind.addresses.first else { throw ValidationError("--host \(host) does not resolve to an address") }
    if !bind.isLoopback, (resolvedToken ?? "").isEmpty {
      throw ValidationError("binding \(host) (\(address), not loopback) requires --token or $TOME_SERVE_TOKEN")
    }
  }

  var resolvedToken: String? {
    if let token { return token }
    if let env = ProcessInfo.processInfo.environment["TOME_SERVE_TOKEN"], !env.isEmpty { return env }
    return nil
  }

  func run() async throws {
    let file = model.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
    let languageModel = try LanguageModelSource.local(file: file, template: chatTemplate.format).load(models: models.directory, environment: ProcessInfo.processInfo.environment)
    let server = try TomeServer(
      model: languageModel,
      configuration: .init(
        host: host, port: port, token: resolvedToken, maxBodyBytes: maxBody, maxQueue: maxQueue,
        allowedOrigins: allowedOrigins, allowedHosts: allowedHosts, requestTimeout: .milliseconds(Int64(requestTimeout * 1000))),
      answerer: try index.map { try makeAnswerer(index: $0, model: languageModel) })
    try await server.run { url in
      FileHandle.standardOutput.write(Data("listening on \(url)  (model \(languageModel.identifier); Ctrl-C to stop)\n".utf8))
    }
  }

  /// The `rag` answerer over `index`, sharing the server's model.
  private func makeAnswerer(index: String, model: any LanguageModel) throws -> Answerer {
    let cwd = Terminal.workingDirectory
    let collection = try Collection(location: IndexLocation(argument: index, workingDirectory: cwd), create: false)
    let prompts = self.prompts.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath, isDirectory: true) }
      ?? AnswerOptions.defaultPrompts(environment: ProcessInfo.processInfo.environment, executable: AnswerOptions.executableURL, workingDirectory: cwd)
    var answerer = try Answerer.open(
      collection: collection, models: models.directory, settings: AnswererSettings(prompts: prompts), model: model,
      environment: ProcessInfo.processInfo.environment, recordOrigin: recording.origin(.serve))
    answerer.recordFailure = RecordOption.warn
    return answerer
  }
}
