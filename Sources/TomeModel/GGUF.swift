public import TomeLinalg

/// One metadata value of a GGUF file (every GGUF value type, arrays included).
public enum GGUFValue: Sendable, Equatable {
  case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
  case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool)
  case string(String)
  case array([GGUFValue])

  /// The value as an `Int` when it is an integer that fits (or a bool).
  public var int: Int? {
    switch self {
    case .uint8(let v): Int(v)
    case .int8(let v): Int(v)
    case .uint16(let v): Int(v)
    case .int16(let v): Int(v)
    case .uint32(let v): Int(v)
    case .int32(let v): Int(v)
    case .uint64(let v): Int(exactly: v)
    case .int64(let v): Int(v)
    case .bool(let v): v ? 1 : 0
    default: nil
    }
  }

  /// The value as a `Double` when it is numeric.
  public var double: Double? {
    switch self {
    case .float32(let v): Double(v)
    case .float64(let v): v
    default: int.map(Double.init)
    }
  }

  public var string: String? { if case .string(let s) = self { s } else { nil } }
  public var array: [GGUFValue]? { if case .array(let a) = self { a } else { nil } }
  public var bool: Bool? {
    switch self {
    case .bool(let b): b
    default: int.map { $0 != 0 }
    }
  }
}

/// Where one tensor lives in a GGUF file and how it is stored.
public struct GGUFTensorInfo: Sendable, Equatable {
  public let name: String
  /// Dimensions innermost first, as GGUF stores them: `shape[0]` is the row length.
  public let shape: [Int]
  public let type: GGMLType
  /// Byte offset from the start of the tensor data section.
  public let offset: Int
  /// Bytes of data.
  public let byteCount: Int

  public var elementCount: Int { shape.reduce(1, *) }
  /// Row length (`shape[0]`).
  public var rowLength: Int { shape.first ?? 1 }
  /// Number of rows (product of the outer dimensions).
  public var rowCount: Int { shape.dropFirst().reduce(1, *) }
}

/// A parsed, memory-mapped GGUF file (versions 2 and 3).
///
/// Every count, length and offset is checked against the file size while parsing, so a
/// truncated or hostile file produces a `ModelError` rather than a crash. Tensor data is not
/// copied: `data(of:)` returns a view into the mapping, which lives as long as this object.
public final class GGUFFile: Sendable {
  public let path: String
  public let version: Int
  /// Metadata in file order.
  public let metadata: [(key: String, value: GGUFValue)]
  public let tensors: [GGUFTensorInfo]
  /// `general.alignment`, default 32.
  public let alignment: Int
  /// File offset of the tensor data section.
  public let dataOffset: Int
  let mapping: MappedFile
  private let metadataIndex: [String: Int]
  private let tensorIndex: [String: Int]

  /// Maps and parses the file at `path`.
  /// - Throws: `ModelError` naming the file and the first problem found.
  public init(path: String) throws(ModelError) {
    let mapping = try MappedFile(path: path)
    self.mapping = mapping
    self.path = path
    var r = GGUFReader(base: mapping.base, count: mapping.count, path: path)
    let magic: UInt32 = try r.read()
    guard magic == 0x4655_4747 else {  // "GGUF" little-endian
      throw ModelError(.malformed, file: path, "not a GGUF file (bad magic)")
    }
    let version: UInt32 = try r.read()
    guard version == 2 || version == 3 else {
      throw ModelError(.unsupported, file: path, "GGUF version \(version) is not supported (2 or 3 are)")
    }
    self.version = Int(version)
    let tensorCount = try r.readCount(minimumElementBytes: 32, what: "tensor count")
    let kvCount = try r.readCount(minimumElementBytes: 12, what: "metadata count")

    var metadata: [(key: String, value: GGUFValue)] = []
    metadata.reserveCapacity(kvCount)
    var metadataIndex: [String: Int] = [:]
    for _ in 0..<kvCount {
      let key = try r.readString()
      let rawType: UInt32 = try r.read()
      let value = try r.readValue(type: rawType, depth: 0)
      metadataIndex[key] = metadata.count
      metadata.append((key, value))
    }
    self.metadata = metadata
    self.metadataIndex = metadataIndex

    var alignment = 32
    if let i = metadataIndex["general.alignment"] {
      guard let a = metadata[i].value.int, a > 0, a <= 1 << 20, a & (a - 1) == 0 else {
        throw ModelError(.malformed, file: path, "general.alignment must be a power of two")
      }
      alignment = a
    }
    self.alignment = alignment

    var infos: [(String, [Int], GGMLType, Int)] = []
    infos.reserveCapacity(tensorCount)
    for _ in 0..<tensorCount {
      let name = try r.readString()
      let nDims: UInt32 = try r.read()
      guard (1...4).contains(nDims) else {
        throw ModelError(.malformed, file: path, "tensor '\(name)' has \(nDims) dimensions")
      }
      var shape: [Int] = []
      var elements = 1
      for _ in 0..<nDims {
        let d: UInt64 = try r.read()
        guard d > 0, d < 1 << 40, let di = Int(exactly: d) else {
          throw ModelError(.malformed, file: path, "tensor '\(name)' has dimension \(d)")
        }
        let (p, o) = elements.multipliedReportingOverflow(by: di)
        guard !o, p < 1 << 42 else {
          throw ModelError(.malformed, file: path, "tensor '\(name)' is impossibly large")
        }
        elements = p
        shape.append(di)
      }
      let rawType: UInt32 = try r.read()
      guard let type = GGMLType(rawValue: rawType) else {
        throw ModelError(.unsupported, file: path, "tensor '\(name)' has unknown type \(rawType)")
      }
      guard shape[0] % type.blockSize == 0 else {
        throw ModelError(.malformed, file: path, "tensor '\(name)' row of \(shape[0]) is not a multiple of \(type) blocks")
      }
      let offset: UInt64 = try r.read()
      guard let off = Int(exactly: offset), off % alignment == 0 else {
        throw ModelError(.malformed, file: path, "tensor '\(name)' offset \(offset) is not aligned to \(alignment)")
      }
      infos.append((name, shape, type, off))
    }
    let dataOffset = (r.position + alignment - 1) / alignment * alignment
    guard dataOffset <= mapping.count else {
      throw ModelError(.truncated, file: path, "file ends before its tensor data section")
    }
    self.dataOffset = dataOffset
    let dataSize = mapping.count - dataOffset

    var tensors: [GGUFTensorInfo] = []
    var tensorIndex: [String: Int] = [:]
    for (name, shape, type, off) in infos {
      let bytes = type.rowBytes(shape[0]) * shape.dropFirst().reduce(1, *)
      guard off <= dataSize, bytes <= dataSize - off else {
        throw ModelError(.truncated, file: path, "tensor '\(name)' (\(bytes) bytes at data offset \(off)) extends past the end of the file")
      }
      guard tensorIndex[name] == nil else {
        throw ModelError(.malformed, file: path, "tensor '\(name)' appears twice")
      }
      tensorIndex[name] = tensors.count
      tensors.append(GGUFTensorInfo(name: name, shape: shape, type: type, offset: off, byteCount: bytes))
    }
    self.tensors = tensors
    self.tensorIndex = tensorIndex
  }

