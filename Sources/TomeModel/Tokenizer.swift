import Foundation

/// A tokenizer built from GGUF metadata: byte-level BPE (`gpt2`: GPT-2, SmolLM2, Llama 3,
/// Qwen2) or SentencePiece-style BPE (`llama`: Llama 2, Mistral, TinyLlama).
///
/// Reads `tokenizer.ggml.tokens`, `.token_type`, `.merges` or `.scores`, `.pre`, the special
/// ids, `add_bos_token` and `add_space_prefix`. Encoding follows llama.cpp's `llama_tokenize`
/// with special tokens parsed: special-token partition, then for byte-level BPE the
/// pre-tokenizer and rank-ordered merges over byte symbols; for SentencePiece, "▁" for
/// spaces, score-ordered merges over characters and `<0xXX>` byte fallback.
public struct Tokenizer: Sendable {
  /// The vocabulary's algorithm (`tokenizer.ggml.model`).
  public enum Kind: Sendable, Equatable {
    /// `gpt2`: byte-level BPE with merge ranks.
    case bytePairEncoding
    /// `llama`: SentencePiece BPE with token scores.
    case sentencePiece
  }

  public let kind: Kind
  /// SentencePiece: prepend a space to text that starts the input or follows a special token.
  public let addSpacePrefix: Bool
  /// SentencePiece token scores (merge priority).
  let scores: [Float]
  /// GGUF token types (`tokenizer.ggml.token_type`).
  public enum TokenType: Int32, Sendable {
    case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
  }

  public let preTokenizer: PreTokenizer
  /// Token texts as stored (byte-level BPE uses the GPT-2 byte-to-unicode alphabet).
  public let tokens: [String]
  public let bosID: Int?
  public let eosID: Int?
  /// End-of-turn id (`tokenizer.ggml.eot_token_id`, or `<|im_end|>` / `<|eot_id|>` when present).
  public let eotID: Int?
  public let addBOS: Bool
  /// Whether to merge only when the whole piece is not itself a token (llama3 `ignore_merges`).
  let ignoreMerges: Bool
  let types: [TokenType]
  let idOf: [String: Int32]
  /// (left id << 32 | right id) → (rank << 32 | merged id).
  let merges: [UInt64: UInt64]
  let byteToken: [Int32]
  /// Decoded bytes of each token.
  let tokenBytes: [[UInt8]]
  /// Special tokens (control, user-defined) as UTF-8, longest first.
  let specials: [(bytes: [UInt8], id: Int32, control: Bool)]

  public var vocabularySize: Int { tokens.count }

  /// Builds the tokenizer described by `file`'s metadata.
  /// - Throws: `ModelError` when the vocabulary is missing, not byte-level BPE, or the
  ///   pre-tokenizer is unknown.
  public init(gguf file: GGUFFile) throws(ModelError) {
    let path = file.path
    let model = file["tokenizer.ggml.model"]?.string ?? ""
    let kind: Kind
    switch model {
    case "gpt2": kind = .bytePairEncoding
    case "llama": kind = .sentencePiece
    default:
      throw ModelError(.unsupported, file: path, "tokenizer model '\(model)' is not supported ('gpt2' byte-level BPE and 'llama' SentencePiece are)")
    }
    guard let toks = file["tokenizer.ggml.tokens"]?.array else {
      throw ModelError(.missing, file: path, "tokenizer.ggml.tokens is missing")
    }
    let tokens = toks.map { $0.string ?? "" }
    let preName = file["tokenizer.ggml.pre"]?.string ?? "default"
    guard let pre = kind == .sentencePiece ? .gpt2 : PreTokenizer(ggufName: preName) else {
      throw ModelError(.unsupported, file: path, "pre-tokenizer '\(preName)' is not supported (gpt2, smollm, llama-bpe are)")
    }
    let rawTypes = file["tokenizer.ggml.token_type"]?.array?.map { $0.int ?? 1 }
    let types = (0..<tokens.count).map { i in
      TokenType(rawValue: Int32(rawTypes.flatMap { i < $0.count ? $0[i] : nil } ?? 1)) ?? .normal
    }
    var merges: [String] = []
    if let m = file["tokenizer.ggml.merges"]?.array { merges = m.map { $0.string ?? "" } }
    let bos = file["tokenizer.ggml.bos_token_id"]?.int
    let eos = file["tokenizer.ggml.eos_token_id"]?.int
    let addBOS = file["tokenizer.ggml.add_bos_token"]?.bool ?? (kind == .sentencePiece)
    let scores = file["tokenizer.ggml.scores"]?.array?.map { Float($0.double ?? 0) } ?? []
    if kind == .sentencePiece && scores.count != tokens.count {
      throw ModelError(.malformed, file: path, "tokenizer.ggml.scores has \(scores.count) entries for \(tokens.count) tokens")
    }
    try self.init(
      kind: kind, tokens: tokens, types: types, merges: merges, scores: scores, preTokenizer: pre, bosID: bos,
      eosID: eos, eotID: file["tokenizer.ggml.eot_token_id"]?.int, addBOS: addBOS,
      addSpacePrefix: file["tokenizer.ggml.add_space_prefix"]?.bool ?? true, path: path)
  }

