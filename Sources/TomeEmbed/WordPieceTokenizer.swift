public import Foundation
public import TomeCore

/// BERT's uncased WordPiece tokenizer, equal to Hugging Face `tokenizers`' `BertNormalizer` +
/// `BertPreTokenizer` + `WordPiece` for uncased vocabularies.
///
/// Steps, in the reference order:
/// 1. Special tokens written literally in the text (`[UNK]`, `[SEP]`, `[CLS]`, `[PAD]`, `[MASK]`)
///    are matched first, case-sensitively, and become their ids (HF's added tokens).
/// 2. Clean: NUL, U+FFFD and control/format/unassigned characters are dropped; whitespace
///    becomes a space.
/// 3. CJK ideographs are surrounded by spaces.
/// 4. Accents are stripped (NFD, then non-spacing marks removed) and the text is lowercased.
/// 5. Words are split at whitespace and at punctuation (ASCII symbols and Unicode P* classes),
///    each punctuation character becoming its own word.
/// 6. Greedy longest-match WordPiece with the `##` continuation prefix; a word longer than
///    100 characters, or one with an unmatchable piece, becomes `[UNK]`.
///
/// Vocabulary lookups walk a byte trie, so the longest match costs one step per byte.
public struct WordPieceTokenizer: TokenCounter, Sendable {
  /// A stable name, e.g. `wordpiece:all-MiniLM-L6-v2`.
  public let identifier: String
  /// Number of entries in the vocabulary.
  public var vocabularySize: Int { tokens.count }
  /// Id of `[CLS]`.
  public let classifierID: Int32
  /// Id of `[SEP]`.
  public let separatorID: Int32
  /// Id of `[UNK]`.
  public let unknownID: Int32
  /// Id of `[PAD]`.
  public let paddingID: Int32
  /// Id of `[MASK]`.
  public let maskID: Int32
  /// Words longer than this many characters become `[UNK]`.
  public let maximumCharactersPerWord = 100

  private let tokens: [String]
  private let trie: ByteTrie
  private let specials: [(bytes: [UInt8], id: Int32)]

