/// A failure of the index database, with the index path and, for SQLite errors, the code and SQL.
public struct StoreError: Error, CustomStringConvertible, Sendable {
  enum Code: Sendable, Equatable {
    case cannotOpen
    case notAnIndex
    case newerSchema(found: Int, supported: Int)
    case sqlite(code: Int32, sql: String?)
    case missingDocument(path: String)
  }

  let code: Code
  /// The index database the error concerns.
  public let databasePath: String
  /// The underlying message (SQLite's, or ours).
  public let message: String

  init(_ code: Code, databasePath: String, message: String) {
    self.code = code
    self.databasePath = databasePath
    self.message = message
  }

  public var description: String {
    switch code {
    case .cannotOpen:
      return "\(databasePath): cannot open index: \(message)"
    case .notAnIndex:
      return "\(databasePath): not a Tome index: \(message)"
    case .newerSchema(let found, let supported):
      return "\(databasePath): index schema \(found) is newer than this tome supports (\(supported)); upgrade tome"
    case .sqlite(let code, let sql):
      let statement = sql.map { " in `\($0.prefix(120))`" } ?? ""
      return "\(databasePath): SQLite error \(code): \(message)\(statement)"
    case .missingDocument(let path):
      return "\(databasePath): no document \(path) in the index"
    }
  }
}