  /// A SentencePiece-style vocabulary given directly (tests and tools).
  package init(
    sentencePieceTokens tokens: [String], scores: [Float], types: [TokenType], bosID: Int?, eosID: Int?,
    addBOS: Bool, addSpacePrefix: Bool
  ) throws(ModelError) {
    try self.init(
      kind: .sentencePiece, tokens: tokens, types: types, merges: [], scores: scores, preTokenizer: .gpt2, bosID: bosID,
      eosID: eosID, eotID: nil, addBOS: addBOS, addSpacePrefix: addSpacePrefix, path: nil)
  }

  init(
    kind: Kind, tokens: [String], types: [TokenType], merges mergeStrings: [String], scores: [Float],
    preTokenizer: PreTokenizer, bosID: Int?, eosID: Int?, eotID: Int?, addBOS: Bool, addSpacePrefix: Bool,
    path: String?
  ) throws(ModelError) {
    self.kind = kind
    self.scores = scores
    self.addSpacePrefix = addSpacePrefix
    self.tokens = tokens
    self.types = types
    self.preTokenizer = preTokenizer
    self.ignoreMerges = preTokenizer == .llama3
    self.addBOS = addBOS
    func valid(_ i: Int?) -> Int? { i.flatMap { $0 >= 0 && $0 < tokens.count ? $0 : nil } }
    self.bosID = valid(bosID)
    self.eosID = valid(eosID)
    var idOf: [String: Int32] = [:]
    idOf.reserveCapacity(tokens.count)
    for (i, t) in tokens.enumerated() where idOf[t] == nil { idOf[t] = Int32(i) }
    self.idOf = idOf
    self.eotID = valid(eotID) ?? idOf["<|im_end|>"].map(Int.init) ?? idOf["<|eot_id|>"].map(Int.init)

    if kind == .sentencePiece {
      // Byte fallback tokens are "<0xXX>"; "▁" stands for a space.
      var byteToken = [Int32](repeating: -1, count: 256)
      var tokenBytes: [[UInt8]] = []
      var specials: [(bytes: [UInt8], id: Int32, control: Bool)] = []
      for (i, t) in tokens.enumerated() {
        switch types[i] {
        case .byte:
          let hex = t.dropFirst(3).prefix(2)
          if t.hasPrefix("<0x"), let b = UInt8(hex, radix: 16) {
            byteToken[Int(b)] = Int32(i)
            tokenBytes.append([b])
          } else {
            tokenBytes.append(Array(t.utf8))
          }
        case .control, .userDefined:
          tokenBytes.append(Array(t.utf8))
          if !t.isEmpty { specials.append((Array(t.utf8), Int32(i), types[i] == .control)) }
        default:
          tokenBytes.append(Array(t.replacingOccurrences(of: "\u{2581}", with: " ").utf8))
        }
      }
      self.byteToken = byteToken
      self.merges = [:]
      self.tokenBytes = tokenBytes
      self.specials = specials.sorted { $0.bytes.count > $1.bytes.count }
      return
    }

    let b2u = ByteLevel.byteToUnicode
    var byteToken = [Int32](repeating: -1, count: 256)
    // Some vocabularies (SmolLM2) lack a few byte symbols; they get ids past the vocabulary
    // so merges can still use them, and are dropped if they survive merging.
    var symbolID = idOf
    for b in 0..<256 {
      let text = String(Character(b2u[b]))
      if let id = idOf[text] {
        byteToken[b] = id
      } else {
        byteToken[b] = Int32(tokens.count + b)
        symbolID[text] = Int32(tokens.count + b)
      }
    }
    self.byteToken = byteToken

    var merges: [UInt64: UInt64] = [:]
    merges.reserveCapacity(mergeStrings.count)
    for (rank, m) in mergeStrings.enumerated() {
      guard let space = m.firstIndex(of: " ") else { continue }
      let l = String(m[..<space])
      let r = String(m[m.index(after: space)...])
      guard let a = symbolID[l], let b = symbolID[r], let c = idOf[l + r] else { continue }
      let key = UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
      if merges[key] == nil { merges[key] = UInt64(rank) << 32 | UInt64(UInt32(c)) }
    }
    self.merges = merges

    let u2b = ByteLevel.unicodeToByte
    var tokenBytes: [[UInt8]] = []
    tokenBytes.reserveCapacity(tokens.count)
    var specials: [(bytes: [UInt8], id: Int32, control: Bool)] = []
    for (i, t) in tokens.enumerated() {
      switch types[i] {
      case .control, .userDefined:
        tokenBytes.append(Array(t.utf8))
        if !t.isEmpty { specials.append((Array(t.utf8), Int32(i), types[i] == .control)) }
      default:
        var bytes: [UInt8] = []
        for s in t.unicodeScalars {
          if let b = u2b[s.value] { bytes.append(b) } else { bytes.append(contentsOf: String(s).utf8) }
        }
        tokenBytes.append(bytes)
      }
    }
    self.tokenBytes = tokenBytes
    self.specials = specials.sorted { $0.bytes.count > $1.bytes.count }
  }

