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

  /// Writes a line to standard error.
  static func error(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  /// `path` relative to the working directory when it lies under it, else unchanged.
  static func displayPath(_ path: String) -> String {
    let cwd = FileManager.default.currentDirectoryPath
    let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
    return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
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
