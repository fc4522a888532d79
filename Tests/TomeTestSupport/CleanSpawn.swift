import Glibc

/// Runs a program the way a login shell would: with an empty signal mask, default actions for
/// the signals a daemon relies on, and no descriptor of the test process but the three it gets.
///
/// Foundation's `Process` is not enough for a program that leaves a daemon behind (tmux starts its
/// server on first use). It spawns with the calling thread's signal mask, and a cooperative-pool
/// thread blocks nearly every signal, so the daemon never sees SIGCHLD or SIGTERM: its sessions
/// never end. And it waits for the child by reading a socket that the child inherits, so
/// `waitUntilExit` returns only when the daemon, which inherited the socket too, has exited.
/// Together the two made a CI run hang until it was killed.
package enum CleanSpawn {
  // glibc (2.34 and later) has both, but declares them only under _GNU_SOURCE, which Swift's
  // Glibc module does not set; their C signatures take only an int and a pointer.
  @_silgen_name("posix_spawn_file_actions_addclosefrom_np")
  private static func addCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowest: Int32) -> Int32
  @_silgen_name("pipe2")
  private static func pipe2(_ ends: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

  /// What `run` saw: the exit status (128 + the signal for a killed child) and standard output.
  package struct Outcome: Sendable {
    package var status: Int32
    package var stdout: String
  }

  /// A spawn that failed before the program ran.
  package struct SpawnError: Error, CustomStringConvertible {
    package var executable: String
    package var code: Int32
    package var description: String { "could not start \(executable): \(String(cString: strerror(code)))" }
  }

  /// Runs `executable` with `arguments` to completion. Standard input and error are /dev/null;
  /// standard output is returned when `captureOutput`, and /dev/null otherwise.
  package static func run(_ executable: String, _ arguments: [String], captureOutput: Bool = true) throws -> Outcome {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }

    var emptyMask = sigset_t()
    sigemptyset(&emptyMask)
    posix_spawnattr_setsigmask(&attributes, &emptyMask)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGPIPE, SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGQUIT] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    var pipeEnds: [Int32] = [-1, -1]
    if captureOutput {
      guard pipe2(&pipeEnds, O_CLOEXEC) == 0 else { throw SpawnError(executable: executable, code: errno) }
      posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], STDOUT_FILENO)
    } else {
      posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)
    }
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)
    _ = addCloseFrom(&actions, 3)

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
    if captureOutput { close(pipeEnds[1]) }
    guard spawned == 0 else {
      if captureOutput { close(pipeEnds[0]) }
      throw SpawnError(executable: executable, code: spawned)
    }

    var output: [UInt8] = []
    if captureOutput {
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let count = buffer.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
        if count > 0 {
          output += buffer[0..<count]
        } else if count == 0 || errno != EINTR {
          break
        }
      }
      close(pipeEnds[0])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
    let signal = status & 0x7f
    let exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
    return Outcome(status: exitStatus, stdout: String(decoding: output, as: UTF8.self))
  }
}
