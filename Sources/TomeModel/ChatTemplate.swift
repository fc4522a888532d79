public import TomeCore
import Foundation

/// The chat prompt formats Tome can render. Detected from `tokenizer.chat_template`; pass one
/// explicitly when detection fails.
public enum ChatTemplate: Sendable, Hashable {
  /// `<|im_start|>role\n…<|im_end|>\n` (SmolLM2, Qwen). When the first message is not a
  /// system message and `defaultSystemPrompt` is set, it is inserted as the real template does.
  case chatML(defaultSystemPrompt: String?)
  /// Llama 3: `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>`.
  case llama3

  /// The formats by name, for a user to choose when detection fails.
  public enum Format: String, Sendable, CaseIterable, Codable {
    /// ChatML without a default system prompt.
    case chatml
    case llama3

    public var template: ChatTemplate {
      switch self {
      case .chatml: .chatML(defaultSystemPrompt: nil)
      case .llama3: .llama3
      }
    }
  }

  /// SmolLM2's template.
  public static let smolLM = ChatTemplate.chatML(
    defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face")

  /// Recognises the Jinja template stored in `file`.
  /// - Throws: `ModelError.unknownChatTemplate` when absent or unrecognised.
  public init(gguf file: GGUFFile) throws(ModelError) {
    guard let source = file["tokenizer.chat_template"]?.string else {
      throw ModelError(
        .unknownChatTemplate, file: file.path,
        "no tokenizer.chat_template in the file; pick chatml or llama3 (tome: --chat-template)")
    }
    try self.init(jinja: source, file: file.path)
  }

  /// Recognises a Jinja chat template by its markers.
  public init(jinja source: String, file: String? = nil) throws(ModelError) {
    if source.contains("<|im_start|>") {
      var prompt: String?
      if let r = source.range(of: "<|im_start|>system\n"),
        let e = source.range(of: "<|im_end|>", range: r.upperBound..<source.endIndex)
      {
        let text = String(source[r.upperBound..<e.lowerBound])
        if !text.contains("{") && !text.contains("'") && !text.contains("+") { prompt = text }
      }
      self = .chatML(defaultSystemPrompt: prompt)
    } else if source.contains("<|start_header_id|>") {
      self = .llama3
    } else {
      throw ModelError(
        .unknownChatTemplate, file: file,
        "chat template not recognised (\(source.prefix(60).debugDescription)…); pick chatml or llama3 (tome: --chat-template)")
    }
  }

  /// The prompt text for `messages`, ending with the assistant header when
  /// `addGenerationPrompt`. BOS is not included: the tokenizer adds it when the model wants it.
  public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
    var out = ""
    switch self {
    case .chatML(let defaultSystem):
      if let defaultSystem, messages.first?.role != .system {
        out += "<|im_start|>system\n\(defaultSystem)<|im_end|>\n"
      }
      for m in messages { out += "<|im_start|>\(m.role.rawValue)\n\(m.content)<|im_end|>\n" }
      if addGenerationPrompt { out += "<|im_start|>assistant\n" }
    case .llama3:
      for m in messages {
        out += "<|start_header_id|>\(m.role.rawValue)<|end_header_id|>\n\n\(m.content)<|eot_id|>"
      }
      if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
    }
    return out
  }

  /// Token texts that end a turn in this format.
  var endOfTurnTexts: [String] {
    switch self {
    case .chatML: ["<|im_end|>", "<|endoftext|>"]
    case .llama3: ["<|eot_id|>", "<|end_of_text|>", "<|eom_id|>"]
    }
  }
}
