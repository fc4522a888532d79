import Foundation
import Hummingbird
import Logging
import NIOCore
public import TomeCore
import TomeReasoning

/// An OpenAI-compatible HTTP server over a `LanguageModel` (Hummingbird 2).
///
/// Routes: `POST /v1/chat/completions` (SSE when `stream` is true, else one JSON object),
/// `GET /v1/models`, `GET /health`, and `POST /v1/ask` (404 until a `QuestionAnswering` is
/// given). The in-process model generates one reply at a time: up to `maxQueue` requests
/// (chat and ask alike) wait their turn, more get 503 with `Retry-After`. Bodies over
/// `maxBodyBytes` get 413. With a token, every route but `/health` needs
/// `Authorization: Bearer <token>` (else 401); a host that does not resolve to loopback only
/// requires a token.
///
/// Hardening (issue 11): every request's `Host` must name the bound address (421), an
/// `Origin` must be allowed (403), POST bodies must be `application/json` (415), and numbers
/// in bodies are range-checked (400 naming the field). A request must arrive whole within
/// `requestTimeout`, and a client that disconnects cancels its generation, queued or running.
public struct TomeServer: Sendable {
  public struct Configuration: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var token: String?
    public var maxBodyBytes: Int
    /// Requests that may wait while one generates.
    public var maxQueue: Int
    /// `max_tokens` when a request gives none.
    public var defaultMaxTokens: Int
    /// The model id reported by `/v1/models` and in responses; nil uses the model's identifier.
    public var modelName: String?
    /// Browser origins (`scheme://host[:port]`) allowed to call the server; a request with
    /// any other `Origin` header gets 403. Empty: no browser page may call it.
    public var allowedOrigins: [String]
    /// Host names accepted in `Host` besides the bound address and loopback names
    /// (`localhost`, `127.0.0.1`, `::1`); others get 421 (DNS rebinding).
    public var allowedHosts: [String]
    /// A request (head and body) must arrive within this time of the connection being ready
    /// for it, else the connection is closed (slow or stalled clients).
    public var requestTimeout: Duration

    public init(
      host: String = "127.0.0.1", port: Int = 8080, token: String? = nil, maxBodyBytes: Int = 1 << 20,
      maxQueue: Int = 8, defaultMaxTokens: Int = 512, modelName: String? = nil,
      allowedOrigins: [String] = [], allowedHosts: [String] = [], requestTimeout: Duration = .seconds(30)
    ) {
      self.host = host
      self.port = port
      self.token = token
      self.maxBodyBytes = maxBodyBytes
      self.maxQueue = maxQueue
      self.defaultMaxTokens = defaultMaxTokens
      self.modelName = modelName
      self.allowedOrigins = allowedOrigins
      self.allowedHosts = allowedHosts
      self.requestTimeout = requestTimeout
    }

