import Foundation
import Testing
import TomeModel

@Suite("Byte-level BPE tokenizer")
struct TokenizerTests {
  static let tokenizer: Result<Tokenizer, any Error> = Result { try Tokenizer(gguf: try Fixtures.gguf()) }

  @Test("ids equal llama.cpp's for every golden case")
  func golden() throws {
    let tok = try Self.tokenizer.get()
    let cases = try Fixtures.golden().tokenize
    #expect(cases.count == 8)
    for c in cases {
      #expect(tok.encode(c.text) == c.ids, "\(c)")
      #expect(tok.decode(c.ids, includeControl: true) == c.text, "\(c)")
    }
    for c in try Fixtures.golden().logits {
      #expect(tok.encode(c.prompt) == c.ids, "\(c.name)")
    }
  }

  @Test("metadata: special ids and no BOS")
  func specials() throws {
    let tok = try Self.tokenizer.get()
    #expect(tok.vocabularySize == 49152)
    #expect(tok.bosID == 1)
    #expect(tok.eosID == 2)
    #expect(tok.eotID == 2)
    #expect(tok.addBOS == false)
    #expect(tok.id(of: "<|im_start|>") == 1)
    // Without special parsing the marker is ordinary text.
    #expect(tok.encode("<|im_start|>", parseSpecial: false).count > 1)
  }

  @Test("streaming decode holds back split UTF-8 characters")
  func streaming() throws {
    let tok = try Self.tokenizer.get()
    let text = "naïve 東京 🙂 Ελληνικά"
    let ids = tok.encode(text)
    var decoder = StreamingDecoder(tokenizer: tok)
    var out = ""
    var sawHeldBack = false
    for id in ids {
      let piece = decoder.append(id)
      if piece.isEmpty { sawHeldBack = true }
      #expect(!piece.contains("\u{FFFD}"))
      out += piece
    }
    out += decoder.flush()
    #expect(out == text)
    #expect(sawHeldBack)
  }

  @Test("llama3 pre-tokenizer splits numbers in threes and keeps contractions")
  func llama3Split() {
    func pieces(_ s: String, _ p: PreTokenizer) -> [String] {
      let scalars = Array(s.unicodeScalars)
      var start = 0
      var out: [String] = []
      for e in p.splitForTesting(scalars) {
        out.append(String(String.UnicodeScalarView(scalars[start..<e])))
        start = e
      }
      return out
    }
    #expect(pieces("I'M 1234567 ok!!\n\n x", .llama3) == ["I", "'M", " ", "123", "456", "7", " ok", "!!\n\n", " x"])
    #expect(pieces("a  b 12", .gpt2) == ["a", " ", " b", " 12"])
    #expect(pieces("a  b 12", .smollm) == ["a", " ", " b", " ", "1", "2"])
    #expect(pieces("x 123", .qwen2) == ["x", " ", "1", "2", "3"])
  }
}

@Suite("SentencePiece-style tokenizer")
struct SentencePieceTests {
  /// A tiny Llama-2-style vocabulary: specials, 256 byte tokens, then scored pieces.
  static func make() throws -> Tokenizer {
    var tokens = ["<unk>", "<s>", "</s>"]
    var types: [Tokenizer.TokenType] = [.unknown, .control, .control]
    var scores: [Float] = [0, 0, 0]
    for b in 0..<256 {
      tokens.append(String(format: "<0x%02X>", b))
      types.append(.byte)
      scores.append(0)
    }
    let pieces: [(String, Float)] = [
      ("▁", -1), ("h", -2), ("e", -2), ("l", -2), ("o", -2), ("w", -2), ("r", -2), ("d", -2),
      ("he", -3), ("ll", -3), ("▁h", -4), ("▁he", -5), ("llo", -6), ("▁hello", -7), ("▁w", -4), ("or", -3),
      ("▁wor", -8), ("ld", -3), ("▁world", -9),
    ]
    for (p, s) in pieces {
      tokens.append(p)
      types.append(.normal)
      scores.append(s)
    }
    return try Tokenizer(sentencePieceTokens: tokens, scores: scores, types: types, bosID: 1, eosID: 2, addBOS: true, addSpacePrefix: true)
  }

  @Test("merges by score, byte fallback, BOS and special tokens")
  func encode() throws {
    let tok = try Self.make()
    func ids(_ pieces: [String]) -> [Int] { pieces.map { tok.id(of: $0) ?? -1 } }
    #expect(tok.encode("hello world") == [1] + ids(["▁hello", "▁world"]))
    #expect(tok.encode("hello world", addSpecial: false) == ids(["▁hello", "▁world"]))
    // "é" is not a piece: its UTF-8 bytes become <0xC3><0xA9>.
    #expect(tok.encode("hé", addSpecial: false) == ids(["▁h", "<0xC3>", "<0xA9>"]))
    // After a special token a space prefix is added again.
    #expect(tok.encode("hello</s>world", addSpecial: false) == ids(["▁hello"]) + [2] + ids(["▁world"]))
    #expect(tok.decode(tok.encode("hello world hé")) == "hello world hé")
  }
}
