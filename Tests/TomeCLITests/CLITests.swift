import Foundation
import Testing
import TomeCore
import TomeKit
import TomeStore
import TomeTestSupport

@Suite(.timeLimit(.minutes(15))) struct CLITests {
  @Test("--help teaches the subcommands and exits 0")
  func help() throws {
    let dir = try TemporaryDirectory()
    let result = try TomeBinary.run(["--help"], in: dir.url)
    #expect(result.status == 0)
    for word in ["ingest", "search", "status", "--index"] { #expect(result.stdout.contains(word)) }
  }

  @Test("a child that outlives its time limit is killed and says so (a hang fails one test, not the suite)")
  func childTimeLimit() throws {
    let dir = try TemporaryDirectory()
    let server = try TomeBinary.run(["serve", "--port", "0"], in: dir.url, timeout: 3)
    #expect(server.status != 0)
    #expect(server.stderr.contains("was killed after 3 s"), "\(server.stderr)")
  }

  @Test("usage errors exit 2, runtime failures exit 1, each with a one-line message")
  func exitCodes() throws {
    let dir = try TemporaryDirectory()
    let usage = try TomeBinary.run(["search", "-k", "0", "x"], in: dir.url)
    #expect(usage.status == 2)
    #expect(usage.stderr.contains("-k"))
    let unknown = try TomeBinary.run(["frobnicate"], in: dir.url)
    #expect(unknown.status == 2)
    let noIndex = try TomeBinary.run(["search", "anything"], in: dir.url)
    #expect(noIndex.status == 1)
    #expect(noIndex.stderr.contains("tome ingest"))
    let missing = try TomeBinary.run(["ingest", "no-such-folder"], in: dir.url)
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("no-such-folder"))
  }

  @Test("ingest and search a real collection; printed spans hold the printed text")
  func ingestAndSearch() throws {
    let dir = try TemporaryDirectory()
    let essays = SharedData.data("paul_graham_essays/essays")
    let ingest = try TomeBinary.run(["ingest", essays.path, "--index", "pg", "--json", "--no-embed"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    let summary = try #require(try JSONSerialization.jsonObject(with: Data(ingest.stdout.utf8)) as? [String: Any])
    #expect((summary["indexed"] as? [String])?.count ?? 0 > 40)

    let search = try TomeBinary.run(["search", "--index", "pg", "-k", "5", "--json", "what makes a startup succeed"], in: dir.url)
    #expect(search.status == 0, "\(search.stderr)")
    let hits = try #require(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [[String: Any]])
    #expect(hits.count == 5)
    for hit in hits {
      let path = try #require(hit["path"] as? String)
      let first = try #require(hit["firstLine"] as? Int)
      let last = try #require(hit["lastLine"] as? Int)
      let text = try #require(hit["text"] as? String)
      let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
      let quoted = lines[(first - 1)...(last - 1)].joined(separator: "\n")
      #expect(quoted.contains(text.trimmingCharacters(in: .whitespacesAndNewlines)), "\(path):\(first)-\(last)")
    }

    let text = try TomeBinary.run(["search", "--index", "pg", "-k", "2", "startup"], in: dir.url)
    #expect(text.stdout.hasPrefix("1. "))
    #expect(text.stdout.contains(".txt:"))

    let status = try TomeBinary.run(["status", "--index", "pg", "--summary"], in: dir.url)
    #expect(status.status == 0 && status.stdout.contains("chunks"))
  }

  @Test("hybrid and dense search with the real encoder return verifiable spans")
  func hybridSearch() throws {
    let dir = try TemporaryDirectory()
    for name in ["startuplessons.txt", "superangels.txt", "aord.txt", "ecw.txt"] {
      try FileManager.default.copyItem(
        at: SharedData.data("paul_graham_essays/essays/\(name)"),
        to: dir.url.appendingPathComponent("essays/\(name)").creatingParent())
    }
    let ingest = try TomeBinary.run(["ingest", "essays", "--json"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    let summary = try #require(try JSONSerialization.jsonObject(with: Data(ingest.stdout.utf8)) as? [String: Any])
    let chunks = try #require(summary["chunks"] as? Int)
    #expect(summary["embedded"] as? Int == chunks)

    for mode in ["dense", "hybrid", "bm25"] {
      let search = try TomeBinary.run(["search", "--mode", mode, "-k", "3", "--json", "what kills startups"], in: dir.url)
      #expect(search.status == 0, "\(mode): \(search.stderr)")
      let hits = try #require(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [[String: Any]])
      #expect(hits.count == 3, "\(mode)")
      for hit in hits {
        let path = try #require(hit["path"] as? String)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let start = try #require(hit["byteStart"] as? Int)
        let end = try #require(hit["byteEnd"] as? Int)
        #expect(String(decoding: bytes[start..<end], as: UTF8.self) == hit["text"] as? String, "\(mode) \(path)")
      }
    }
    // A second ingest embeds nothing new.
    let again = try TomeBinary.run(["ingest", "essays", "--json"], in: dir.url)
    let second = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
    #expect(second["embedded"] as? Int == 0)
  }

  @Test("dense search on an index without vectors is a clear runtime error")
  func denseWithoutVectors() throws {
    let dir = try TemporaryDirectory()
    try dir.write("d/a.txt", "alpha beta gamma\n")
    #expect(try TomeBinary.run(["ingest", "d", "--no-embed", "-q"], in: dir.url).status == 0)
    let dense = try TomeBinary.run(["search", "--mode", "dense", "alpha"], in: dir.url)
    #expect(dense.status == 1 && dense.stderr.contains("no vectors"))
    let hybrid = try TomeBinary.run(["search", "alpha"], in: dir.url)
    #expect(hybrid.status == 0 && hybrid.stdout.contains("a.txt:1"))
    #expect(hybrid.stderr.contains("BM25 only"))
  }

  @Test("search --path keeps to the documents under a folder or file; a prefix that holds none is one clear line")
  func searchUnderPath() throws {
    let dir = try TemporaryDirectory()
    try dir.write("d/admin/quota.txt", "disk quota limits per user\n")
    try dir.write("d/administration.txt", "quota of the administration office\n")
    try dir.write("d/net/quota.txt", "network quota and rate limits\n")
    #expect(try TomeBinary.run(["ingest", "d", "--no-embed", "-q"], in: dir.url).status == 0)
    func paths(_ arguments: [String]) throws -> [String] {
      let result = try TomeBinary.run(["search", "quota", "--json"] + arguments, in: dir.url)
      #expect(result.status == 0, "\(result.stderr)")
      let hits = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
      return hits.compactMap { ($0["path"] as? String).map { URL(fileURLWithPath: $0).path.replacingOccurrences(of: dir.url.path + "/", with: "") } }
    }
    #expect(try paths([]).count == 3)
    // A folder prefix ends at a "/": d/admin holds d/admin/quota.txt, not d/administration.txt.
    #expect(try paths(["--path", "d/admin"]) == ["d/admin/quota.txt"])
    #expect(try Set(paths(["--path", "d/admin/", "--path", dir.url.path + "/d/net"])) == ["d/admin/quota.txt", "d/net/quota.txt"])
    #expect(try paths(["--path", "d/administration.txt"]) == ["d/administration.txt"])
    let none = try TomeBinary.run(["search", "quota", "--path", "d/nowhere"], in: dir.url)
    #expect(none.status == 1 && none.stderr.contains("no indexed document under \"d/nowhere\""), "\(none.stderr)")
  }

  @Test("a missing model gives a one-line error naming the file and how to fetch it")
  func missingModel() throws {
    let dir = try TemporaryDirectory()
    try dir.write("d/a.txt", "alpha\n")
    let result = try TomeBinary.run(["ingest", "d", "--models", dir.url.appendingPathComponent("nowhere").path], in: dir.url)
    #expect(result.status == 1)
    #expect(result.stderr.contains("nowhere"))
    #expect(result.stderr.contains("bootstrap"))
  }

  @Test("kill -9 during ingest, then a re-run, gives exactly the chunks of an uninterrupted run")
  func killAndResume() throws {
    let dir = try TemporaryDirectory()
    // A corpus big enough that ingest is still running when it is killed: real essays, copied
    // under many names.
    let essays = try FileManager.default.contentsOfDirectory(
      at: SharedData.data("paul_graham_essays/essays"), includingPropertiesForKeys: nil
    ).sorted { $0.path < $1.path }
    for copy in 0..<16 {
      for essay in essays {
        try FileManager.default.copyItem(
          at: essay, to: dir.url.appendingPathComponent("corpus/\(copy)-\(essay.lastPathComponent)", isDirectory: false)
            .creatingParent())
      }
    }
    let corpus = dir.url.appendingPathComponent("corpus").path

    let (child, _, _) = try TomeBinary.start(["ingest", corpus, "--index", "killed", "--quiet", "--no-embed"], in: dir.url)
    let killedIndex = dir.url.appendingPathComponent("Indexes/killed")
    var committed = 0
    let deadline = Date().addingTimeInterval(60)
    while committed < 10 && child.isRunning && Date() < deadline {
      Thread.sleep(forTimeInterval: 0.01)
      if FileManager.default.fileExists(atPath: killedIndex.appendingPathComponent("tome.sqlite").path) {
        committed = (try? IndexStore(directory: killedIndex, create: false).totals().documents) ?? 0
      }
    }
    let wasRunning = child.isRunning
    kill(child.processIdentifier, SIGKILL)
    child.waitUntilExit()
    #expect(wasRunning, "ingest finished before it could be killed; make the corpus bigger")
    let partial = try IndexStore(directory: killedIndex, create: false).totals().documents
    #expect(partial > 0 && partial < essays.count * 16)

    let resumed = try TomeBinary.run(["ingest", corpus, "--index", "killed", "--json", "--no-embed"], in: dir.url)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    let whole = try TomeBinary.run(["ingest", corpus, "--index", "whole", "--quiet", "--no-embed"], in: dir.url)
    #expect(whole.status == 0)

    func snapshot(_ name: String) throws -> [String] {
      let store = try IndexStore(directory: dir.url.appendingPathComponent("Indexes/\(name)"), create: false)
      return try store.documents().flatMap { doc in
        try store.chunks(of: #require(doc.id)).map { "\($0.chunk.span.citation)|\($0.chunk.span.byteRange)|\($0.chunk.text)" }
      }
    }
    let a = try snapshot("killed")
    let b = try snapshot("whole")
    #expect(a.count == b.count)
    #expect(a == b)
  }
}

extension URL {
  /// Creates this URL's parent folder and returns the URL.
  func creatingParent() throws -> URL {
    try FileManager.default.createDirectory(at: deletingLastPathComponent(), withIntermediateDirectories: true)
    return self
  }
}
