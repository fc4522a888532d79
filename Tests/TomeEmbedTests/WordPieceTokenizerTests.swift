import TomeEmbed
import Testing

@Suite struct WordPieceTokenizerTests {
  @Test("golden file has all 16 cases")
  func goldenLoads() throws {
    #expect(try Golden.cases().count == 16)
  }

  @Test("ids equal HF tokenizers' ids", arguments: Golden.all)
  func goldenIDs(_ golden: GoldenCase) throws {
    let tokenizer = try Model.tokenizer()
    var ids = tokenizer.encode(golden.text)
    if ids.count > 512 { ids = Array(ids.prefix(511)) + [tokenizer.separatorID] }
    #expect(ids == golden.ids)
  }

  @Test("token count excludes [CLS] and [SEP]")
  func tokenCount() throws {
    let tokenizer = try Model.tokenizer()
    #expect(tokenizer.identifier == "wordpiece:all-MiniLM-L6-v2")
    #expect(tokenizer.tokenCount("") == 0)
    #expect(tokenizer.tokenCount("This is an example sentence") == 5)
    #expect(tokenizer.tokenCount("[SEP]") == 1)
  }

  @Test("specials are matched case-sensitively, punctuation and CJK split")
  func details() throws {
    let t = try Model.tokenizer()
    #expect(t.tokenize("[sep]").count == 3)  // "[", "sep", "]"
    #expect(t.tokenize("a[MASK]b") == t.tokenize("a") + [t.maskID] + t.tokenize("b"))
    #expect(t.tokenize("北京") == t.tokenize("北 京"))
    #expect(t.tokenize("Café\u{00A0}NAÏVE") == t.tokenize("cafe naive"))
    #expect(t.tokenize("a\u{0}b\u{200B}c") == t.tokenize("abc"))
    #expect(t.tokenize("x$y") == t.tokenize("x $ y"))
  }
}
