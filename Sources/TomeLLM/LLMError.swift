/// A failure talking to an OpenAI-compatible endpoint.
///
/// A struct wrapping a growable set of codes (the `HTTPClientError` pattern): compare with
/// `error.code == .timeout`. Carries the endpoint, the HTTP status and the first 512 bytes of
/// the body, and whether retrying the same request may succeed.
public struct LLMError: Error, Sendable, CustomStringConvertible {
  /// What went wrong.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private let name: String
    private init(_ name: String) { self.name = name }
    public var description: String { name }

    /// No TCP connection (refused, unreachable, DNS).
    public static let connectionFailed = Code("connectionFailed")
    /// The server answered with a non-2xx status.
    public static let httpStatus = Code("httpStatus")
    /// The body was not the JSON or SSE stream an OpenAI endpoint sends.
    public static let invalidResponse = Code("invalidResponse")
    /// The SSE stream closed before `data: [DONE]`.
    public static let streamTruncated = Code("streamTruncated")
    /// Connect, total or idle timeout.
    public static let timeout = Code("timeout")
    /// The server reported an error inside a 200 response.
    public static let serverError = Code("serverError")
    /// Another transport failure (TLS, send/receive errors).
    public static let transport = Code("transport")
  }

  public var code: Code
  /// The URL requested.
  public var endpoint: String
  /// HTTP status, when a response arrived.
  public var status: Int?
  /// The first 512 bytes of the response body (lossy UTF-8).
  public var body: String
  /// `x-request-id` of the response, when the server sent one.
  public var requestID: String?
  /// Whether the same request may succeed when retried (429, 5xx, connection errors, timeouts).
  public var isRetryable: Bool
  /// A short explanation (the OS error, the timeout that fired, what was malformed).
  public var detail: String

  public init(
    code: Code, endpoint: String, status: Int? = nil, body: String = "", requestID: String? = nil,
    isRetryable: Bool, detail: String = ""
  ) {
    self.code = code
    self.endpoint = endpoint
    self.status = status
    self.body = body
    self.requestID = requestID
    self.isRetryable = isRetryable
    self.detail = detail
  }

  /// One line: what failed, where, and why.
  public var description: String {
    var line: String
    switch code {
    case .connectionFailed: line = "cannot connect to \(endpoint): \(detail)"
    case .httpStatus: line = "HTTP \(status ?? 0) from \(endpoint)"
    case .invalidResponse: line = "garbage response from \(endpoint): \(detail)"
    case .streamTruncated: line = "\(endpoint): stream ended before [DONE]" + (detail.isEmpty ? "" : " (\(detail))")
    case .timeout: line = "timed out waiting for \(endpoint): \(detail)"
    case .serverError: line = "error from \(endpoint): \(detail)"
    default: line = "request to \(endpoint) failed: \(detail)"
    }
    if code == .httpStatus, !detail.isEmpty { line += ": \(detail)" }
    if !body.isEmpty, code == .httpStatus || code == .invalidResponse {
      let snippet = body.split(whereSeparator: \.isNewline).joined(separator: " ")
      line += " — body: \(snippet.prefix(200))"
    }
    if let requestID { line += " [request \(requestID)]" }
    return line
  }

  /// Bytes of body kept in errors.
  static let bodyLimit = 512

  static func bodyPrefix(_ bytes: [UInt8]) -> String {
    String(decoding: bytes.prefix(bodyLimit), as: UTF8.self)
  }
}
