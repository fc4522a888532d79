public import ArgumentParser
import Foundation
public import TomeKit

/// `--models DIR`: where model weights live.
struct ModelOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Folder with model weights. Default: $TOME_MODELS, else ~/.cache/tome/models (Scripts/bootstrap.sh fills it).",
      valueName: "dir"))
  var models: String?

  var directory: ModelDirectory {
    if let models { return ModelDirectory(url: URL(fileURLWithPath: (models as NSString).expandingTildeInPath)) }
    if let env = ProcessInfo.processInfo.environment["TOME_MODELS"], !env.isEmpty {
      return ModelDirectory(url: URL(fileURLWithPath: env))
    }
    return .userDefault
  }
}

extension RetrievalMode: ExpressibleByArgument {}
