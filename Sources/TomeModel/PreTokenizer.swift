/// The pre-tokenizers of byte-level BPE vocabularies, implemented by hand after llama.cpp's
/// `unicode_regex_split_custom_gpt2` / `_llama3` (no regex engine).
///
/// - `gpt2`: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - `smollm` (also StarCoder, Refact…): every `\p{N}` code point alone first, then `gpt2`
///   on the rest, so "1234" becomes "1", "2", "3", "4".
/// - `llama3` (`llama-bpe`): case-insensitive contractions, `[^\r\n\p{L}\p{N}]?\p{L}+`,
///   `\p{N}{1,3}`, ` ?[^\s\p{L}\p{N}]+[\r\n]*`, `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`.
/// - `qwen2`: as `llama3` but every digit alone (`\p{N}`).
public enum PreTokenizer: String, Sendable, CaseIterable {
  case gpt2
  case smollm
  case llama3
  case qwen2

  /// The pre-tokenizer named by `tokenizer.ggml.pre`, or nil when unknown.
  public init?(ggufName: String) {
    switch ggufName {
    case "gpt2", "default", "gpt-2", "olmo", "jais", "bloom", "poro-chat", "viking": self = .gpt2
    case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva": self = .smollm
    case "llama-bpe", "llama3", "llama-v3", "falcon3", "dbrx", "smaug-bpe", "pixtral": self = .llama3
    case "qwen2", "deepseek-r1-qwen", "qwen35": self = .qwen2
    default: return nil
    }
  }

  /// Splits `scalars` into pieces; returns the end index of each piece.
  func split(_ scalars: [Unicode.Scalar]) -> [Int] {
    let flags = scalars.map(CharFlags.init)
    var ends: [Int] = []
    ends.reserveCapacity(scalars.count / 3 + 1)
    switch self {
    case .gpt2:
      Self.gpt2(scalars, flags, 0, scalars.count, &ends)
    case .llama3:
      Self.llama3(scalars, flags, 0, scalars.count, maxDigits: 3, &ends)
    case .qwen2:
      Self.llama3(scalars, flags, 0, scalars.count, maxDigits: 1, &ends)
    case .smollm:
      var start = 0
      for i in 0..<scalars.count where flags[i].isNumber {
        if i > start { Self.gpt2(scalars, flags, start, i, &ends) }
        ends.append(i + 1)
        start = i + 1
      }
      if start < scalars.count { Self.gpt2(scalars, flags, start, scalars.count, &ends) }
    }
    return ends
  }

  private static func gpt2(
    _ cpts: [Unicode.Scalar], _ flags: [CharFlags], _ lo: Int, _ hi: Int, _ ends: inout [Int]
  ) {
    @inline(__always) func cpt(_ p: Int) -> UInt32 { p >= lo && p < hi ? cpts[p].value : 0xFFFF_FFFF }
    @inline(__always) func fl(_ p: Int) -> CharFlags { p >= lo && p < hi ? flags[p] : .outOfRange }
    var pos = lo
    while pos < hi {
      let c = cpt(pos)
      let f = fl(pos)
      if c == 0x27, pos + 1 < hi {  // '
        let n = cpt(pos + 1)
        if n == 0x73 || n == 0x74 || n == 0x6D || n == 0x64 {  // s t m d
          pos += 2
          ends.append(pos)
          continue
        }
        if pos + 2 < hi {
          let nn = cpt(pos + 2)
          if (n == 0x72 && nn == 0x65) || (n == 0x76 && nn == 0x65) || (n == 0x6C && nn == 0x6C) {
            pos += 3
            ends.append(pos)
            continue
          }
        }
      }
      let f2 = c == 0x20 ? fl(pos + 1) : f
      if f2.isLetter {
        pos += c == 0x20 ? 1 : 0
        while fl(pos).isLetter { pos += 1 }
        ends.append(pos)
        continue
      }
      if f2.isNumber {
        pos += c == 0x20 ? 1 : 0
        while fl(pos).isNumber { pos += 1 }
        ends.append(pos)
        continue
      }
      if f2.isOther {
        pos += c == 0x20 ? 1 : 0
        while fl(pos).isOther { pos += 1 }
        ends.append(pos)
        continue
      }
      var ws = 0
      while fl(pos + ws).isWhitespace { ws += 1 }
      if ws > 1, cpt(pos + ws) != 0xFFFF_FFFF {
        pos += ws - 1
        ends.append(pos)
        continue
      }
      if ws > 0 {
        pos += ws
        ends.append(pos)
        continue
      }
      pos += 1
      ends.append(pos)
    }
  }

