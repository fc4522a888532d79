import Foundation

/// Small helpers for terminal output: TTY detection, colour, and paths shown relative to the
/// working directory.
enum Terminal {
  static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb" }
  static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb" }

  static func bold(_ s: String, _ on: Bool) -> String { on ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
  static func dim(_ s: String, _ on: Bool) -> String { on ? "\u{1B}[2m\(s)\u{1B}[0m" : s }
  static func cyan(_ s: String, _ on: Bool) -> String { on ? "\u{1B}[36m\(s)\u{1B}[0m" : s }
  static func highlight(_ s: String, _ on: Bool) -> String { on ? "\u{1B}[1;33m\(s)\u{1B}[0m" : s }

  /// Writes a line to standard error (control characters made visible, see `sanitized`).
  static func error(_ line: String) {
    FileHandle.standardError.write(Data((sanitized(line, keepNewlines: true) + "\n").utf8))
  }

  /// The process's working directory, against which relative paths on the command line resolve.
  static var workingDirectory: URL {
    URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
  }

  /// `path` relative to the working directory when it lies under it, else unchanged; made
  /// safe to print (`sanitized`, newlines escaped too, so one path stays on one line).
  static func displayPath(_ path: String) -> String {
    let cwd = FileManager.default.currentDirectoryPath
    let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
    return sanitized(path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path)
  }

  /// `text` with every character that a terminal would act on shown as an escape instead
  /// (`\e`, `\r`, `\u{9b}`…): C0 controls but tab (and newline when `keepNewlines`), DEL,
  /// C1 controls, and bidirectional overrides. Documents and file names are untrusted: an
  /// escape sequence in either could clear the screen, retitle the window or forge output
  /// when printed raw (issue 11). JSON output is never passed through this; it stays exact.
  static func sanitized(_ text: String, keepNewlines: Bool = false) -> String {
    guard text.unicodeScalars.contains(where: { needsEscape($0, keepNewlines: keepNewlines) }) else { return text }
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      guard needsEscape(scalar, keepNewlines: keepNewlines) else {
        out.append(scalar)
        continue
      }
      let escape: String =
        switch scalar {
        case "\n": "\\n"
        case "\r": "\\r"
        case "\u{1B}": "\\e"
        default: "\\u{\(String(scalar.value, radix: 16))}"
        }
      out.append(contentsOf: escape.unicodeScalars)
    }
    return String(out)
  }

  private static func needsEscape(_ s: Unicode.Scalar, keepNewlines: Bool) -> Bool {
    switch s.value {
    case 0x09: false
    case 0x0A: !keepNewlines
    case 0x00..<0x20, 0x7F, 0x80..<0xA0: true
    case 0x202A...0x202E, 0x2066...0x2069: true
    default: false
    }
  }

  /// Human-readable byte count.
  static func bytes(_ n: Int) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var value = Double(n)
    var unit = 0
    while value >= 1000, unit < units.count - 1 {
      value /= 1000
      unit += 1
    }
    return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
  }

  /// `1m05s`-style duration.
  static func duration(_ seconds: Double) -> String {
    if seconds < 10 { return String(format: "%.2fs", seconds) }
    let s = Int(seconds.rounded())
    return s < 60 ? "\(s)s" : "\(s / 60)m\(String(format: "%02d", s % 60))s"
  }

  /// Writes a JSON value to standard output.
  /// The command line as typed, arguments quoted for a shell where needed: what a report
  /// prints so its reader can run it again.
  static func commandLine() -> String {
    (["tome"] + CommandLine.arguments.dropFirst()).map { arg in
      arg.allSatisfy { $0.isLetter || $0.isNumber || "-_=.,/:%+".contains($0) } ? arg : "'" + arg.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }.joined(separator: " ")
  }

  static func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
  }
}

extension Terminal {
  /// A one-line reason for Foundation's file errors, which otherwise print as
  /// `Error Domain=NSCocoaErrorDomain Code=512 "(null)"` (issue 11): the path and the system's
  /// reason (`cannot write /x/y.json: Permission denied`). Nil for other errors.
  static func fileErrorText(_ error: any Error) -> String? {
    let ns = error as NSError
    guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return nil }
    let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
    var reason: String?
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
      reason = String(cString: strerror(Int32(underlying.code)))
    } else if ns.domain == NSPOSIXErrorDomain {
      reason = String(cString: strerror(Int32(ns.code)))
    }
    let code = CocoaError.Code(rawValue: ns.code)
    let verb: String =
      switch code {
      case .fileWriteUnknown, .fileWriteNoPermission, .fileWriteOutOfSpace, .fileWriteVolumeReadOnly, .fileWriteFileExists,
        .fileWriteInvalidFileName:
        "cannot write"
      case .fileReadUnknown, .fileReadNoPermission, .fileReadNoSuchFile, .fileReadCorruptFile, .fileReadTooLarge,
        .fileReadInapplicableStringEncoding, .fileReadUnknownStringEncoding:
        "cannot read"
      default: "cannot use"
      }
    if reason == nil {
      reason =
        switch code {
        case .fileReadNoSuchFile, .fileNoSuchFile: "no such file or directory"
        case .fileWriteNoPermission, .fileReadNoPermission: "permission denied"
        case .fileWriteOutOfSpace: "no space left on the device"
        case .fileWriteVolumeReadOnly: "read-only file system"
        case .fileReadInapplicableStringEncoding, .fileReadUnknownStringEncoding: "not valid UTF-8 text"
        default: nil
        }
    }
    guard let path else { return reason.map { "\(verb) a file: \($0)" } }
    return "\(verb) \(path): \(reason ?? "file error \(ns.code)")"
  }
}

/// Limits progress redraws to ten a second (and always lets the final one through).
final class ProgressThrottle {
  private var last = ContinuousClock.now - .seconds(1)

  func due(final: Bool) -> Bool {
    let now = ContinuousClock.now
    guard final || now - last >= .milliseconds(100) else { return false }
    last = now
    return true
  }
}

/// A runtime failure the CLI reports in one line (exit 1).
struct CLIError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