    /// Whether `host` resolves, and only to loopback addresses (decided on the resolved
    /// addresses, never on the text: `127.evil.test` is not loopback).
    public var isLoopback: Bool { BindAddress(resolving: host).isLoopback }
  }

  public let model: any LanguageModel
  public let configuration: Configuration
  public let answerer: (any QuestionAnswering)?
  /// The resolved `--host`; the server binds its first address.
  public let bind: BindAddress
  private let gate: GenerationGate
  private let admission: RequestAdmission

  /// - Throws: `ServeError` when the host does not resolve, when binding a non-loopback
  ///   address without a token, or when a limit is out of range.
  public init(model: any LanguageModel, configuration: Configuration, answerer: (any QuestionAnswering)? = nil) throws {
    let bind = BindAddress(resolving: configuration.host)
    guard let first = bind.addresses.first else {
      throw ServeError("--host \(configuration.host) does not resolve to an address")
    }
    if !bind.isLoopback, (configuration.token ?? "").isEmpty {
      throw ServeError("binding \(configuration.host) (\(first), not loopback) requires --token or $TOME_SERVE_TOKEN")
    }
    guard configuration.maxBodyBytes > 0, configuration.maxQueue >= 0, (0...65535).contains(configuration.port),
      configuration.requestTimeout > .zero, configuration.defaultMaxTokens > 0
    else {
      throw ServeError("--max-body must be positive, --max-queue at least 0, --port 0…65535, --request-timeout positive")
    }
    self.model = model
    self.configuration = configuration
    self.answerer = answerer
    self.bind = bind
    self.gate = GenerationGate(maxQueue: configuration.maxQueue)
    self.admission = RequestAdmission(
      bind: bind, allowedHosts: configuration.allowedHosts, allowedOrigins: configuration.allowedOrigins)
  }

  var modelName: String { configuration.modelName ?? model.identifier }

  /// Serves until the task is cancelled or, with `handleSignals`, until SIGINT/SIGTERM, then
  /// shuts down gracefully. `onListening` gets the base URL (with the real port when
  /// `port` is 0) once the socket is bound.
  public func run(handleSignals: Bool = true, onListening: @escaping @Sendable (String) async -> Void = { _ in }) async throws {
    var logger = Logger(label: "tome.serve")
    logger.logLevel = .warning
    let host = bind.addresses[0]
    let server = self
    let timeout = TimeAmount.nanoseconds(
      configuration.requestTimeout.components.seconds * 1_000_000_000 + configuration.requestTimeout.components.attoseconds / 1_000_000_000)
    let app = Application(
      responder: CallbackResponder<ServeContext> { request, context in await server.respond(to: request, channel: context.channel) },
      server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionGuard(requestTimeout: timeout)])),
      configuration: ApplicationConfiguration(address: .hostname(host, port: configuration.port), serverName: "tome"),
      onServerRunning: { channel in
        let port = channel.localAddress?.port ?? server.configuration.port
        let shownHost = host.contains(":") ? "[\(host)]" : host
        await onListening("http://\(shownHost):\(port)")
      },
      logger: logger)
    if handleSignals {
      try await app.runService()
    } else {
      try await app.run()
    }
  }

  // MARK: Routing

  func respond(to request: Request, channel: (any Channel)? = nil) async -> Response {
    let origin = request.headers[.origin]
    if let refusal = admission.check(authority: request.head.authority, origin: origin) {
      return error(HTTPResponse.Status(code: refusal.status), refusal.message, type: "forbidden")
    }
    var response = await route(request, channel: channel)
    if let origin {  // admitted, so allowed: let the page read the answer
      response.headers[.accessControlAllowOrigin] = origin
      response.headers[.vary] = "Origin"
    }
    return response
  }

  func route(_ request: Request, channel: (any Channel)?) async -> Response {
    let path = request.uri.path
    if request.method == .options, request.headers[.origin] != nil {
      // CORS preflight from an allowed origin (others were refused above).
      var headers = HTTPFields()
      headers[.accessControlAllowMethods] = "GET, POST"
      headers[.accessControlAllowHeaders] = "authorization, content-type"
      headers[.accessControlMaxAge] = "600"
      return Response(status: .noContent, headers: headers)
    }
    if request.method == .post, let refusal = RequestAdmission.checkJSONContentType(request.headers[.contentType]) {
      return error(HTTPResponse.Status(code: refusal.status), refusal.message)
    }
    if path == "/health", request.method == .get {
      return json(.ok, HealthBody(status: "ok", model: modelName, queued: await gate.load))
    }
    if let token = configuration.token, !token.isEmpty {
      guard request.headers[.authorization] == "Bearer \(token)" else {
        var response = error(.unauthorized, "missing or wrong bearer token", type: "authentication_error")
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
      }
    }
    switch (request.method, path) {
    case (.get, "/v1/models"):
      return json(.ok, ModelList(data: [.init(id: modelName, created: Int(Date().timeIntervalSince1970))]))
    case (.post, "/v1/chat/completions"):
      return await chatCompletions(request, channel: channel)
    case (.post, "/v1/ask"):
      return await ask(request, channel: channel)
    case (_, "/v1/models"), (_, "/v1/chat/completions"), (_, "/v1/ask"), (_, "/health"):
      return error(.methodNotAllowed, "\(request.method) is not allowed on \(path)")
    default:
      return error(.notFound, "no route for \(path)")
    }
  }

  /// The body, or a 413/400 response.
  func body(of request: Request) async -> Result<ByteBuffer, ResponseFailure> {
    let limit = configuration.maxBodyBytes
    if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
      return .failure(ResponseFailure(response: error(.contentTooLarge, "request body over \(limit) bytes")))
    }
    do {
      return .success(try await request.body.collect(upTo: limit))
    } catch is NIOTooManyBytesError {
      return .failure(ResponseFailure(response: error(.contentTooLarge, "request body over \(limit) bytes")))
    } catch {
      return .failure(ResponseFailure(response: self.error(.badRequest, "cannot read the request body: \(error)")))
    }
  }

  func chatCompletions(_ request: Request, channel: (any Channel)?) async -> Response {
    let buffer: ByteBuffer
    switch await body(of: request) {
    case .success(let b): buffer = b
    case .failure(let f): return f.response
    }
    let chat: ChatCompletionRequest
    let messages: [ChatMessage]
    let parameters: GenerationParameters
    do {
      chat = try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(buffer.readableBytesView))
      messages = try chat.chatMessages()
      parameters = try chat.parameters(defaultMaxTokens: min(configuration.defaultMaxTokens, model.contextLength), contextLength: model.contextLength)
      try checkPromptFits(messages)
    } catch let problem as RequestProblem {
      return error(.badRequest, problem.message)
    } catch {
      return self.error(.badRequest, "invalid JSON body: \(Self.describe(decoding: error))")
    }
    guard let ticket = await admit(channel) else { return busy() }
    let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
    let created = Int(Date().timeIntervalSince1970)
    let name = modelName
    let model = self.model
    if chat.stream ?? false {
      var headers = HTTPFields()
      headers[.contentType] = "text/event-stream"
      headers[.cacheControl] = "no-cache"
      // The ticket goes with the body: released when the body ends, or when the response is
      // dropped unwritten (the client left first), never leaked.
      let body = ResponseBody { writer in
        defer { ticket.release() }
        func send(_ chunk: ChatCompletionChunk) async throws {
          try await writer.write(ByteBuffer(string: "data: \(Self.encode(chunk))\n\n"))
        }
        try await send(ChatCompletionChunk(id: id, created: created, model: name, choices: [.init(delta: .init(role: "assistant", content: ""))]))
        var text = ""
        do {
          for try await piece in model.stream(messages, parameters: parameters) {
            text += piece
            try await send(ChatCompletionChunk(id: id, created: created, model: name, choices: [.init(delta: .init(content: piece))]))
          }
        } catch let error as CancellationError {
          throw error
        } catch {
          let failure = ErrorBody(error: .init(message: "\(error)", type: "server_error", code: nil))
          try await writer.write(ByteBuffer(string: "data: \(Self.encode(failure))\n\n"))
          try await writer.finish(nil)
          return
        }
        let reason = Self.finishReason(model: model, text: text, parameters: parameters)
        try await send(ChatCompletionChunk(id: id, created: created, model: name, choices: [.init(delta: .init(), finish_reason: reason)]))
        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
        try await writer.finish(nil)
      }
      return Response(status: .ok, headers: headers, body: body)
    }
    defer { ticket.release() }
    do {
      let text = try await Self.untilClientLeaves(channel) { try await model.reply(to: messages, parameters: parameters) }
      let promptTokens = (try? model.promptTokenCount(messages)) ?? 0
      let completionTokens = (try? model.tokenCount(text)) ?? 0
      return json(.ok, ChatCompletion(
        id: id, created: created, model: name,
        choices: [.init(message: .init(content: text), finish_reason: Self.finishReason(model: model, text: text, parameters: parameters))],
        usage: .init(prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens)))
    } catch {
      return self.error(.internalServerError, "generation failed: \(error)", type: "server_error")
    }
  }

  func ask(_ request: Request, channel: (any Channel)?) async -> Response {
    guard let answerer else {
      return error(.notFound, "this server has no index to answer from; start it with `tome serve --index NAME`", type: "no_index")
    }
    let buffer: ByteBuffer
    switch await body(of: request) {
    case .success(let b): buffer = b
    case .failure(let f): return f.response
    }
    let ask: AskRequest
    do {
      ask = try JSONDecoder().decode(AskRequest.self, from: Data(buffer.readableBytesView))
      try ask.validate(contextLength: model.contextLength)
    } catch let problem as RequestProblem {
      return error(.badRequest, problem.message)
    } catch {
      return self.error(.badRequest, "invalid JSON body: \(Self.describe(decoding: error))")
    }
    guard let ticket = await admit(channel) else { return busy() }
    defer { ticket.release() }
    do {
      return json(.ok, try await Self.untilClientLeaves(channel) { try await answerer.answer(ask) })
    } catch let problem as RequestProblem {
      return error(.badRequest, problem.message)
    } catch let problem as ReasoningError where problem.isRequestProblem {
      return self.error(.badRequest, problem.description)
    } catch {
      return self.error(.internalServerError, "\(error)", type: "server_error")
    }
  }

  /// 400 when the prompt alone fills the model's context (it would fail mid-generation).
  func checkPromptFits(_ messages: [ChatMessage]) throws(RequestProblem) {
    let tokens: Int
    do { tokens = try model.promptTokenCount(messages) } catch { throw RequestProblem("cannot tokenize `messages`: \(error)") }
    guard tokens < model.contextLength else {
      throw RequestProblem("`messages` take \(tokens) tokens, but the model's context holds \(model.contextLength); shorten them")
    }
  }

  /// Waits for the model; nil when the queue is full or the client left while waiting.
  func admit(_ channel: (any Channel)?) async -> GateTicket? {
    let gate = self.gate
    let admitted = (try? await Self.untilClientLeaves(channel) { await gate.enter() }) ?? false
    return admitted ? GateTicket(gate) : nil
  }

  func busy() -> Response {
    var response = error(.serviceUnavailable, "the model is busy and \(configuration.maxQueue) requests are queued; retry later", type: "server_busy")
    response.headers[.retryAfter] = "1"
    return response
  }

  /// Runs `body` in a child task that is cancelled when the client's connection closes
  /// (`ConnectionGuard` closes it when the client goes away), so an abandoned request stops
  /// generating instead of holding the model for nobody.
  static func untilClientLeaves<T: Sendable>(
    _ channel: (any Channel)?, _ body: @escaping @Sendable () async throws -> T
  ) async throws -> T {
    let task = Task { try await body() }
    channel?.closeFuture.whenComplete { _ in task.cancel() }
    return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
  }

  // MARK: Helpers

  static func finishReason(model: any LanguageModel, text: String, parameters: GenerationParameters) -> String {
    ((try? model.tokenCount(text)) ?? 0) >= parameters.maxTokens ? "length" : "stop"
  }

  static func encode(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  static func describe(decoding error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): return "missing `\(key.stringValue)`"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      return "wrong type at `\(context.codingPath.map(\.stringValue).joined(separator: "."))`"
    case DecodingError.dataCorrupted: return "not valid JSON"
    default: return "\(error)"
    }
  }

  func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: Self.encode(value))))
  }

  func error(_ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error") -> Response {
    json(status, ErrorBody(error: .init(message: message, type: type, code: String(status.code))))
  }
}

/// The request context: Hummingbird's basics plus the connection, so a route can notice the
/// client leaving.
struct ServeContext: RequestContext {
  var coreContext: CoreRequestContextStorage
  let channel: any Channel

  init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
    channel = source.channel
  }
}

struct ResponseFailure: Error {
  var response: Response
}

struct HealthBody: Encodable {
  var status: String
  var model: String
  var queued: Int
}

/// A server that cannot start as configured.
public struct ServeError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