  /// The metadata value for `key`, or nil when absent.
  public subscript(key: String) -> GGUFValue? { metadataIndex[key].map { metadata[$0].value } }

  /// The tensor named `name`, or nil when absent.
  public func tensor(named name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

  /// The raw bytes of `tensor` inside the mapping (valid while `self` lives).
  public func data(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: mapping.base + dataOffset + tensor.offset, count: tensor.byteCount)
  }

  /// A required integer metadata value.
  func requireInt(_ key: String) throws(ModelError) -> Int {
    guard let v = self[key] else { throw ModelError(.missing, file: path, "metadata key '\(key)' is missing") }
    guard let i = v.int else { throw ModelError(.malformed, file: path, "metadata key '\(key)' is not an integer") }
    return i
  }

  /// A required tensor.
  func requireTensor(_ name: String) throws(ModelError) -> GGUFTensorInfo {
    guard let t = tensor(named: name) else { throw ModelError(.missing, file: path, "tensor '\(name)' is missing") }
    return t
  }
}

/// A bounds-checked little-endian cursor over the mapped file.
struct GGUFReader {
  let base: UnsafeRawPointer
  let count: Int
  let path: String
  var position = 0

  var remaining: Int { count - position }

  mutating func read<T: FixedWidthInteger>() throws(ModelError) -> T {
    let n = MemoryLayout<T>.size
    guard remaining >= n else {
      throw ModelError(.truncated, file: path, "file ends at byte \(count) while reading header data at \(position)")
    }
    let v = base.loadUnaligned(fromByteOffset: position, as: T.self)
    position += n
    return T(littleEndian: v)
  }

  /// Reads a u64 count and checks that `count × minimumElementBytes` bytes could follow.
  mutating func readCount(minimumElementBytes: Int, what: String) throws(ModelError) -> Int {
    let raw: UInt64 = try read()
    guard let n = Int(exactly: raw), n <= remaining / max(1, minimumElementBytes) else {
      throw ModelError(.malformed, file: path, "\(what) \(raw) at byte \(position - 8) exceeds what the file can hold")
    }
    return n
  }

  mutating func readString() throws(ModelError) -> String {
    let n = try readCount(minimumElementBytes: 1, what: "string length")
    let bytes = UnsafeRawBufferPointer(start: base + position, count: n)
    position += n
    return String(decoding: bytes, as: UTF8.self)
  }

  mutating func readValue(type: UInt32, depth: Int) throws(ModelError) -> GGUFValue {
    switch type {
    case 0: return .uint8(try read())
    case 1: return .int8(try read())
    case 2: return .uint16(try read())
    case 3: return .int16(try read())
    case 4: return .uint32(try read())
    case 5: return .int32(try read())
    case 6: return .float32(Float(bitPattern: try read()))
    case 7:
      let b: UInt8 = try read()
      return .bool(b != 0)
    case 8: return .string(try readString())
    case 9:
      guard depth < 4 else { throw ModelError(.malformed, file: path, "metadata arrays nested too deeply") }
      let elementType: UInt32 = try read()
      let minBytes: Int
      switch elementType {
      case 0, 1, 7: minBytes = 1
      case 2, 3: minBytes = 2
      case 4, 5, 6: minBytes = 4
      case 8, 10, 11, 12: minBytes = 8
      case 9: minBytes = 12
      default: throw ModelError(.malformed, file: path, "unknown metadata value type \(elementType) at byte \(position - 4)")
      }
      let n = try readCount(minimumElementBytes: minBytes, what: "array length")
      var values: [GGUFValue] = []
      values.reserveCapacity(n)
      for _ in 0..<n { values.append(try readValue(type: elementType, depth: depth + 1)) }
      return .array(values)
    case 10: return .uint64(try read())
    case 11: return .int64(try read())
    case 12: return .float64(Double(bitPattern: try read()))
    default:
      throw ModelError(.malformed, file: path, "unknown metadata value type \(type) at byte \(position - 4)")
    }
  }
}
