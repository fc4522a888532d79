public import Foundation
import TomeCore

/// A memory-mapped `.safetensors` file (Hugging Face's format: an 8-byte little-endian header
/// length, a JSON header mapping tensor names to dtype, shape and byte offsets, then raw data).
///
/// Every offset and size is checked against the file size when the file is opened, so a
/// truncated or corrupt file fails with an `EmbedError` rather than a crash.
public struct SafeTensorsFile: Sendable {
  /// Element types this reader understands.
  public enum DType: String, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", u8 = "U8", i8 = "I8", f64 = "F64"

    /// Bytes per element.
    public var size: Int {
      switch self {
      case .f32, .i32: 4
      case .f16, .bf16: 2
      case .i64, .f64: 8
      case .u8, .i8: 1
      }
    }
  }

  /// One tensor's entry in the header.
  public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range relative to the start of the file.
    public let byteRange: Range<Int>
    /// Number of elements (product of the shape).
    public var count: Int { shape.reduce(1, *) }
  }

  /// The file's location.
  public let url: URL
  /// Tensors by name.
  public let tensors: [String: TensorInfo]
  private let data: Data

  /// Largest header accepted (the format's own limit is 100 MB).
  private static let maximumHeaderSize = 100_000_000

  /// Opens and validates a file.
  ///
  /// - Parameter url: the `.safetensors` file.
  /// - Throws: `EmbedError` (`.missingFile`, `.unreadableFile`, `.corruptFile`) naming the file.
  public init(contentsOf url: URL) throws {
    let path = url.path
    guard FileManager.default.fileExists(atPath: path) else { throw EmbedError.missing(path) }
    if let problem = RegularFile.problem(path) { throw EmbedError(.unreadableFile, path: path, reason: problem) }
    let data: Data
    do {
      data = try Data(contentsOf: url, options: .alwaysMapped)
    } catch {
      throw EmbedError(.unreadableFile, path: path, reason: "\(error)")
    }
    func corrupt(_ reason: String) -> EmbedError { EmbedError(.corruptFile, path: path, reason: reason) }
    guard data.count >= 8 else { throw corrupt("file is \(data.count) bytes, shorter than the 8-byte header length") }
    let headerLength = data.withUnsafeBytes { raw in
      UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
    }
    guard headerLength <= UInt64(Self.maximumHeaderSize), Int(headerLength) <= data.count - 8 else {
      throw corrupt("header length \(headerLength) exceeds the file size \(data.count) (truncated or not a safetensors file)")
    }
    let dataStart = 8 + Int(headerLength)
    let headerData = data.subdata(in: 8..<dataStart)
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: headerData)
    } catch {
      throw corrupt("JSON header does not parse")
    }
    guard let header = json as? [String: Any] else { throw corrupt("JSON header is not an object") }
    let payload = data.count - dataStart
    var tensors: [String: TensorInfo] = [:]
    for (name, value) in header where name != "__metadata__" {
      guard let entry = value as? [String: Any],
        let dtypeName = entry["dtype"] as? String,
        let shapeValues = entry["shape"] as? [Any],
        let offsetValues = entry["data_offsets"] as? [Any], offsetValues.count == 2
      else { throw corrupt("tensor \(name): malformed header entry") }
      guard let dtype = DType(rawValue: dtypeName) else { throw corrupt("tensor \(name): unsupported dtype \(dtypeName)") }
      let shape = try shapeValues.map { v -> Int in
        guard let n = (v as? NSNumber)?.intValue, n >= 0, n < 1 << 40 else { throw corrupt("tensor \(name): bad shape") }
        return n
      }
      let offsets = try offsetValues.map { v -> Int in
        guard let n = (v as? NSNumber)?.int64Value, n >= 0, n < 1 << 50 else { throw corrupt("tensor \(name): bad offsets") }
        return Int(n)
      }
      guard offsets[0] <= offsets[1], offsets[1] <= payload else {
        throw corrupt("tensor \(name): bytes \(offsets[0])..<\(offsets[1]) lie outside the \(payload)-byte data section (truncated file?)")
      }
      var bytes = dtype.size
      var overflow = false
      for dimension in shape where !overflow {
        (bytes, overflow) = bytes.multipliedReportingOverflow(by: dimension)
      }
      guard !overflow, bytes == offsets[1] - offsets[0] else {
        throw corrupt("tensor \(name): shape \(shape) of \(dtypeName) needs \(bytes) bytes, offsets give \(offsets[1] - offsets[0])")
      }
      tensors[name] = TensorInfo(
        name: name, dtype: dtype, shape: shape, byteRange: (dataStart + offsets[0])..<(dataStart + offsets[1]))
    }
    self.url = url
    self.data = data
    self.tensors = tensors
  }

  /// A tensor's values converted to `Float` (from F32, F16 or BF16).
  ///
  /// - Parameters:
  ///   - name: the tensor's name in the header.
  ///   - shape: when given, the shape the tensor must have.
  /// - Throws: `EmbedError` `.missingTensor`, or `.badTensor` for a wrong shape or a non-float dtype.
  public func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
    guard let info = tensors[name] else {
      throw EmbedError(.missingTensor, path: url.path, reason: "tensor \(name) is not in the file")
    }
    if let shape, shape != info.shape {
      throw EmbedError(.badTensor, path: url.path, reason: "tensor \(name) has shape \(info.shape), expected \(shape)")
    }
    guard [.f32, .f16, .bf16].contains(info.dtype) else {
      throw EmbedError(.badTensor, path: url.path, reason: "tensor \(name) has dtype \(info.dtype.rawValue), expected F32, F16 or BF16")
    }
    let count = info.count
    let values = data.withUnsafeBytes { raw -> [Float] in
      let start = info.byteRange.lowerBound
      switch info.dtype {
      case .f32:
        return [Float](unsafeUninitializedCapacity: count) { out, n in
          for i in 0..<count {
            out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)))
          }
          n = count
        }
      case .f16:
        return [Float](unsafeUninitializedCapacity: count) { out, n in
          for i in 0..<count {
            let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self))
            out[i] = Float(Float16(bitPattern: bits))
          }
          n = count
        }
      case .bf16:
        return [Float](unsafeUninitializedCapacity: count) { out, n in
          for i in 0..<count {
            let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self))
            out[i] = Float(bitPattern: UInt32(bits) << 16)
          }
          n = count
        }
      default:
        return []
      }
    }
    // Damaged weights (a NaN or infinity) would otherwise embed every chunk as NaN and
    // store vectors that match nothing (issue 11).
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      throw EmbedError(.badTensor, path: url.path, reason: "tensor \(name) is damaged: value \(bad) is \(values[bad]); the file is corrupt, fetch it again")
    }
    return values
  }
}
