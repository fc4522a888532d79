public import TomeCore

/// Decides a file's ``DocumentKind`` and whether it is binary.
///
/// The extension decides the kind, except that content starting with `%PDF-` is a PDF whatever
/// its name. Binary means a NUL byte in the first 8 KiB, or more than 30% control bytes there
/// (tab, newline, carriage return and form feed do not count); binary files are skipped, PDFs are
/// never judged by this rule because pdftotext reads them.
public enum ContentSniffer {
  /// How many leading bytes are examined.
  public static let sniffLength = 8 * 1024

  static let markdownExtensions: Set<String> = ["md", "markdown", "mdown", "mkd", "mdx"]
  static let rstExtensions: Set<String> = ["rst", "rest"]
  static let htmlExtensions: Set<String> = ["html", "htm", "xhtml"]
  static let codeExtensions: Set<String> = [
    "swift", "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "hxx", "m", "mm", "py", "pyi", "js", "mjs", "cjs", "jsx", "ts",
    "tsx", "go", "rs", "java", "kt", "kts", "scala", "groovy", "gradle", "rb", "php", "pl", "pm", "lua", "r", "jl",
    "sh", "bash", "zsh", "fish", "ps1", "bat", "cmd", "json", "jsonl", "yaml", "yml", "toml", "ini", "cfg", "conf",
    "xml", "xsd", "sql", "css", "scss", "sass", "less", "vue", "svelte", "dart", "cs", "fs", "fsx", "vb", "ex", "exs",
    "erl", "hrl", "hs", "ml", "mli", "clj", "cljs", "lisp", "el", "scm", "nim", "zig", "v", "d", "f90", "f", "asm",
    "s", "cmake", "make", "mk", "mak", "dockerfile", "proto", "graphql", "gql", "tf", "hcl", "nix", "tex", "sty",
    "bib", "csv", "tsv", "diff", "patch",
  ]
  /// Extension-less names that are code by convention.
  static let codeFileNames: Set<String> = [
    "makefile", "dockerfile", "gnumakefile", "cmakelists.txt", "package.swift", "gemfile", "rakefile", "justfile",
  ]

  /// The kind suggested by the file name alone.
  public static func kind(forPath path: String) -> DocumentKind {
    let name = String(path.split(separator: "/").last ?? Substring(path)).lowercased()
    if codeFileNames.contains(name) { return .code }
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return .text }
    let ext = String(name[name.index(after: dot)...])
    if markdownExtensions.contains(ext) { return .markdown }
    if rstExtensions.contains(ext) { return .restructuredText }
    if htmlExtensions.contains(ext) { return .html }
    if ext == "pdf" { return .pdf }
    if codeExtensions.contains(ext) { return .code }
    return .text
  }

  /// The kind from the name and the first bytes (`%PDF-` wins over the name).
  public static func kind(forPath path: String, prefix: some Collection<UInt8>) -> DocumentKind {
    if prefix.starts(with: Array("%PDF-".utf8)) { return .pdf }
    return kind(forPath: path)
  }

  /// Why `prefix` looks binary ("NUL byte at offset 112"), or nil when it looks like text.
  public static func binaryReason(prefix: some Collection<UInt8>) -> String? {
    var controls = 0
    var count = 0
    for (offset, byte) in prefix.prefix(sniffLength).enumerated() {
      count += 1
      if byte == 0 { return "NUL byte at offset \(offset)" }
      if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D && byte != 0x0C || byte == 0x7F {
        controls += 1
      }
    }
    guard count > 0, controls * 10 > count * 3 else { return nil }
    let percent = controls * 100 / count
    return "\(percent)% control bytes in the first \(count) bytes"
  }
}
