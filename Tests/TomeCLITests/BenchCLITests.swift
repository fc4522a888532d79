import Foundation
import Testing
import TomeTestSupport

#if canImport(FoundationXML)
  import FoundationXML
#endif

@Suite(.serialized, .timeLimit(.minutes(15))) struct BenchCLITests {
  /// The shared data folder for the child (it looks for the essays there).
  var environment: [String: String] { ["TOME_SHARED": SharedData.root.path, "TOME_MODELS": SharedData.models.path] }

  /// Three one-sentence paragraphs, one question each, as a SQuAD v1.1 file `tiny.json` in `dir`.
  func writeTinySQuAD(in dir: TemporaryDirectory) throws {
    let paragraphs = [
      ("The Apollo program landed twelve astronauts on the Moon between 1969 and 1972.", "How many astronauts landed on the Moon?"),
      ("Photosynthesis converts light energy into chemical energy stored in glucose.", "What does photosynthesis produce?"),
      ("The Treaty of Westphalia ended the Thirty Years' War in 1648.", "When did the Thirty Years' War end?"),
    ]
    let data: [String: Any] = [
      "data": [[
        "title": "Mixed",
        "paragraphs": paragraphs.enumerated().map { i, p in
          ["context": p.0, "qas": [["id": "q\(i)", "question": p.1, "answers": [["text": "x", "answer_start": 0]]]]] as [String: Any]
        },
      ]]
    ]
    try JSONSerialization.data(withJSONObject: data).write(to: dir.url.appendingPathComponent("tiny.json"))
  }

  @Test("tome bench retrieval --rerank --kv-pages on a tiny SQuAD file: re-ranked and fused rows, every passage from a page")
  func retrievalRerank() throws {
    let dir = try TemporaryDirectory()
    try writeTinySQuAD(in: dir)
    let result = try TomeBinary.run(
      ["bench", "retrieval", "squad", "tiny.json", "--modes", "hybrid", "--rerank", "3", "--kv-pages", "--json", "rr.json"],
      in: dir.url, environment: environment)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("hybrid+rerank") && result.stdout.contains("hybrid+fused"), "\(result.stdout)")
    #expect(result.stderr.contains("100% of passages from KV pages"), "\(result.stderr)")
    let rows = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.url.appendingPathComponent("rr.json"))) as? [[String: Any]])
    #expect(rows.map { $0["mode"] as? String } == ["hybrid", "hybrid+rerank", "hybrid+fused"])
    let reranked = try #require(rows[1]["metrics"] as? [String: Any])
    #expect(reranked["recallAt1"] as? Double == 1, "\(rows)")
    let bad = try TomeBinary.run(["bench", "retrieval", "squad", "tiny.json", "--kv-pages"], in: dir.url, environment: environment)
    #expect(bad.status == 2 && bad.stderr.contains("--kv-pages is for --rerank"), "\(bad.stderr)")
  }

  @Test("tome bench retrieval squad --fit: fitted on the even queries, rows for the odd ones with a fitted hybrid row")
  func retrievalFit() throws {
    let dir = try TemporaryDirectory()
    try writeTinySQuAD(in: dir)
    let result = try TomeBinary.run(
      ["bench", "retrieval", "squad", "tiny.json", "--fit", "--json", "fit.json"], in: dir.url, environment: environment)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("fitted on 2 tuning queries"), "\(result.stderr)")
    let rows = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.url.appendingPathComponent("fit.json"))) as? [[String: Any]])
    #expect(rows.map { $0["mode"] as? String } == ["bm25", "dense", "hybrid", "hybrid fitted"])
    #expect(rows.allSatisfy { ($0["metrics"] as? [String: Any])?["queries"] as? Int == 1 }, "\(rows)")
  }

  @Test("tome bench retrieval financebench --ranks: one JSON line per question and mode, with the evidence's rank")
  func financeBenchRanks() throws {
    let dir = try TemporaryDirectory()
    let source = SharedData.data("financebench-dev")
    let filings = ["FOOTLOCKER_2022_8K_dated-2022-05-20", "PEPSICO_2023_8K_dated-2023-05-05", "AMCOR_2022_8K_dated-2022-07-01"]
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("fb/txt"), withIntermediateDirectories: true)
    for name in filings {
      try FileManager.default.copyItem(
        at: source.appendingPathComponent("txt/\(name).txt"), to: dir.url.appendingPathComponent("fb/txt/\(name).txt"))
    }
    for file in ["documents.jsonl", "questions.jsonl"] {
      let lines = try String(contentsOf: source.appendingPathComponent(file), encoding: .utf8)
        .split(separator: "\n").filter { line in filings.contains { line.contains("\"doc_name\": \"\($0)\"") } }
      _ = try dir.write("fb/\(file)", lines.joined(separator: "\n") + "\n")
    }
    let result = try TomeBinary.run(
      ["bench", "retrieval", "financebench", "fb", "--modes", "bm25", "hybrid", "--ranks", "ranks.jsonl"], in: dir.url,
      environment: environment)
    #expect(result.status == 0, "\(result.stderr)")
    let lines = try String(contentsOf: dir.url.appendingPathComponent("ranks.jsonl"), encoding: .utf8).split(separator: "\n")
    let rows = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    #expect(rows.count == 6)
    #expect(rows.map { $0["mode"] as? String } == ["bm25", "hybrid", "bm25", "hybrid", "bm25", "hybrid"])
    // Each of these questions finds its evidence page in the first 10 (the table says so too).
    #expect(rows.allSatisfy { ($0["rank"] as? Int).map { $0 < 10 } == true }, "\(rows)")
    #expect(rows.allSatisfy { ($0["evidence"] as? [String])?.first?.contains(" p. ") == true })
    // The table's hybrid top-5 counts (summed over its parts) count the same ranks.
    var tableTop5 = 0
    for line in result.stdout.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count > 5, fields[1] == "hybrid", let count = Int(fields[5].prefix { $0 != "/" }) else { continue }
      tableTop5 += count
    }
    let hybridRanks: [Int?] = rows.filter { $0["mode"] as? String == "hybrid" }.map { $0["rank"] as? Int }
    #expect(tableTop5 == hybridRanks.filter { ($0 ?? 99) < 5 }.count, "\(result.stdout)")
    let squad = try TomeBinary.run(["bench", "retrieval", "squad", "fb", "--ranks", "r.jsonl"], in: dir.url, environment: environment)
    #expect(squad.status == 2 && squad.stderr.contains("--ranks is for financebench"), "\(squad.stderr)")
  }

  @Test("tome bench niah on a 2k haystack: JSON with one cell per depth, an SVG heatmap that parses, an HTML report")
  func niahSmall() throws {
    let dir = try TemporaryDirectory()
    let result = try TomeBinary.run(
      [
        "bench", "niah", "--lengths", "2k", "--depths", "0,100", "--kinds", "passkey", "--max-tokens", "24",
        "--work", "work", "--json", "niah.json", "--plot", "niah.svg", "--report-html", "niah.html",
        "--haystack", SharedData.data("paul_graham_essays/essays").path,
      ],
      in: dir.url, environment: environment)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("index ready"))
    #expect(result.stdout.contains("passkey: accuracy"))

    let data = try Data(contentsOf: dir.url.appendingPathComponent("niah.json"))
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect((json["command"] as? String)?.contains("bench niah") == true && json["complete"] as? Bool == true)
    let report = try #require(json["report"] as? [String: Any])
    #expect(report["lengths"] as? [Int] == [2048] && report["depths"] as? [Int] == [0, 100])
    let indexes = try #require(report["indexes"] as? [[String: Any]])
    #expect(indexes.count == 1 && (indexes[0]["tokens"] as? Int ?? 0) >= 2048 && (indexes[0]["chunks"] as? Int ?? 0) > 1)
    let cells = try #require(report["cells"] as? [[String: Any]])
    #expect(cells.count == 2)
    for cell in cells {
      #expect(cell["kind"] as? String == "passkey")
      for key in ["correct", "inRetrievedPassages", "inTopEvidence"] { #expect(cell[key] is Bool, "\(key)") }
      #expect(cell["seconds"] is Double && cell["answer"] is String)
      let expected = try #require(cell["expected"] as? [String])
      #expect(expected.count == 1 && expected[0].count == 5)
    }
    #expect(Set(cells.compactMap { $0["depth"] as? Int }) == [0, 100])

    let svg = try Data(contentsOf: dir.url.appendingPathComponent("niah.svg"))
    let parser = XMLParser(data: svg)
    #expect(parser.parse(), "\(String(describing: parser.parserError))")
    #expect(String(decoding: svg, as: UTF8.self).components(separatedBy: "class=\"cell\"").count - 1 == 2)
    let html = try String(contentsOf: dir.url.appendingPathComponent("niah.html"), encoding: .utf8)
    #expect(html.contains("<svg ") && html.contains("tome bench niah"))

    // A second run reuses the index: nothing is re-embedded for the haystack itself. Its
    // multi-needle cells spread their sentences over several files and put them all back.
    let again = try TomeBinary.run(
      ["bench", "niah", "--lengths", "2k", "--depths", "50", "--kinds", "multikey,multivalue", "--max-tokens", "8", "--work", "work",
       "--haystack", SharedData.data("paul_graham_essays/essays").path, "--json", "again.json"],
      in: dir.url, environment: environment)
    #expect(again.status == 0, "\(again.stderr)")
    let second = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: dir.url.appendingPathComponent("again.json"))) as? [String: Any])
    let build = try #require(((second["report"] as? [String: Any])?["indexes"] as? [[String: Any]])?.first)
    #expect(build["filesWritten"] as? Int == 0 && build["filesIngested"] as? Int == 0)
    let multi = try #require((second["report"] as? [String: Any])?["cells"] as? [[String: Any]])
    #expect(multi.compactMap { $0["kind"] as? String } == ["multikey", "multivalue"])
    #expect(multi.compactMap { ($0["expected"] as? [String])?.count } == [1, 4])
    let work = dir.url.appendingPathComponent("work")
    let files = FileManager.default.enumerator(at: work, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
    let texts = files.filter { $0.pathExtension == "txt" }.compactMap { try? String(contentsOf: $0, encoding: .utf8) }
    #expect(!texts.isEmpty && !texts.contains { $0.contains("special magic number") })
  }

  @Test("bench commands refuse bad values with one line and a non-zero exit")
  func badValues() throws {
    let dir = try TemporaryDirectory()
    let lengths = try TomeBinary.run(["bench", "niah", "--lengths", "4k,lots"], in: dir.url, environment: environment)
    #expect(lengths.status == 2 && lengths.stderr.contains("bad --lengths value 'lots'"))
    let depths = try TomeBinary.run(["bench", "niah", "--depths", "0,150"], in: dir.url, environment: environment)
    #expect(depths.status == 2 && depths.stderr.contains("--depths"))
    let kinds = try TomeBinary.run(["bench", "niah", "--kinds", "haystack"], in: dir.url, environment: environment)
    #expect(kinds.status == 2 && kinds.stderr.contains("passkey, fact, multikey, multivalue"))
    let essays = try TomeBinary.run(["bench", "niah", "--essays", "no-such-folder"], in: dir.url, environment: environment)
    #expect(essays.status == 1 && essays.stderr.contains("no-such-folder"))
    let longembed = try TomeBinary.run(["bench", "longembed", "--lengths", "2"], in: dir.url, environment: environment)
    #expect(longembed.status == 2 && longembed.stderr.contains("--lengths"))
    let speed = try TomeBinary.run(["bench", "speed", "no-such-folder", "--no-model"], in: dir.url, environment: environment)
    #expect(speed.status == 1 && speed.stderr.contains("no-such-folder"))
    let help = try TomeBinary.run(["bench", "--help"], in: dir.url)
    for name in ["retrieval", "niah", "longembed", "speed"] { #expect(help.stdout.contains(name)) }
  }
}
