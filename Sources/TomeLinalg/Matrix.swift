/// A dense row-major matrix of `Float` that owns its storage.
///
/// Kept deliberately small: a shape and one contiguous buffer that BLAS reads directly.
public struct Matrix: Sendable, Equatable {
  public let rows: Int
  public let columns: Int
  public var values: [Float]

  /// A zero-filled `rows × columns` matrix.
  public init(rows: Int, columns: Int) {
    precondition(rows >= 0 && columns >= 0, "negative matrix shape")
    self.rows = rows
    self.columns = columns
    self.values = [Float](repeating: 0, count: rows * columns)
  }

  /// Wraps existing row-major values; their count must be `rows × columns`.
  public init(rows: Int, columns: Int, values: [Float]) {
    precondition(values.count == rows * columns, "\(values.count) values for a \(rows)×\(columns) matrix")
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  public subscript(row: Int, column: Int) -> Float {
    get { values[row * columns + column] }
    set { values[row * columns + column] = newValue }
  }

  /// self · other (or with either transposed), computed by `BLAS.sgemm`.
  public func multiplied(
    by other: Matrix, transposingSelf: Bool = false, transposingOther: Bool = false
  ) -> Matrix {
    let m = transposingSelf ? columns : rows
    let k = transposingSelf ? rows : columns
    let kb = transposingOther ? other.columns : other.rows
    let n = transposingOther ? other.rows : other.columns
    precondition(k == kb, "inner dimensions differ: \(k) vs \(kb)")
    var result = Matrix(rows: m, columns: n)
    values.withUnsafeBufferPointer { a in
      other.values.withUnsafeBufferPointer { b in
        result.values.withUnsafeMutableBufferPointer { c in
          guard let ap = a.baseAddress, let bp = b.baseAddress, let cp = c.baseAddress else { return }
          BLAS.sgemm(
            transposingSelf ? .transposed : .none, transposingOther ? .transposed : .none,
            m: m, n: n, k: k, a: ap, lda: columns, b: bp, ldb: other.columns, c: cp, ldc: n)
        }
      }
    }
    return result
  }
}