  /// Loads `vocab.txt` (one token per line; the line number is the id).
  ///
  /// - Parameters:
  ///   - vocabularyURL: the vocabulary file.
  ///   - name: the model name used in `identifier`.
  /// - Throws: `EmbedError` if the file is missing or lacks the special tokens.
  public init(vocabularyURL: URL, name: String) throws {
    let path = vocabularyURL.path
    guard FileManager.default.fileExists(atPath: path) else { throw EmbedError.missing(path) }
    if let problem = RegularFile.problem(path) { throw EmbedError(.unreadableFile, path: path, reason: problem) }
    let text: String
    do {
      text = try String(contentsOf: vocabularyURL, encoding: .utf8)
    } catch {
      throw EmbedError(.unreadableFile, path: path, reason: "not readable as UTF-8: \(error)")
    }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
      $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
    }
    if lines.last == "" { lines.removeLast() }
    try self.init(vocabulary: lines, name: name, path: path)
  }

  /// Builds a tokenizer from an in-memory vocabulary (index = id).
  public init(vocabulary: [String], name: String) throws {
    try self.init(vocabulary: vocabulary, name: name, path: "")
  }

  private init(vocabulary: [String], name: String, path: String) throws {
    var ids: [String: Int32] = [:]
    for (i, token) in vocabulary.enumerated() where ids[token] == nil { ids[token] = Int32(i) }
    func special(_ s: String) throws -> Int32 {
      guard let id = ids[s] else {
        throw EmbedError(.corruptFile, path: path, reason: "vocabulary has no \(s) token")
      }
      return id
    }
    classifierID = try special("[CLS]")
    separatorID = try special("[SEP]")
    unknownID = try special("[UNK]")
    paddingID = try special("[PAD]")
    maskID = try special("[MASK]")
    specials = [
      (Array("[UNK]".utf8), unknownID), (Array("[SEP]".utf8), separatorID), (Array("[CLS]".utf8), classifierID),
      (Array("[PAD]".utf8), paddingID), (Array("[MASK]".utf8), maskID),
    ]
    var trie = ByteTrie()
    for (i, token) in vocabulary.enumerated() {
      let bytes = Array(token.utf8)
      trie.insert(bytes, id: Int32(i), continuation: false)
      if bytes.count > 2, bytes[0] == UInt8(ascii: "#"), bytes[1] == UInt8(ascii: "#") {
        trie.insert(bytes[2...], id: Int32(i), continuation: true)
      }
    }
    self.trie = trie
    self.tokens = vocabulary
    self.identifier = "wordpiece:\(name)"
  }

  // MARK: Public API

  /// Token ids of `text` without `[CLS]`/`[SEP]` (special tokens written in the text are kept).
  /// - Complexity: O(n) in the length of the text.
  public func tokenize(_ text: Substring) -> [Int32] {
    var out: [Int32] = []
    out.reserveCapacity(text.utf8.count / 4 + 4)
    forEachSegment(text) { segment, specialID in
      if let specialID {
        out.append(specialID)
      } else {
        appendWordPieces(of: segment, to: &out)
      }
    }
    return out
  }

  /// Token ids of `text` without `[CLS]`/`[SEP]`.
  public func tokenize(_ text: String) -> [Int32] { tokenize(text[...]) }

  /// Token ids with `[CLS]` first and `[SEP]` last, as BERT sees a single sequence.
  public func encode(_ text: String) -> [Int32] {
    [classifierID] + tokenize(text) + [separatorID]
  }

  /// The number of tokens of `text` without `[CLS]`/`[SEP]`.
  public func tokenCount(_ text: Substring) -> Int { tokenize(text).count }

  /// The vocabulary entry for an id.
  public func token(for id: Int32) -> String { tokens[Int(id)] }

  // MARK: Special tokens

  /// Calls `body` with each run of plain text and each literal special token, in order.
  private func forEachSegment(_ text: Substring, _ body: (Substring, Int32?) -> Void) {
    let utf8 = text.utf8
    var segmentStart = utf8.startIndex
    var i = utf8.startIndex
    while i < utf8.endIndex {
      if utf8[i] == UInt8(ascii: "[") {
        var matched: (end: String.Index, id: Int32)?
        for special in specials {
          var j = i
          var k = 0
          while k < special.bytes.count, j < utf8.endIndex, utf8[j] == special.bytes[k] {
            j = utf8.index(after: j)
            k += 1
          }
          if k == special.bytes.count {
            matched = (j, special.id)
            break
          }
        }
        if let matched {
          if segmentStart < i { body(text[segmentStart..<i], nil) }
          body(text[i..<matched.end], matched.id)
          i = matched.end
          segmentStart = i
          continue
        }
      }
      i = utf8.index(after: i)
    }
    if segmentStart < utf8.endIndex { body(text[segmentStart..<utf8.endIndex], nil) }
  }

  // MARK: Normalisation, pre-tokenisation, WordPiece

  private func appendWordPieces(of segment: Substring, to out: inout [Int32]) {
    var word: [UInt8] = []
    word.reserveCapacity(64)
    var wordCharacters = 0
    func flush() {
      if !word.isEmpty { appendWord(word, characters: wordCharacters, to: &out) }
      word.removeAll(keepingCapacity: true)
      wordCharacters = 0
    }
    let isASCII = segment.utf8.allSatisfy { $0 < 0x80 }
    if isASCII {
      for byte in segment.utf8 {
        switch byte {
        case 0x09, 0x0A, 0x0D, 0x20:
          flush()
        case 0x00..<0x20, 0x7F:
          continue  // control characters are dropped
        case 0x41...0x5A:
          word.append(byte + 0x20)
          wordCharacters += 1
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E:
          flush()
          appendWord([byte], characters: 1, to: &out)
        default:
          word.append(byte)
          wordCharacters += 1
        }
      }
      flush()
      return
    }
    // NFD first (it commutes with cleaning and CJK padding), then drop non-spacing marks, then
    // lowercase: the reference order strip-accents-then-lowercase.
    let decomposed = String(segment).decomposedStringWithCanonicalMapping
    for scalar in decomposed.unicodeScalars {
      let v = scalar.value
      if v < 0x80 {
        let byte = UInt8(v)
        switch byte {
        case 0x09, 0x0A, 0x0D, 0x20: flush()
        case 0x00..<0x20, 0x7F: continue
        case 0x41...0x5A:
          word.append(byte + 0x20)
          wordCharacters += 1
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E:
          flush()
          appendWord([byte], characters: 1, to: &out)
        default:
          word.append(byte)
          wordCharacters += 1
        }
        continue
      }
      if v == 0xFFFD { continue }
      let properties = scalar.properties
      switch properties.generalCategory {
      case .control, .format, .unassigned, .privateUse, .surrogate, .nonspacingMark:
        continue
      case .connectorPunctuation, .dashPunctuation, .closePunctuation, .finalPunctuation,
        .initialPunctuation, .otherPunctuation, .openPunctuation:
        flush()
        appendWord(Array(String(scalar).utf8), characters: 1, to: &out)
        continue
      default:
        break
      }
      if properties.isWhitespace {
        flush()
        continue
      }
      if Self.isCJK(v) {
        flush()
        appendWord(Array(String(scalar).utf8), characters: 1, to: &out)
        continue
      }
      let lower = properties.lowercaseMapping
      word.append(contentsOf: lower.utf8)
      wordCharacters += lower.unicodeScalars.count
    }
    flush()
  }

  /// CJK Unified Ideographs and their extensions, as BERT's `_is_chinese_char`.
  private static func isCJK(_ v: UInt32) -> Bool {
    (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
      || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B920...0x2CEAF).contains(v)
      || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
  }

  /// Greedy longest-match WordPiece for one word (lowercased UTF-8 bytes).
  private func appendWord(_ word: [UInt8], characters: Int, to out: inout [Int32]) {
    if characters > maximumCharactersPerWord {
      out.append(unknownID)
      return
    }
    let mark = out.count
    var start = 0
    while start < word.count {
      guard let (end, id) = trie.longestMatch(word, from: start, continuation: start > 0) else {
        out.removeSubrange(mark...)
        out.append(unknownID)
        return
      }
      out.append(id)
      start = end
    }
  }
}

