package import Foundation

/// Locates the project's shared evaluation data and model weights for tests.
///
/// Shared data sits beside the checkout (`../shared`) on developer machines and in CI;
/// `TOME_SHARED` overrides it. Models live in `TOME_MODELS` (default `~/.cache/tome/models`),
/// where `Scripts/bootstrap.sh` puts them.
package enum SharedData {
  /// The repository root, found from this source file's location.
  package static var repositoryRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
  }

  /// `../shared` next to the checkout, or `$TOME_SHARED`.
  package static var root: URL {
    if let env = ProcessInfo.processInfo.environment["TOME_SHARED"], !env.isEmpty {
      return URL(fileURLWithPath: env)
    }
    return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
  }

  /// A file under `shared/data`.
  package static func data(_ relativePath: String) -> URL {
    root.appendingPathComponent("data").appendingPathComponent(relativePath)
  }

  /// The model directory (`$TOME_MODELS` or `~/.cache/tome/models`).
  package static var models: URL {
    if let env = ProcessInfo.processInfo.environment["TOME_MODELS"], !env.isEmpty {
      return URL(fileURLWithPath: env)
    }
    return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/tome/models")
  }
}