  /// The id of a token text, when the vocabulary has it.
  public func id(of token: String) -> Int? { idOf[token].map(Int.init) }

  /// The token's kind.
  public func type(of id: Int) -> TokenType { types[id] }

  /// Whether `id` is a control token (never shown as text).
  public func isControl(_ id: Int) -> Bool { types[id] == .control }

  /// Token ids for `text`.
  ///
  /// - Parameters:
  ///   - parseSpecial: recognise control-token texts such as `<|im_start|>` in `text`.
  ///   - addSpecial: prepend BOS when the model asks for it (`add_bos_token`).
  /// - Complexity: O(n log n) in the length of each pre-tokenized piece.
  public func encode(_ text: String, parseSpecial: Bool = true, addSpecial: Bool = true) -> [Int] {
    var out: [Int32] = []
    out.reserveCapacity(text.utf8.count / 3 + 2)
    if addSpecial, addBOS, let bosID { out.append(Int32(bosID)) }
    let utf8 = Array(text.utf8)
    var start = 0
    var i = 0
    var afterSpecial = true
    func ordinary(_ bytes: ArraySlice<UInt8>) {
      if kind == .sentencePiece {
        sentencePiece(bytes, prefixSpace: addSpacePrefix && afterSpecial, into: &out)
      } else {
        encodeOrdinary(bytes, into: &out)
      }
      afterSpecial = false
    }
    while i < utf8.count {
      if let (len, id) = matchSpecial(utf8, at: i, parseSpecial: parseSpecial) {
        if i > start { ordinary(utf8[start..<i]) }
        out.append(id)
        afterSpecial = true
        i += len
        start = i
      } else {
        i += 1
      }
    }
    if start < utf8.count { ordinary(utf8[start..<utf8.count]) }
    return out.map(Int.init)
  }

  /// The number of tokens `text` becomes (special texts parsed, no BOS).
  public func count(_ text: String) -> Int { encode(text, addSpecial: false).count }

  private func matchSpecial(_ utf8: [UInt8], at i: Int, parseSpecial: Bool) -> (Int, Int32)? {
    // Special tokens in these vocabularies start with '<' or another non-alphanumeric byte.
    let first = utf8[i]
    for s in specials where s.bytes[0] == first && (parseSpecial || !s.control) {
      let n = s.bytes.count
      if i + n <= utf8.count, utf8[i..<(i + n)].elementsEqual(s.bytes) { return (n, s.id) }
    }
    return nil
  }

  private func encodeOrdinary(_ bytes: ArraySlice<UInt8>, into out: inout [Int32]) {
    let text = String(decoding: bytes, as: UTF8.self)
    let scalars = Array(text.unicodeScalars)
    var offsets = [Int](repeating: 0, count: scalars.count + 1)
    for (i, s) in scalars.enumerated() { offsets[i + 1] = offsets[i] + UTF8.width(s) }
    let utf8 = Array(text.utf8)
    let ends = preTokenizer.split(scalars)
    var start = 0
    for end in ends {
      bpe(Array(utf8[offsets[start]..<offsets[end]]), into: &out)
      start = end
    }
  }

