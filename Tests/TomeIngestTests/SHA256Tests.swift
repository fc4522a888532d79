import Foundation
import Testing
import TomeTestSupport

import TomeIngest

@Suite struct SHA256Tests {
  private func hex(_ text: String) -> String {
    var hasher = SHA256()
    hasher.update(Array(text.utf8))
    return hasher.finalize()
  }

  @Test("known vectors: empty, abc, two-block message")
  func vectors() {
    #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  }

  @Test("one million 'a', fed in uneven pieces")
  func millionA() {
    var hasher = SHA256()
    let piece = [UInt8](repeating: 0x61, count: 997)
    var remaining = 1_000_000
    while remaining > 0 {
      let n = min(remaining, piece.count - remaining % 7)
      piece.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
      remaining -= n
    }
    #expect(hasher.finalize() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test("matches sha256sum on a file, as the chunk stream reports it")
  func matchesSha256sum() throws {
    let dir = try TemporaryDirectory()
    var text = ""
    for i in 0..<5000 { text += "line \(i) with some text ünïcödé\n" }
    let url = try dir.write("file.txt", text)
    let expected = try runCommand("/usr/bin/sha256sum", [url.path]).split(separator: " ").first.map(String.init)
    let result = try chunk(url)
    #expect(result.stream.sha256 == expected)
    #expect(result.stream.byteCount == text.utf8.count)
  }
}
