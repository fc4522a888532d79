import CCurl
import Foundation
import Synchronization

/// A flag the consumer sets to abort a transfer; curl's progress callback checks it.
final class CancelFlag: Sendable {
  private let value = Atomic<Bool>(false)
  func set() { value.store(true, ordering: .relaxed) }
  var isSet: Bool { value.load(ordering: .relaxed) }
}

/// One HTTP request for `CurlTransfer`.
struct TransferRequest: Sendable {
  var url: String
  /// nil: GET.
  var body: [UInt8]?
  var headers: [String]
  var connectTimeout: Duration
  var totalTimeout: Duration
  var idleTimeout: Duration
}

/// What a finished transfer reports besides the bytes handed to `onBody`.
struct TransferResult: Sendable {
  /// HTTP status (0 when no response arrived).
  var status: Int
  var contentType: String?
  var requestID: String?
  var retryAfter: Duration?
  /// The transport failure, or nil when the transfer completed (any status) or `onBody`
  /// stopped it.
  var failure: LLMError?
  var cancelled: Bool
  /// `onBody` returned false.
  var stoppedByConsumer: Bool
}

/// Owns one curl easy handle. Used by one thread at a time: the transfer thread that calls
/// `perform`; `deinit` frees the handle.
final class CurlEasy {
  let handle: UnsafeMutableRawPointer

  /// curl_global_init is not thread-safe in every libcurl; run it once.
  private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

  init?() {
    _ = Self.globalInit
    guard let h = curl_easy_init() else { return nil }
    handle = h
  }

  deinit { curl_easy_cleanup(handle) }
}

/// State the C callbacks reach through their user-data pointer. Touched only by the transfer
/// thread while `curl_easy_perform` runs.
private final class TransferContext {
  let handle: UnsafeMutableRawPointer
  let cancel: CancelFlag
  let idleTimeout: Duration
  let onBody: (Int, String?, UnsafeRawBufferPointer) -> Bool
  var lastActivity = ContinuousClock.now
  var idleFired = false
  var stoppedByConsumer = false
  var status: Int?
  var headers: [String: String] = [:]

  init(
    handle: UnsafeMutableRawPointer, cancel: CancelFlag, idleTimeout: Duration,
    onBody: @escaping (Int, String?, UnsafeRawBufferPointer) -> Bool
  ) {
    self.handle = handle
    self.cancel = cancel
    self.idleTimeout = idleTimeout
    self.onBody = onBody
  }
}

private let writeCallback: curl_write_callback = { pointer, size, count, userData in
  guard let userData else { return 0 }
  let context = Unmanaged<TransferContext>.fromOpaque(userData).takeUnretainedValue()
  let n = size * count
  context.lastActivity = .now
  if context.cancel.isSet { return 0 }
  if context.status == nil {
    var code = 0
    _ = ccurl_getinfo_long(context.handle, CURLINFO_RESPONSE_CODE, &code)
    context.status = code
  }
  let ok = context.onBody(context.status ?? 0, context.headers["content-type"], UnsafeRawBufferPointer(start: pointer, count: n))
  if !ok { context.stoppedByConsumer = true }
  return ok ? n : 0
}

private let headerCallback: curl_write_callback = { pointer, size, count, userData in
  guard let userData, let pointer else { return 0 }
  let context = Unmanaged<TransferContext>.fromOpaque(userData).takeUnretainedValue()
  let n = size * count
  context.lastActivity = .now
  let line = String(decoding: UnsafeRawBufferPointer(start: pointer, count: n), as: UTF8.self)
  if line.hasPrefix("HTTP/") {
    context.headers = [:]  // a new response (after 100-continue or a redirect)
  } else if let colon = line.firstIndex(of: ":") {
    let name = line[..<colon].lowercased()
    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
    context.headers[name] = value
  }
  return n
}

private let progressCallback: curl_xferinfo_callback = { userData, _, _, _, _ in
  guard let userData else { return 0 }
  let context = Unmanaged<TransferContext>.fromOpaque(userData).takeUnretainedValue()
  if context.cancel.isSet { return 1 }
  if ContinuousClock.now - context.lastActivity > context.idleTimeout {
    context.idleFired = true
    return 1
  }
  return 0
}

extension Duration {
  var milliseconds: Int {
    let (s, atto) = components
    return Int(s) * 1000 + Int(atto / 1_000_000_000_000_000)
  }

  var shortDescription: String {
    let ms = milliseconds
    return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(ms) ms"
  }
}

