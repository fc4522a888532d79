import Testing

import TomeIngest

@Suite struct GlobPatternTests {
  @Test(
    "matches",
    arguments: [
      ("*.md", "a.md", true), ("*.md", "docs/deep/a.md", true), ("*.md", "a.txt", false),
      ("docs/*.md", "docs/a.md", true), ("docs/*.md", "docs/x/a.md", false),
      ("docs/**/*.txt", "docs/a.txt", true), ("docs/**/*.txt", "docs/x/y/a.txt", true),
      ("docs/**/*.txt", "other/a.txt", false), ("**/test_*", "test_a.py", true), ("**/test_*", "x/y/test_b", true),
      ("**/test_*", "x/y/atest_b", false), ("file?.txt", "file1.txt", true), ("file?.txt", "file10.txt", false),
      ("[abc].md", "b.md", true), ("[abc].md", "d.md", false), ("[a-c]x", "bx", true), ("[!a-c]x", "bx", false),
      ("[!a-c]x", "zx", true), ("*", "anything", true), ("a*b*c", "aXXbYYc", true), ("a*b*c", "aXXbYY", false),
      ("build/**", "build/x/y", true), ("[unterminated", "[unterminated", true), (".build*", ".build-release", true),
    ])
  func matches(pattern: String, path: String, expected: Bool) {
    #expect(GlobPattern(pattern).matches(path) == expected, "\(pattern) vs \(path)")
  }
}
