import Foundation
import Testing
import TomeTestSupport

/// `tome ingest --kv-pages`, `tome kv build | status | drop` and `ask` with and without pages,
/// as a user runs them, on a real essay and the real SmolLM2.
@Suite(.serialized, .timeLimit(.minutes(10))) struct KVCLITests {
  func status(_ dir: TemporaryDirectory) throws -> [[String: Any]] {
    let result = try TomeBinary.run(["kv", "status", "--json"], in: dir.url)
    #expect(result.status == 0, "\(result.stderr)")
    return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
  }

  @Test("ingest --kv-pages stores a page per chunk; ask splices them (--no-kv-pages does not) and re-ranks from them; drop deletes them")
  func pagesEndToEnd() throws {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("essays"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: SharedData.data("paul_graham_essays/essays/superangels.txt"), to: dir.url.appendingPathComponent("essays/superangels.txt"))
    let ingest = try TomeBinary.run(["ingest", "essays", "--kv-pages"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    #expect(ingest.stdout.contains("KV pages: "), "\(ingest.stdout)")
    let pages = try #require(try status(dir).first)
    #expect(pages["model"] as? String == "SmolLM2-135M-Instruct.Q4_1.gguf")
    #expect(pages["pages"] as? Int == pages["chunks"] as? Int && (pages["pages"] as? Int ?? 0) > 3)
    #expect(pages["bytes"] as? Int == pages["fileBytes"] as? Int)

    let question = ["ask", "-k", "3", "--max-tokens", "24", "--trace", "What is a super-angel?"]
    let paged = try TomeBinary.run(question, in: dir.url)
    #expect(paged.status == 0, "\(paged.stderr)")
    let output = paged.stdout + paged.stderr
    #expect(output.contains("kv pages"), "\(output)")
    #expect(output.contains("3 of 3 passages from stored KV pages"), "\(output)")
    let read = try TomeBinary.run(question + ["--no-kv-pages"], in: dir.url)
    #expect(read.status == 0, "\(read.stderr)")
    #expect(!(read.stdout + read.stderr).contains("kv pages"))

    // Re-ranking reads the passages from their pages: only the question's tokens are run.
    let reranked = try TomeBinary.run(["ask", "-k", "3", "--rerank", "6", "--max-tokens", "8", "--trace", "What is a super-angel?"], in: dir.url)
    #expect(reranked.status == 0, "\(reranked.stderr)")
    #expect((reranked.stdout + reranked.stderr).contains("6 hits by the likelihood of the question (6 from KV pages"), "\(reranked.stdout + reranked.stderr)")
    let remote = try TomeBinary.run(["ask", "--rerank", "6", "--endpoint", "http://127.0.0.1:9", "anything"], in: dir.url)
    #expect(remote.status == 2 && remote.stderr.contains("--rerank"), "\(remote.stderr)")

    let again = try TomeBinary.run(["kv", "build"], in: dir.url)
    #expect(again.status == 0 && again.stdout.contains("0 built"), "\(again.stdout)\(again.stderr)")
    let badFormat = try TomeBinary.run(["kv", "build", "--format", "int4"], in: dir.url)
    #expect(badFormat.status == 2 && badFormat.stderr.contains("int4"), "\(badFormat.stderr)")

    let drop = try TomeBinary.run(["kv", "drop"], in: dir.url)
    #expect(drop.status == 0 && drop.stdout.contains("dropped the KV pages"), "\(drop.stdout)")
    #expect(try status(dir).isEmpty)
    let plain = try TomeBinary.run(question, in: dir.url)
    #expect(plain.status == 0 && !(plain.stdout + plain.stderr).contains("kv pages"))
    let text = try TomeBinary.run(["kv", "status"], in: dir.url)
    #expect(text.stdout.contains("none"), "\(text.stdout)")
  }

  @Test("kv build with no index fails in one line naming the folder")
  func noIndex() throws {
    let dir = try TemporaryDirectory()
    let result = try TomeBinary.run(["kv", "build"], in: dir.url)
    #expect(result.status == 1 && result.stderr.contains("tome ingest"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1)
  }
}
