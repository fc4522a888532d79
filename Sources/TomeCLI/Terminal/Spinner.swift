import Foundation
import Synchronization

/// A one-line activity indicator on standard error, redrawn ten times a second, for the
/// silent wait while the model reads its passages (tens of seconds on a busy 2-core machine,
/// issue 11). Only for a terminal: the caller creates it when standard error is a TTY, so
/// piped output never sees it. `stop()` erases the line before the answer is printed.
final class Spinner: Sendable {
  private static let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
  private let state = Mutex((running: true, finished: false))

  /// Starts drawing `message` (shown after the frame, with the seconds elapsed).
  init(_ message: String) {
    let started = ContinuousClock.now
    let thread = Thread { [self] in
      var frame = 0
      while self.state.withLock({ $0.running }) {
        let seconds = (ContinuousClock.now - started).components.seconds
        let line = "\r\u{1B}[K\(Self.frames[frame % Self.frames.count]) \(message)  \(seconds)s"
        self.state.withLock { s in if s.running { FileHandle.standardError.write(Data(line.utf8)) } }
        frame += 1
        Thread.sleep(forTimeInterval: 0.1)
      }
      self.state.withLock { s in
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        s.finished = true
      }
    }
    thread.start()
  }

  /// Stops and erases the line; returns once it is erased. Safe to call more than once.
  func stop() {
    let wasRunning = state.withLock { s in
      defer { s.running = false }
      return s.running
    }
    guard wasRunning else { return }
    while !state.withLock({ $0.finished }) { Thread.sleep(forTimeInterval: 0.005) }
  }
}
