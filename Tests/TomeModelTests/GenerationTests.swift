import Testing
import TomeCore
import TomeModel

@Suite("Sampling, generation and chat templates", .serialized)
struct GenerationTests {
  @Test("greedy sampling is argmax; a seed reproduces sampled text; top-k 1 is greedy")
  func sampler() throws {
    let logits: [Float] = (0..<1000).map { Float(($0 * 7919) % 1000) / 100 }
    var greedy = Sampler(parameters: .greedy())
    #expect(greedy.sample(logits, history: []) == argmax(logits))
    let p = GenerationParameters(temperature: 1.0, topK: 50, topP: 0.9, seed: 42)
    var a = Sampler(parameters: p), b = Sampler(parameters: p)
    let xs = (0..<50).map { _ in a.sample(logits, history: []) }
    let ys = (0..<50).map { _ in b.sample(logits, history: []) }
    #expect(xs == ys)
    #expect(Set(xs).count > 1)
    var k1 = Sampler(parameters: GenerationParameters(temperature: 2, topK: 1, seed: 1))
    #expect(k1.sample(logits, history: []) == argmax(logits))
    // A strong repetition penalty moves greedy off a repeated token.
    var rep = Sampler(parameters: GenerationParameters(repetitionPenalty: 100))
    #expect(rep.sample(logits, history: [argmax(logits)]) != argmax(logits))
  }

  @Test("streamed greedy text equals llama.cpp's continuation")
  func streamGolden() async throws {
    let lm = try LocalLanguageModel(model: try Fixtures.model())
    let g = try #require(try Fixtures.golden().logits.first { $0.name == "chat_fact" })
    var text = ""
    for try await piece in lm.stream(prompt: g.ids, parameters: .greedy(maxTokens: 32)) { text += piece }
    #expect(text == g.greedy32_text)
  }

  @Test("a repeated or extended prompt reuses the cached prefix and gives the same answer")
  func prefixReuse() async throws {
    let lm = try LocalLanguageModel(model: try Fixtures.model())
    let g = try #require(try Fixtures.golden().logits.first { $0.name == "chat_fact" })
    for _ in 0..<3 {
      var text = ""
      for try await piece in lm.stream(prompt: g.ids, parameters: .greedy(maxTokens: 32)) { text += piece }
      #expect(text == g.greedy32_text)
    }
  }

  @Test("token counts for budgets")
  func counting() throws {
    let lm = try LocalLanguageModel(model: try Fixtures.model())
    let g = try Fixtures.golden()
    #expect(lm.tokenCounter.tokenCount(g.tokenize[1].text) == g.tokenize[1].ids.count)
    #expect(try lm.tokenCount(g.tokenize[0].text) == 4)
    #expect(try lm.promptTokenCount([.user("Hi")]) == (try lm.promptTokens([.user("Hi")])).count)
    #expect(lm.contextLength == 8192)
    #expect(lm.identifier == "SmolLM2-135M-Instruct.Q4_1.gguf")
  }

  @Test("same seed, same sampled text")
  func seededGeneration() async throws {
    let lm = try LocalLanguageModel(model: try Fixtures.model())
    let p = GenerationParameters(maxTokens: 24, temperature: 0.8, seed: 7)
    let a = try await lm.reply(to: [.user("Write a sentence about cats.")], parameters: p)
    let b = try await lm.reply(to: [.user("Write a sentence about cats.")], parameters: p)
    #expect(a == b)
    #expect(!a.isEmpty)
  }

  @Test("stop strings end generation and are not emitted; max tokens; cancellation")
  func stops() throws {
    let model = try Fixtures.model()
    let ids = try Fixtures.golden().logits.first { $0.name == "plain" }?.ids ?? []
    // Greedy: " Paris.\n\nThe", each token ahead of the next by ≥ 0.77; the word after "The" is a
    // near-tie (" answer" vs " United", gap 0.05, inside the Q8 rounding noise), so the stop
    // string sits before it.
    let c = model.makeContext()
    let r = try c.generate(prompt: ids, parameters: GenerationParameters(maxTokens: 32, stop: ["The"])) { _ in true }
    #expect(r.text == " Paris.\n\n")
    #expect(r.finishReason == .stopString)
    let c2 = model.makeContext()
    let r2 = try c2.generate(prompt: ids, parameters: .greedy(maxTokens: 5)) { _ in true }
    #expect(r2.tokens.count == 5)
    #expect(r2.finishReason == .maxTokens)
    let c3 = model.makeContext()
    var pieces = 0
    let r3 = try c3.generate(prompt: ids, parameters: .greedy(maxTokens: 100)) { _ in
      pieces += 1
      return pieces < 3
    }
    #expect(r3.finishReason == .cancelled)
    #expect(r3.tokens.count == 3)
  }

  @Test("a consumer that stops listening ends the stream")
  func streamCancellation() async throws {
    let lm = try LocalLanguageModel(model: try Fixtures.model())
    var n = 0
    for try await _ in lm.stream([.user("Count from 1 to 1000.")], parameters: .greedy(maxTokens: 2000)) {
      n += 1
      if n == 3 { break }
    }
    #expect(n == 3)
  }

  @Test("ChatML rendering matches the golden chat prompt; default system prompt inserted")
  func chatML() throws {
    let model = try Fixtures.model()
    let template = try ChatTemplate(gguf: model.file)
    #expect(template == .smolLM)
    let g = try #require(try Fixtures.golden().logits.first { $0.name == "chat_passkey" })
    let rendered = template.render([
      .system("You are a helpful assistant."),
      .user("Document: The grass is green. The sky is blue. The pass key is 73914. Remember it. The sun is yellow.\n\nWhat is the pass key?"),
    ])
    #expect(rendered == g.prompt)
    let lm = try LocalLanguageModel(model: model)
    #expect(try lm.promptTokens([.system("You are a helpful assistant."), .user("Document: The grass is green. The sky is blue. The pass key is 73914. Remember it. The sun is yellow.\n\nWhat is the pass key?")]) == g.ids)
    let user = template.render([.user("Hi")])
    #expect(user == "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
  }

  @Test("Llama 3 format and unknown templates")
  func otherTemplates() throws {
    let llama3 = try ChatTemplate(jinja: "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}")
    #expect(llama3 == .llama3)
    #expect(llama3.render([.system("S"), .user("U")]) == "<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
    do {
      _ = try ChatTemplate(jinja: "{{ messages[0]['content'] }} [INST]", file: "x.gguf")
      Issue.record("unknown template accepted")
    } catch {
      #expect(error.kind == .unknownChatTemplate)
      #expect(error.description.contains("chatml or llama3"))
    }
  }
}
