import Foundation
public import TomeCore

/// The byte layout of one KV page in a page file.
///
/// A 40-byte header (magic `TKVP`, version, format, layer count, kv dimension, start
/// position, token count, scale count, payload length, checksum of the body), then the body:
/// token ids as Int32, int8 scales as Float32, and the payload, all little-endian. The model is
/// not in the record: the SQLite row that points at it says which model it belongs to.
enum KVPageRecord {
  static let magic: UInt32 = 0x5056_4B54  // "TKVP"
  static let version: UInt8 = 1
  static let headerSize = 40

  static func encode(_ page: KVPage) -> [UInt8] {
    var body: [UInt8] = []
    body.reserveCapacity(page.tokens.count * 4 + page.scales.count * 4 + page.payload.count)
    for t in page.tokens { append(UInt32(bitPattern: Int32(t)), to: &body) }
    for s in page.scales { append(s.bitPattern, to: &body) }
    body += page.payload
    var checksum = Checksum()
    body.withUnsafeBytes { checksum.add($0) }
    var out: [UInt8] = []
    out.reserveCapacity(headerSize + body.count)
    append(magic, to: &out)
    out += [version, page.format == .float16 ? 0 : 1, 0, 0]
    for field in [page.layerCount, page.kvDimension, page.startPosition, page.tokens.count, page.scales.count, page.payload.count] {
      append(UInt32(field), to: &out)
    }
    append(checksum.value, to: &out)
    return out + body
  }

  /// The page in `bytes`, or why it is not one.
  static func decode(_ bytes: Data, model: String) -> Result<KVPage, KVPageError> {
    guard bytes.count >= headerSize else { return .failure(.truncated) }
    return bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
      func u32(_ at: Int) -> Int { Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
      guard UInt32(u32(0)) == magic, raw[4] == version, raw[5] <= 1 else { return .failure(.notAPage) }
      let format: KVPageFormat = raw[5] == 0 ? .float16 : .int8
      let (layers, dimension, start, tokens, scales, payload) = (u32(8), u32(12), u32(16), u32(20), u32(24), u32(28))
      guard bytes.count == headerSize + tokens * 4 + scales * 4 + payload else { return .failure(.truncated) }
      let body = UnsafeRawBufferPointer(rebasing: raw[headerSize...])
      var checksum = Checksum()
      checksum.add(body)
      guard checksum.value == UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 32, as: UInt64.self)) else {
        return .failure(.checksum)
      }
      let ids = (0..<tokens).map { Int(Int32(bitPattern: UInt32(littleEndian: body.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))) }
      let scaleBase = tokens * 4
      let scaleValues = (0..<scales).map {
        Float(bitPattern: UInt32(littleEndian: body.loadUnaligned(fromByteOffset: scaleBase + $0 * 4, as: UInt32.self)))
      }
      let payloadBytes = Array(body[(scaleBase + scales * 4)...])
      return .success(
        KVPage(
          format: format, modelIdentifier: model, layerCount: layers, kvDimension: dimension, tokens: ids,
          startPosition: start, payload: payloadBytes, scales: scaleValues))
    }
  }

  private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
  }
}

/// Why a stored page was not used.
public enum KVPageError: Error, Sendable, Hashable, CustomStringConvertible {
  case truncated
  case notAPage
  case checksum

  public var description: String {
    switch self {
    case .truncated: "the page is cut short"
    case .notAPage: "the bytes are not a KV page"
    case .checksum: "the page's checksum does not match (the file was damaged)"
    }
  }
}
