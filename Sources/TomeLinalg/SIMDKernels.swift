internal import CTomeKernels
import Foundation

/// The instruction-set levels Tome's SIMD kernels are compiled for (CTomeKernels).
public enum SIMDLevel: String, Sendable, CaseIterable, Comparable, CustomStringConvertible, Codable {
  case portable, avx2, avx512

  public var description: String { rawValue }

  /// The C level (`tk_level`) number: 0, 1, 2.
  var number: Int32 { Int32(Self.allCases.firstIndex(of: self) ?? 0) }

  init?(number: Int32) {
    guard number >= 0 && Int(number) < Self.allCases.count else { return nil }
    self = Self.allCases[Int(number)]
  }

  public static func < (a: SIMDLevel, b: SIMDLevel) -> Bool { a.number < b.number }
}

/// Which copy of the SIMD kernels this process runs, and why.
///
/// The copy is chosen by CPUID on first use: the best level the CPU and OS support, unless the
/// environment variable `TOME_SIMD` (portable, avx2, avx512) asks for a lower one. Forcing
/// `TOME_SIMD=portable` runs the baseline code on any machine (the parity tests compare it with
/// the fast copies).
public struct SIMDPath: Sendable, Equatable, Codable {
  /// The level the kernels run at.
  public let level: SIMDLevel
  /// The best level this CPU supports.
  public let supported: SIMDLevel
  /// What `TOME_SIMD` asked for, when it names a level.
  public let requested: SIMDLevel?

  /// The path of this process.
  public static var current: SIMDPath {
    SIMDPath(
      level: SIMDLevel(number: Int32(tk_active().pointee.level.rawValue)) ?? .portable,
      supported: SIMDLevel(number: Int32(tk_detect_level().rawValue)) ?? .portable,
      requested: SIMDLevel(number: tk_requested_level()))
  }
}

/// What CPUID says about this processor (all zero and empty on non-x86 machines).
public struct CPUInfo: Sendable, Equatable, Codable {
  public let vendor: String
  /// The marketing name, e.g. "AMD EPYC 9R45".
  public let brand: String
  public let family: Int
  public let model: Int
  public let stepping: Int
  /// Instruction-set extensions the CPU has and the OS enables, by their usual names.
  public let features: [String]

  public func has(_ feature: String) -> Bool { features.contains(feature) }

  /// Reads this machine's CPU.
  public static func identify() -> CPUInfo {
    var info = tk_cpu_info()
    tk_cpu_identify(&info)
    let named: [(String, Int32)] = [
      ("sse3", info.sse3), ("ssse3", info.ssse3), ("sse4.1", info.sse41), ("sse4.2", info.sse42),
      ("avx", info.avx), ("avx2", info.avx2), ("fma", info.fma), ("f16c", info.f16c),
      ("avx512f", info.avx512f), ("avx512bw", info.avx512bw), ("avx512vl", info.avx512vl),
      ("avx512dq", info.avx512dq), ("avx512cd", info.avx512cd), ("avx512vnni", info.avx512vnni),
      ("avx512bf16", info.avx512bf16), ("avx512fp16", info.avx512fp16),
      ("amx-tile", info.amx_tile), ("amx-bf16", info.amx_bf16), ("amx-int8", info.amx_int8),
    ]
    func string<T>(_ tuple: T) -> String {
      withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
      }
    }
    return CPUInfo(
      vendor: string(info.vendor), brand: string(info.brand), family: Int(info.family), model: Int(info.model),
      stepping: Int(info.stepping), features: named.filter { $0.1 != 0 }.map(\.0))
  }
}
