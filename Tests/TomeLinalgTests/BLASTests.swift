import Testing
import TomeLinalg

@Suite struct BLASTests {
  @Test("sgemm matches a hand-computed product, with and without transposes")
  func gemm() {
    let a = Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
    let b = Matrix(rows: 3, columns: 2, values: [7, 8, 9, 10, 11, 12])
    #expect(a.multiplied(by: b).values == [58, 64, 139, 154])
    // aᵀ·aᵀᵀ = aᵀ·a is 3×3; check one entry: column 0 · column 0 = 1 + 16.
    let ata = a.multiplied(by: a, transposingSelf: true)
    #expect(ata.rows == 3 && ata.columns == 3 && ata[0, 0] == 17)
    let abT = a.multiplied(by: Matrix(rows: 2, columns: 3, values: [1, 0, 0, 0, 1, 0]), transposingOther: true)
    #expect(abT.values == [1, 2, 4, 5])
  }
}
