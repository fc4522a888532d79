import Foundation
import Testing
import TomeCore
import TomeStore
import TomeTestSupport

@Suite struct VectorCacheTests {
  @Test("vectors come back bit-identical, per encoder, after reopening; wrong dimensions are not returned")
  func roundTrip() throws {
    let dir = try TemporaryDirectory()
    let url = dir.url.appendingPathComponent("sub/vectors.sqlite")
    let matrix = EmbeddingMatrix(dimension: 3, values: [0.1, -0.2, 0.3, 1e-7, 0.5, -0.6])
    do {
      let cache = try VectorCache(url: url)
      try cache.store(digests: ["a", "b"], vectors: matrix, encoder: "enc-1")
      try cache.store(digests: ["a"], vectors: EmbeddingMatrix(dimension: 3, values: [9, 9, 9]), encoder: "enc-2")
    }
    let cache = try VectorCache(url: url)
    #expect(try cache.count() == 3)
    let found = try cache.vectors(for: ["a", "b", "c", "a"], encoder: "enc-1", dimension: 3)
    #expect(found.count == 2)
    #expect(found["a"] == [0.1, -0.2, 0.3] && found["b"] == [1e-7, 0.5, -0.6])
    #expect(try cache.vectors(for: ["a"], encoder: "enc-2", dimension: 3)["a"] == [9, 9, 9])
    #expect(try cache.vectors(for: ["a"], encoder: "enc-1", dimension: 4).isEmpty)
    #expect(try cache.vectors(for: [], encoder: "enc-1", dimension: 3).isEmpty)
  }

  @Test("a file that is not SQLite is a clear error")
  func notADatabase() throws {
    let dir = try TemporaryDirectory()
    let url = try dir.write("vectors.sqlite", String(repeating: "not a database ", count: 100))
    #expect(throws: StoreError.self) { try VectorCache(url: url) }
  }
}
