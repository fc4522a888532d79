/// An error from loading or running the in-process encoder.
///
/// A struct around an open set of kinds (the `HTTPClientError` pattern), so new causes can be
/// added without breaking callers. Its one-line `description` names the file and the cause;
/// for missing model files it says how to fetch them.
public struct EmbedError: Error, CustomStringConvertible, Sendable, Equatable {
  /// What went wrong, independent of the file.
  public struct Kind: Hashable, Sendable, CustomStringConvertible {
    private let name: String
    private init(_ name: String) { self.name = name }
    public var description: String { name }

    /// A model file does not exist.
    public static let missingFile = Kind("missing file")
    /// A file exists but cannot be read.
    public static let unreadableFile = Kind("unreadable file")
    /// A file is truncated or its structure is invalid.
    public static let corruptFile = Kind("corrupt file")
    /// A tensor the model needs is absent.
    public static let missingTensor = Kind("missing tensor")
    /// A tensor has an unexpected shape or dtype.
    public static let badTensor = Kind("bad tensor")
    /// The model configuration is invalid or unsupported.
    public static let unsupportedModel = Kind("unsupported model")
  }

  /// The kind of failure.
  public let kind: Kind
  /// The file involved (a path), or an empty string.
  public let path: String
  /// A human-readable cause.
  public let reason: String

  public init(_ kind: Kind, path: String, reason: String) {
    self.kind = kind
    self.path = path
    self.reason = reason
  }

  public var description: String {
    path.isEmpty ? "\(kind): \(reason)" : "\(kind) \(path): \(reason)"
  }

  /// A missing model file, with the fetch hint.
  static func missing(_ path: String) -> EmbedError {
    EmbedError(
      .missingFile, path: path,
      reason: "model file not found; run Scripts/bootstrap.sh to fetch the encoder weights into "
        + "$TOME_MODELS (default ~/.cache/tome/models)")
  }
}