/// Runs blocking curl transfers. `perform` blocks its thread; call it through `offload`.
enum CurlTransfer {
  /// Performs `request`, handing each piece of the body to `onBody(status, contentType, bytes)`
  /// (return false to stop). Blocks until the transfer ends.
  static func perform(
    _ request: TransferRequest, cancel: CancelFlag,
    onBody: @escaping (Int, String?, UnsafeRawBufferPointer) -> Bool
  ) -> TransferResult {
    guard let easy = CurlEasy() else {
      return TransferResult(
        status: 0, failure: LLMError(code: .transport, endpoint: request.url, isRetryable: false, detail: "curl_easy_init failed"),
        cancelled: false, stoppedByConsumer: false)
    }
    let h = easy.handle
    let context = TransferContext(handle: h, cancel: cancel, idleTimeout: request.idleTimeout, onBody: onBody)
    let unmanaged = Unmanaged.passRetained(context)
    defer { unmanaged.release() }
    let opaque = unmanaged.toOpaque()

    var slist: UnsafeMutablePointer<curl_slist>?
    for header in request.headers { slist = curl_slist_append(slist, header) }
    defer { curl_slist_free_all(slist) }
    var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errors in
      _ = ccurl_setopt_string(h, CURLOPT_URL, request.url)
      _ = ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
      _ = ccurl_setopt_string(h, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1")
      _ = ccurl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, max(1, request.connectTimeout.milliseconds))
      _ = ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, max(1, request.totalTimeout.milliseconds))
      _ = ccurl_setopt_long(h, CURLOPT_TCP_NODELAY, 1)
      _ = ccurl_setopt_slist(h, CURLOPT_HTTPHEADER, slist)
      _ = ccurl_setopt_ptr(h, CURLOPT_ERRORBUFFER, errors.baseAddress)
      _ = ccurl_setopt_write(h, CURLOPT_WRITEFUNCTION, writeCallback)
      _ = ccurl_setopt_ptr(h, CURLOPT_WRITEDATA, opaque)
      _ = ccurl_setopt_write(h, CURLOPT_HEADERFUNCTION, headerCallback)
      _ = ccurl_setopt_ptr(h, CURLOPT_HEADERDATA, opaque)
      _ = ccurl_setopt_xferinfo(h, CURLOPT_XFERINFOFUNCTION, progressCallback)
      _ = ccurl_setopt_ptr(h, CURLOPT_XFERINFODATA, opaque)
      _ = ccurl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
      if let body = request.body {
        _ = ccurl_setopt_long(h, CURLOPT_POSTFIELDSIZE, body.count)
        _ = body.withUnsafeBytes { ccurl_setopt_ptr(h, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
      }
      return curl_easy_perform(h)
    }

    var status = 0
    _ = ccurl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
    var result = TransferResult(
      status: status, contentType: context.headers["content-type"], requestID: context.headers["x-request-id"],
      retryAfter: context.headers["retry-after"].flatMap(Int.init).map { .seconds($0) },
      failure: nil, cancelled: false, stoppedByConsumer: context.stoppedByConsumer)
    if code == CURLE_OK { return result }
    if cancel.isSet {
      result.cancelled = true
      return result
    }
    if context.stoppedByConsumer { return result }
    let message = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var osErrno = 0
    _ = ccurl_getinfo_long(h, CURLINFO_OS_ERRNO, &osErrno)
    let osMessage = osErrno != 0 ? String(cString: strerror(Int32(osErrno))) : message
    let url = request.url
    switch code {
    case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
      result.failure = LLMError(code: .connectionFailed, endpoint: url, isRetryable: true, detail: osMessage)
    case CURLE_OPERATION_TIMEDOUT:
      let detail = status == 0 && message.lowercased().contains("connect")
        ? "no connection within \(request.connectTimeout.shortDescription)"
        : "no complete response within \(request.totalTimeout.shortDescription)"
      result.failure = LLMError(code: .timeout, endpoint: url, status: status == 0 ? nil : status, isRetryable: true, detail: detail)
    case CURLE_ABORTED_BY_CALLBACK where context.idleFired:
      // Not retried: the server accepted the request and then went silent; asking again
      // would wait the whole idle timeout once more per retry (minutes, issue 11).
      result.failure = LLMError(
        code: .timeout, endpoint: url, status: status == 0 ? nil : status, isRetryable: false,
        detail: "no data for \(request.idleTimeout.shortDescription)")
    case CURLE_GOT_NOTHING:
      result.failure = LLMError(code: .invalidResponse, endpoint: url, isRetryable: true, detail: "empty reply (connection closed without a response)")
    case CURLE_WEIRD_SERVER_REPLY, CURLE_UNSUPPORTED_PROTOCOL:
      result.failure = LLMError(code: .invalidResponse, endpoint: url, isRetryable: false, detail: message.isEmpty ? "not an HTTP response" : message)
    case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE:
      result.failure = LLMError(code: .transport, endpoint: url, status: status == 0 ? nil : status, isRetryable: true, detail: message.isEmpty ? osMessage : message)
    default:
      let text = String(cString: curl_easy_strerror(code))
      result.failure = LLMError(code: .transport, endpoint: url, isRetryable: false, detail: message.isEmpty ? text : message)
    }
    return result
  }

  /// Runs `body` on its own thread (never on the cooperative pool) and resumes with its result.
  /// Cancelling the awaiting task sets `cancel`, which aborts the transfer at curl's next
  /// progress or write callback.
  static func offload<T: Sendable>(cancel: CancelFlag, _ body: @escaping @Sendable () -> T) async -> T {
    await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.name = "tome-curl"
        thread.start()
      }
    } onCancel: {
      cancel.set()
    }
  }
}
