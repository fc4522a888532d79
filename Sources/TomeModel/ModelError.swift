/// An error from loading or running an in-process model.
///
/// A struct wrapping a kind (STYLE.md §2.4) so new causes can be added without breaking callers.
/// The description is one line naming the file (when there is one) and the cause.
public struct ModelError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The broad cause.
  public enum Kind: Sendable, Equatable {
    /// The file could not be opened, sized or mapped.
    case io
    /// The file ends before a structure it declares.
    case truncated
    /// A structure is inconsistent (bad magic, impossible count, overlapping data…).
    case malformed
    /// Valid, but a feature this runtime does not implement (version, tensor type, architecture).
    case unsupported
    /// A required metadata key or tensor is absent.
    case missing
    /// A caller passed an argument the model cannot accept (context overflow, bad id…).
    case invalidArgument
    /// The chat template in the file is not one Tome knows; pass `ChatTemplate` explicitly.
    case unknownChatTemplate
  }

  public let kind: Kind
  /// The model file, when the error concerns one.
  public let file: String?
  /// What went wrong, in one line.
  public let detail: String

  public init(_ kind: Kind, file: String? = nil, _ detail: String) {
    self.kind = kind
    self.file = file
    self.detail = detail
  }

  public var description: String {
    if let file { return "\(file): \(detail)" }
    return detail
  }
}
