/// Cosine similarity of unit-length embeddings (the encoder normalises its output), the one
/// measure every strategy ranks text by.
enum Similarity {
  static func cosine(_ a: some Sequence<Float>, _ b: some Sequence<Float>) -> Double {
    var sum: Float = 0
    for (x, y) in zip(a, b) { sum += x * y }
    return Double(sum)
  }
}
