package import Foundation
import Synchronization

/// Runs the built `tome` executable as a child process, the way a user would.
package enum TomeBinary {
  /// `tome` next to the test bundle in the build folder (`swift test` builds it first).
  package static var url: URL {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
      .appendingPathComponent("tome")
  }

  /// The outcome of one run.
  package struct Result: Sendable {
    package var status: Int32
    package var stdout: String
    package var stderr: String
  }

  /// Starts `tome` with `arguments` in `directory` without waiting.
  /// `input`, when given, is written to its standard input, which is then closed.
  package static func start(
    _ arguments: [String], in directory: URL, environment: [String: String] = [:], input: String? = nil
  ) throws -> (Process, Pipe, Pipe) {
    let process = Process()
    process.executableURL = url
    process.arguments = arguments
    process.currentDirectoryURL = directory
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "TOME_INDEX")
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let stdin = input.map { _ in Pipe() }
    process.standardInput = stdin ?? FileHandle.nullDevice
    try process.run()
    if let stdin, let input {
      stdin.fileHandleForWriting.write(Data(input.utf8))
      try stdin.fileHandleForWriting.close()
    }
    return (process, out, err)
  }

  /// Starts `tome serve --port 0` (plus `arguments`) in `directory` and returns the process
  /// and the base URL from its banner ("listening on http://127.0.0.1:PORT …").
  package static func serve(_ arguments: [String] = [], in directory: URL) throws -> (process: Process, url: String) {
    let (server, out, _) = try start(["serve", "--port", "0"] + arguments, in: directory)
    var banner = Data()
    while !String(decoding: banner, as: UTF8.self).contains("\n") {
      let piece = out.fileHandleForReading.availableData
      if piece.isEmpty { break }
      banner.append(piece)
    }
    let line = String(decoding: banner, as: UTF8.self)
    guard let url = line.split(separator: " ").first(where: { $0.hasPrefix("http://") }).map(String.init) else {
      server.terminate()
      throw ServeStartError(banner: line)
    }
    return (server, url)
  }

  /// `tome serve` printed no URL.
  package struct ServeStartError: Error, CustomStringConvertible {
    package var banner: String
    package var description: String { "tome serve printed no URL: \(banner)" }
  }

  /// Runs `tome` to completion and returns its exit status and output. A child still running
  /// after `timeout` seconds is killed and its stderr says so, so a hang fails one test instead
  /// of stalling the suite.
  package static func run(
    _ arguments: [String], in directory: URL, environment: [String: String] = [:], input: String? = nil,
    timeout: Double = 600
  ) throws -> Result {
    let (process, out, err) = try start(arguments, in: directory, environment: environment, input: input)
    let timedOut = Flag()
    let pid = process.processIdentifier
    let watchdog = DispatchWorkItem {
      timedOut.raise()
      kill(pid, SIGKILL)
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    defer { watchdog.cancel() }
    // Read both pipes fully before waiting, so a chatty child never blocks on a full pipe.
    let errData = LockedData()
    let reader = Thread { errData.set(err.fileHandleForReading.readAll()) }
    reader.start()
    let outData = out.fileHandleForReading.readAll()
    process.waitUntilExit()
    while !errData.isSet { Thread.sleep(forTimeInterval: 0.005) }
    var stderr = String(decoding: errData.value, as: UTF8.self)
    if timedOut.isRaised { stderr += "\n[test] tome \(arguments.joined(separator: " ")) was killed after \(Int(timeout)) s" }
    return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: stderr)
  }
}

/// Data handed from a reader thread; guarded by a lock.
final class LockedData: @unchecked Sendable {
  private let lock = NSLock()
  private var data = Data()
  private var done = false
  func set(_ d: Data) { lock.lock(); data = d; done = true; lock.unlock() }
  var isSet: Bool { lock.lock(); defer { lock.unlock() }; return done }
  var value: Data { lock.lock(); defer { lock.unlock() }; return data }
}

/// A flag raised once from another thread.
final class Flag: Sendable {
  private let state = Mutex(false)
  func raise() { state.withLock { $0 = true } }
  var isRaised: Bool { state.withLock { $0 } }
}
