import Foundation

/// The checks a request passes before any route sees it, as a local server that browsers can
/// reach must make (issue 11).
///
/// A token-less server on 127.0.0.1 is reachable by every web page the user opens: a page can
/// POST a `text/plain` body (no CORS preflight), and a DNS-rebinding page can even read the
/// answer, because its requests carry `Host: evil.example`. So:
/// - `Host` must name the bound address, a loopback name, or an allowed host (any Host is fine
///   when bound to a wildcard address, which needs a token anyway);
/// - a request with an `Origin` must come from an allowed origin (none by default);
/// - a POST body must be declared `application/json`, which a page cannot send cross-origin
///   without a preflight that this server does not approve.
struct RequestAdmission: Sendable {
  /// Host names (lowercased, no port) the server answers to.
  let hosts: Set<String>
  /// Any Host is accepted (bound to 0.0.0.0 or ::).
  let anyHost: Bool
  /// Allowed `Origin` values, lowercased, without a trailing slash.
  let origins: Set<String>

  init(bind: BindAddress, allowedHosts: [String], allowedOrigins: [String]) {
    var hosts: Set<String> = ["localhost", "127.0.0.1", "::1"]
    hosts.insert(bind.host.lowercased())
    for a in bind.addresses { hosts.insert(a.lowercased()) }
    for h in allowedHosts { hosts.insert(Self.hostName(h) ?? h.lowercased()) }
    self.hosts = hosts
    self.anyHost = bind.isWildcard
    self.origins = Set(allowedOrigins.map(Self.normalisedOrigin))
  }

  /// A refusal: the status and a one-line reason.
  struct Refusal: Error, Equatable {
    var status: Int
    var message: String
  }

  /// Checks the `Host` (authority) and `Origin` of any request.
  func check(authority: String?, origin: String?) -> Refusal? {
    if let authority, !anyHost {
      guard let name = Self.hostName(authority), hosts.contains(name) else {
        return Refusal(
          status: 421,
          message: "Host \(Self.quoted(authority)) is not this server's address; add it with --allow-host if it is yours")
      }
    }
    if let origin, !origins.contains(Self.normalisedOrigin(origin)) {
      return Refusal(
        status: 403,
        message: "requests from origin \(Self.quoted(origin)) are not allowed; start the server with --allow-origin \(Self.quoted(origin)) to allow them")
    }
    return nil
  }

  /// Whether `origin` may call the server from a browser (gets CORS headers).
  func allows(origin: String) -> Bool { origins.contains(Self.normalisedOrigin(origin)) }

  /// Checks that a body is declared JSON (`application/json`, parameters allowed).
  static func checkJSONContentType(_ value: String?) -> Refusal? {
    let type = value?.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces).lowercased()
    guard type == "application/json" else {
      return Refusal(
        status: 415,
        message: "the request body must be sent as Content-Type: application/json (got \(value.map(quoted) ?? "none"))")
    }
    return nil
  }

  /// The host part of an authority (`name:port`, `[v6]:port`), lowercased; nil when malformed.
  static func hostName(_ authority: String) -> String? {
    let a = authority.trimmingCharacters(in: .whitespaces).lowercased()
    guard !a.isEmpty, !a.contains("@"), !a.contains("/") else { return nil }
    if a.hasPrefix("[") {
      guard let close = a.firstIndex(of: "]") else { return nil }
      let rest = a[a.index(after: close)...]
      guard rest.isEmpty || (rest.first == ":" && rest.dropFirst().allSatisfy(\.isASCIIDigit)) else { return nil }
      return String(a[a.index(after: a.startIndex)..<close])
    }
    let parts = a.split(separator: ":", omittingEmptySubsequences: false)
    switch parts.count {
    case 1: return a
    case 2: return parts[1].allSatisfy(\.isASCIIDigit) ? String(parts[0]) : nil
    default: return nil
    }
  }

  static func normalisedOrigin(_ origin: String) -> String {
    var o = origin.trimmingCharacters(in: .whitespaces).lowercased()
    while o.hasSuffix("/") { o.removeLast() }
    return o
  }

  /// A value from the network, quoted and cut for a one-line message (control characters escaped).
  static func quoted(_ value: String) -> String {
    var out = ""
    for scalar in value.unicodeScalars.prefix(120) {
      if scalar.value < 0x20 || scalar.value == 0x7f { out += "\\u{\(String(scalar.value, radix: 16))}" } else { out.unicodeScalars.append(scalar) }
    }
    return "\"" + out + (value.unicodeScalars.count > 120 ? "…" : "") + "\""
  }
}

extension Character {
  fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
