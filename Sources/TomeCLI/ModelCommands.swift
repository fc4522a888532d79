import ArgumentParser
import Foundation
import TomeCore
import TomeKit
import TomeModel

/// `tome model …`: inspect GGUF files.
struct ModelCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "model", abstract: "Inspect local GGUF models.", subcommands: [ModelInfoCommand.self])
}

/// `tome model info FILE`: what a GGUF model is and whether Tome can run it.
struct ModelInfoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info", abstract: "Show a GGUF model's architecture, sizes, quantisation and chat template.")

  @Argument(help: "Path to a .gguf file.")
  var file: String

  func run() async throws {
    let gguf = try GGUFFile(path: file)
    print("file:          \(file)")
    print("GGUF version:  \(gguf.version), \(gguf.tensors.count) tensors, alignment \(gguf.alignment)")
    print("name:          \(gguf["general.name"]?.string ?? "-")")
    print("architecture:  \(gguf["general.architecture"]?.string ?? "-")")
    var types: [String: Int] = [:]
    var parameters = 0
    for t in gguf.tensors {
      types[String(describing: t.type), default: 0] += 1
      parameters += t.elementCount
    }
    print("parameters:    \(parameters)")
    print("tensor types:  \(types.sorted { $0.value > $1.value }.map { "\($0.key)×\($0.value)" }.joined(separator: ", "))")
    var damage: ModelError?
    var checked = false
    do {
      let c = try LlamaConfiguration(gguf: gguf)
      // The full load checks every tensor's scales and runs a probe forward pass: a file
      // with damaged data must not look healthy here and crash `tome ask` later.
      do {
        _ = try LlamaModel(gguf: gguf)
        checked = true
      } catch where error.kind == .malformed {
        damage = error
      } catch {}
      print("layers:        \(c.layerCount)")
      print("hidden:        \(c.hiddenSize), FFN \(c.feedForwardSize)")
      print("heads:         \(c.headCount) × \(c.headDimension), KV heads \(c.kvHeadCount)")
      print("RoPE:          base \(c.ropeBase), \(c.ropeStyle == .neox ? "NeoX" : "interleaved") pairs")
      print("context:       \(c.contextLength)")
      print("vocabulary:    \(c.vocabularySize)")
    } catch {
      print("configuration: not runnable here (\(error.detail))")
    }
    print("tokenizer:     \(gguf["tokenizer.ggml.model"]?.string ?? "-") / \(gguf["tokenizer.ggml.pre"]?.string ?? "-")")
    do {
      switch try ChatTemplate(gguf: gguf) {
      case .chatML(let system): print("chat template: ChatML\(system.map { " (default system prompt: \($0.debugDescription))" } ?? "")")
      case .llama3: print("chat template: Llama 3")
      }
    } catch {
      print("chat template: unknown — \(error.detail)")
    }
    if let damage { throw CLIError(damage.description) }
    if checked { print("weights:       checked (finite scales, finite probe forward pass)") }
  }
}

/// `tome generate "prompt"`: stream a completion from the in-process model.
struct GenerateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate", abstract: "Generate text with the local GGUF model, streaming to stdout.")

  @Argument(help: "The prompt.")
  var prompt: String

  @Flag(help: "Treat the prompt as a user message and apply the model's chat template.")
  var chat = false

  @OptionGroup var models: ModelOptions

  @Option(help: "Path to a .gguf model (default: SmolLM2-135M-Instruct.Q4_1.gguf in the models folder).")
  var model: String?

  @OptionGroup var chatTemplate: ChatTemplateOption

  @Option(help: "Most tokens to generate.")
  var maxTokens = 256

  @Option(help: "Sampling temperature; 0 is greedy.")
  var temperature = 0.0

  @Option(help: "Random seed for sampling.")
  var seed: UInt64?

  func validate() throws {
    guard maxTokens > 0 else { throw ValidationError("--max-tokens must be positive") }
    guard temperature >= 0 else { throw ValidationError("--temperature must not be negative") }
  }

  func run() async throws {
    let path = model ?? models.directory.defaultChatModelURL.path
    guard FileManager.default.fileExists(atPath: path) else {
      throw CLIError("\(path): model file not found" + (model == nil ? "; run Scripts/bootstrap.sh to fetch the default model" : ""))
    }
    // Without --chat no template is used, so a file without one still generates.
    let lm = try LocalLanguageModel(path: path, template: chatTemplate.format?.template ?? (chat ? nil : .smolLM))
    let parameters = GenerationParameters(maxTokens: maxTokens, temperature: temperature, seed: seed)
    let stream = chat
      ? lm.stream([.user(prompt)], parameters: parameters)
      : lm.stream(prompt: lm.model.tokenizer.encode(prompt), parameters: parameters)
    for try await piece in stream {
      FileHandle.standardOutput.write(Data(piece.utf8))
    }
    print()
  }
}