  private static func llama3(
    _ cpts: [Unicode.Scalar], _ flags: [CharFlags], _ lo: Int, _ hi: Int, maxDigits: Int, _ ends: inout [Int]
  ) {
    @inline(__always) func cpt(_ p: Int) -> UInt32 { p >= lo && p < hi ? cpts[p].value : 0xFFFF_FFFF }
    @inline(__always) func lower(_ p: Int) -> UInt32 {
      let c = cpt(p)
      return c >= 0x41 && c <= 0x5A ? c + 32 : c
    }
    @inline(__always) func fl(_ p: Int) -> CharFlags { p >= lo && p < hi ? flags[p] : .outOfRange }
    var pos = lo
    while pos < hi {
      let c = cpt(pos)
      let f = fl(pos)
      if c == 0x27, pos + 1 < hi {
        let n = lower(pos + 1)
        if n == 0x73 || n == 0x74 || n == 0x6D || n == 0x64 {
          pos += 2
          ends.append(pos)
          continue
        }
        if pos + 2 < hi {
          let nn = lower(pos + 2)
          if (n == 0x72 && nn == 0x65) || (n == 0x76 && nn == 0x65) || (n == 0x6C && nn == 0x6C) {
            pos += 3
            ends.append(pos)
            continue
          }
        }
      }
      if !(c == 0x0D || c == 0x0A || f.isNumber), f.isLetter || fl(pos + 1).isLetter {
        pos += 1
        while fl(pos).isLetter { pos += 1 }
        ends.append(pos)
        continue
      }
      if f.isNumber {
        var ini = pos
        while fl(pos).isNumber {
          pos += 1
          if pos - ini >= maxDigits {
            ends.append(pos)
            ini = pos
          }
        }
        if pos > ini { ends.append(pos) }
        continue
      }
      var f2 = c == 0x20 ? fl(pos + 1) : f
      if f2.isOther, f.rawValue != 0 {
        pos += c == 0x20 ? 1 : 0
        while f2.isOther {
          pos += 1
          f2 = fl(pos)
        }
        while cpt(pos) == 0x0D || cpt(pos) == 0x0A { pos += 1 }
        ends.append(pos)
        continue
      }
      var ws = 0
      var lastNewline = 0
      while fl(pos + ws).isWhitespace {
        let c2 = cpt(pos + ws)
        if c2 == 0x0D || c2 == 0x0A { lastNewline = pos + ws + 1 }
        ws += 1
      }
      if lastNewline > 0 {
        pos = lastNewline
        ends.append(pos)
        continue
      }
      if ws > 1, cpt(pos + ws) != 0xFFFF_FFFF {
        pos += ws - 1
        ends.append(pos)
        continue
      }
      if ws > 0 {
        pos += ws
        ends.append(pos)
        continue
      }
      pos += 1
      ends.append(pos)
    }
  }
}

/// Unicode classes the pre-tokenizers test: letter (L*), number (N*), White_Space.
struct CharFlags: Sendable {
  var rawValue: UInt8
  static let letter: UInt8 = 1
  static let number: UInt8 = 2
  static let whitespace: UInt8 = 4
  static let inRange: UInt8 = 8
  static let outOfRange = CharFlags(rawValue: 0)

  init(rawValue: UInt8) { self.rawValue = rawValue }

  init(_ s: Unicode.Scalar) {
    let v = s.value
    if v < 128 {
      rawValue = CharFlags.ascii[Int(v)]
      return
    }
    var r = CharFlags.inRange
    if s.properties.isWhitespace { r |= CharFlags.whitespace }
    switch s.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
      r |= CharFlags.letter
    case .decimalNumber, .letterNumber, .otherNumber:
      r |= CharFlags.number
    default: break
    }
    rawValue = r
  }

  var isLetter: Bool { rawValue & CharFlags.letter != 0 }
  var isNumber: Bool { rawValue & CharFlags.number != 0 }
  var isWhitespace: Bool { rawValue & CharFlags.whitespace != 0 }
  /// In range and neither whitespace, letter nor number: `[^\s\p{L}\p{N}]`.
  var isOther: Bool { rawValue == CharFlags.inRange }

  private static let ascii: [UInt8] = (0..<128).map { v -> UInt8 in
    var r = CharFlags.inRange
    switch v {
    case 0x41...0x5A, 0x61...0x7A: r |= CharFlags.letter
    case 0x30...0x39: r |= CharFlags.number
    case 0x09...0x0D, 0x20: r |= CharFlags.whitespace
    default: break
    }
    return r
  }
}

extension PreTokenizer {
  /// End indices of the pieces of `scalars` (exposed for tests).
  public func splitForTesting(_ scalars: [Unicode.Scalar]) -> [Int] { split(scalars) }
}