  /// Applies merges to one piece's bytes in rank order (leftmost first on ties).
  func bpe(_ piece: [UInt8], into out: inout [Int32]) {
    let n = piece.count
    if n == 0 { return }
    if n == 1 {
      let id = byteToken[Int(piece[0])]
      if id < Int32(tokens.count) { out.append(id) }
      return
    }
    if ignoreMerges {
      let mapped = String(String.UnicodeScalarView(piece.map { ByteLevel.byteToUnicode[Int($0)] }))
      if let id = idOf[mapped] {
        out.append(id)
        return
      }
    }
    var ids = piece.map { byteToken[Int($0)] }
    var next = Array(1...n)
    next[n - 1] = -1
    var prev = Array(-1..<(n - 1))
    var alive = [Bool](repeating: true, count: n)
    var heap = MergeHeap()
    func push(_ l: Int, _ r: Int) {
      let key = UInt64(UInt32(ids[l])) << 32 | UInt64(UInt32(ids[r]))
      if let m = merges[key] {
        heap.push(MergeCandidate(rank: Int32(m >> 32), left: Int32(l), right: Int32(r), leftID: ids[l], rightID: ids[r], merged: Int32(truncatingIfNeeded: m)))
      }
    }
    for i in 0..<(n - 1) { push(i, i + 1) }
    while let c = heap.pop() {
      let l = Int(c.left)
      let r = Int(c.right)
      guard alive[l], alive[r], next[l] == r, ids[l] == c.leftID, ids[r] == c.rightID else { continue }
      ids[l] = c.merged
      alive[r] = false
      next[l] = next[r]
      if next[r] >= 0 { prev[next[r]] = l }
      if prev[l] >= 0 { push(prev[l], l) }
      if next[l] >= 0 { push(l, next[l]) }
    }
    let vocabularySize = Int32(tokens.count)
    var i = 0
    while i >= 0 {
      if ids[i] < vocabularySize { out.append(ids[i]) }
      i = next[i]
    }
  }

  /// SentencePiece BPE (llama.cpp's `llm_tokenizer_spm`): characters merge pairwise, highest
  /// scoring merged token first (leftmost on ties); pieces not in the vocabulary are split back
  /// along their merges and finally into `<0xXX>` byte tokens.
  func sentencePiece(_ raw: ArraySlice<UInt8>, prefixSpace: Bool, into out: inout [Int32]) {
    var text: [UInt8] = prefixSpace ? [0xE2, 0x96, 0x81] : []
    text.reserveCapacity(raw.count + 8)
    for b in raw {
      if b == 0x20 { text += [0xE2, 0x96, 0x81] } else { text.append(b) }
    }
    guard !text.isEmpty else { return }
    // Symbols are UTF-8 characters: (start, length), linked.
    var starts: [Int] = []
    var lengths: [Int] = []
    var o = 0
    while o < text.count {
      let b = text[o]
      let len = min(b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1, text.count - o)
      starts.append(o)
      lengths.append(len)
      o += len
    }
    let n = starts.count
    var next = Array(1...n)
    next[n - 1] = -1
    var prev = Array(-1..<(n - 1))
    var heap = ScoredHeap()
    var splits: [String: (Int, Int, Int)] = [:]  // merged text → (start, left length, right length)
    func piece(_ s: Int, _ len: Int) -> String { String(decoding: text[s..<(s + len)], as: UTF8.self) }
    func tryAdd(_ l: Int, _ r: Int) {
      guard l >= 0, r >= 0 else { return }
      let str = piece(starts[l], lengths[l] + lengths[r])
      guard let id = idOf[str] else { return }
      heap.push(ScoredCandidate(score: scores[Int(id)], left: l, right: r, size: lengths[l] + lengths[r]))
      splits[str] = (starts[l], lengths[l], lengths[r])
    }
    for i in 1..<max(n, 1) { tryAdd(i - 1, i) }
    while let c = heap.pop() {
      guard lengths[c.left] > 0, lengths[c.right] > 0, lengths[c.left] + lengths[c.right] == c.size else { continue }
      lengths[c.left] += lengths[c.right]
      lengths[c.right] = 0
      next[c.left] = next[c.right]
      if next[c.right] >= 0 { prev[next[c.right]] = c.left }
      tryAdd(prev[c.left], c.left)
      tryAdd(c.left, next[c.left])
    }
    func resegment(_ s: Int, _ len: Int) {
      let str = piece(s, len)
      if let id = idOf[str] {
        out.append(id)
        return
      }
      if let (ss, l, r) = splits[str], ss >= 0 {
        resegment(s, l)
        resegment(s + l, r)
        return
      }
      for b in text[s..<(s + len)] where byteToken[Int(b)] >= 0 { out.append(byteToken[Int(b)]) }
    }
    var i = 0
    while i >= 0 {
      resegment(starts[i], lengths[i])
      i = next[i]
    }
  }

  /// The bytes a token stands for (control tokens: their text).
  public func bytes(of id: Int) -> [UInt8] { tokenBytes[id] }