/// A byte trie over the vocabulary with two roots: whole-word-start pieces and `##` pieces
/// (stored without the prefix).
struct ByteTrie: Sendable {
  /// Child of (node, byte), keyed `node << 8 | byte`.
  private var children: [UInt32: Int32] = [:]
  /// Token id ending at each node, or -1.
  private var terminal: [Int32] = [-1, -1]
  private let roots: (start: Int32, continuation: Int32) = (0, 1)

  mutating func insert<C: Collection>(_ bytes: C, id: Int32, continuation: Bool) where C.Element == UInt8 {
    var node = continuation ? roots.continuation : roots.start
    for byte in bytes {
      let key = UInt32(node) << 8 | UInt32(byte)
      if let child = children[key] {
        node = child
      } else {
        let child = Int32(terminal.count)
        terminal.append(-1)
        children[key] = child
        node = child
      }
    }
    if terminal[Int(node)] < 0 { terminal[Int(node)] = id }
  }

  /// The longest vocabulary entry that starts at `start`: its end offset and id.
  func longestMatch(_ word: [UInt8], from start: Int, continuation: Bool) -> (Int, Int32)? {
    var node = continuation ? roots.continuation : roots.start
    var best: (Int, Int32)?
    var i = start
    while i < word.count, let child = children[UInt32(node) << 8 | UInt32(word[i])] {
      node = child
      i += 1
      let id = terminal[Int(node)]
      if id >= 0 { best = (i, id) }
    }
    return best
  }
}
