public import ArgumentParser
import Foundation
public import TomeKit
public import TomeReasoning
public import TomeModel

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
    return .default(environment: ProcessInfo.processInfo.environment)
  }
}

extension RetrievalMode: ExpressibleByArgument {}
extension StrategyKind: ExpressibleByArgument {}
extension AgentsStrategy.Scope: ExpressibleByArgument {}

/// `--chat-template chatml|llama3`: the chat format of an in-process model whose GGUF file has
/// no recognisable `tokenizer.chat_template` (detection is the default).
struct ChatTemplateOption: ParsableArguments {
  @Option(
    name: .customLong("chat-template"),
    help: ArgumentHelp(
      "Chat format of the in-process model when the GGUF file's own template is missing or not recognised: chatml or llama3.",
      valueName: "format"))
  var format: ChatTemplate.Format?
}

extension ChatTemplate.Format: ExpressibleByArgument {}