  /// Text for `ids`; control tokens are left out unless `includeControl`.
  public func decode(_ ids: [Int], includeControl: Bool = false) -> String {
    var bytes: [UInt8] = []
    for id in ids where id >= 0 && id < tokens.count {
      if types[id] == .control && !includeControl { continue }
      bytes.append(contentsOf: tokenBytes[id])
    }
    // SentencePiece: the space added in front of the text is not part of it.
    if kind == .sentencePiece, addSpacePrefix, bytes.first == 0x20 { bytes.removeFirst() }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// Turns a stream of token ids into text, holding back bytes of a UTF-8 character that a
/// token boundary split until the rest arrives.
public struct StreamingDecoder: Sendable {
  private let tokenizer: Tokenizer
  private var pending: [UInt8] = []
  public var includeControl = false

  public init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

  /// The text completed by `id` (possibly empty).
  public mutating func append(_ id: Int) -> String {
    guard id >= 0, id < tokenizer.vocabularySize else { return "" }
    if tokenizer.isControl(id) && !includeControl { return "" }
    pending.append(contentsOf: tokenizer.bytes(of: id))
    let complete = Self.completePrefixLength(pending)
    guard complete > 0 else { return "" }
    let text = String(decoding: pending[0..<complete], as: UTF8.self)
    pending.removeFirst(complete)
    return text
  }

  /// Whatever is still held back (invalid bytes become U+FFFD).
  public mutating func flush() -> String {
    defer { pending.removeAll() }
    return String(decoding: pending, as: UTF8.self)
  }

  /// Length of `bytes` without a trailing incomplete UTF-8 sequence.
  static func completePrefixLength(_ bytes: [UInt8]) -> Int {
    let n = bytes.count
    var i = n - 1
    var back = 0
    while i >= 0 && back < 4 {
      let b = bytes[i]
      if b & 0xC0 != 0x80 {
        let need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
        return need > n - i ? i : n
      }
      i -= 1
      back += 1
    }
    return n
  }
}

/// GPT-2's reversible byte ↔ printable-unicode map.
enum ByteLevel {
  static let byteToUnicode: [Unicode.Scalar] = {
    var map = [Unicode.Scalar](repeating: "\0", count: 256)
    var extra: UInt32 = 0
    for b in 0..<256 {
      let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
      if printable {
        map[b] = Unicode.Scalar(UInt32(b)) ?? "\0"
      } else {
        map[b] = Unicode.Scalar(256 + extra) ?? "\0"
        extra += 1
      }
    }
    return map
  }()

  static let unicodeToByte: [UInt32: UInt8] = {
    var m: [UInt32: UInt8] = [:]
    for (b, s) in byteToUnicode.enumerated() { m[s.value] = UInt8(b) }
    return m
  }()
}

struct MergeCandidate {
  var rank: Int32
  var left: Int32
  var right: Int32
  var leftID: Int32
  var rightID: Int32
  var merged: Int32

  /// Lower rank first, then leftmost.
  func before(_ o: MergeCandidate) -> Bool { rank != o.rank ? rank < o.rank : left < o.left }
}

struct ScoredCandidate {
  var score: Float
  var left: Int
  var right: Int
  var size: Int

  /// Higher score first, then leftmost.
  func before(_ o: ScoredCandidate) -> Bool { score != o.score ? score > o.score : left < o.left }
}

/// Something a `PriorityHeap` can order: `before` is true when `self` must pop first.
protocol HeapOrdered {
  func before(_ other: Self) -> Bool
}

extension MergeCandidate: HeapOrdered {}
extension ScoredCandidate: HeapOrdered {}

/// BPE merge candidates, lowest rank first.
typealias MergeHeap = PriorityHeap<MergeCandidate>
/// SentencePiece merge candidates, highest score first.
typealias ScoredHeap = PriorityHeap<ScoredCandidate>

/// A binary heap that pops the element that comes `before` all others.
struct PriorityHeap<Element: HeapOrdered> {
  private var items: [Element] = []

  mutating func push(_ c: Element) {
    items.append(c)
    var i = items.count - 1
    while i > 0 {
      let p = (i - 1) / 2
      guard items[i].before(items[p]) else { break }
      items.swapAt(i, p)
      i = p
    }
  }

  mutating func pop() -> Element? {
    guard let top = items.first else { return nil }
    let last = items.removeLast()
    if !items.isEmpty {
      items[0] = last
      var i = 0
      while true {
        let l = 2 * i + 1
        let r = l + 1
        var m = i
        if l < items.count && items[l].before(items[m]) { m = l }
        if r < items.count && items[r].before(items[m]) { m = r }
        if m == i { break }
        items.swapAt(i, m)
        i = m
      }
    }
    return top
  }
}
