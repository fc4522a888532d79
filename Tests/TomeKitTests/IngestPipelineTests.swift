import Foundation
import Testing
import TomeCore
import TomeIngest
import TomeKit
import TomeStore
import TomeTestSupport

@Suite struct IngestPipelineTests {
  func makeCollection(_ dir: TemporaryDirectory) throws -> Collection {
    try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("index")), create: true)
  }

  /// Every stored chunk's text must be exactly its byte range of the source file (with `\r`
  /// dropped), and its lines must hold that text.
  func expectSpansMatchSources(_ collection: Collection) throws {
    for document in try collection.store.documents() where document.status == .indexed {
      let bytes = try Data(contentsOf: URL(fileURLWithPath: document.path))
      // Split bytes on \n (a Swift Character would keep "\r\n" together).
      let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
      for stored in try collection.store.chunks(of: #require(document.id)) {
        let span = stored.chunk.span
        let slice = bytes[span.byteRange.lowerBound..<span.byteRange.upperBound]
        let fromBytes = String(decoding: slice, as: UTF8.self).replacingOccurrences(of: "\r", with: "")
        #expect(fromBytes == stored.chunk.text, "\(span.citation): byte range does not hold the chunk text")
        try #require(span.lastLine <= lines.count, "\(span.citation): past the end of a \(lines.count)-line file")
        let fromLines = lines[(span.firstLine - 1)...(span.lastLine - 1)].joined(separator: "\n").replacingOccurrences(of: "\r", with: "")
        #expect(fromLines.contains(stored.chunk.text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)), "\(span.citation): lines do not hold the chunk text")
      }
    }
  }

  @Test("first run indexes, second run skips everything, edits and deletions are synced")
  func incremental() throws {
    let dir = try TemporaryDirectory()
    let docs = dir.url.appendingPathComponent("docs")
    try dir.write("docs/a.md", "# Alpha\n\nThe alpha file talks about aardvarks.\n")
    try dir.write("docs/b.txt", "Bravo mentions badgers.\nAnd more badgers.\n")
    try dir.write("docs/sub/c.py", "def charlie():\n    return 'cheetah'\n")
    let collection = try makeCollection(dir)
    let pipeline = IngestPipeline(collection: collection)

    let first = try pipeline.run(roots: [docs])
    #expect(first.indexed.count == 3 && first.unchanged == 0 && first.failed.isEmpty)
    try expectSpansMatchSources(collection)

    let second = try pipeline.run(roots: [docs])
    #expect(second.indexed.isEmpty && second.unchanged == 3)

    // Same size, new mtime, same content: hashed, not re-chunked.
    let b = dir.url.appendingPathComponent("docs/b.txt")
    try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: b.path)
    #expect(try pipeline.run(roots: [docs]).unchanged == 3)

    try dir.write("docs/b.txt", "Bravo now mentions bison instead.\n")
    try FileManager.default.removeItem(at: dir.url.appendingPathComponent("docs/sub/c.py"))
    let third = try pipeline.run(roots: [docs])
    #expect(third.indexed == [b.path])
    #expect(third.pruned == [dir.url.appendingPathComponent("docs/sub/c.py").path])
    #expect(try collection.search("badgers", limit: 5).isEmpty)
    #expect(try collection.search("bison", limit: 5).first?.chunk.span.path == b.path)
    #expect(try collection.search("cheetah", limit: 5).isEmpty)
    try expectSpansMatchSources(collection)
  }

  @Test("a bare run re-syncs the roots of earlier runs; other roots are not pruned")
  func roots() throws {
    let dir = try TemporaryDirectory()
    try dir.write("one/a.txt", "apples\n")
    try dir.write("two/b.txt", "bananas\n")
    let collection = try makeCollection(dir)
    let pipeline = IngestPipeline(collection: collection)
    _ = try pipeline.run(roots: [dir.url.appendingPathComponent("one")])
    _ = try pipeline.run(roots: [dir.url.appendingPathComponent("two")])
    #expect(try collection.store.totals().documents == 2)
    try dir.write("one/c.txt", "cherries\n")
    let resync = try pipeline.run(roots: [])
    #expect(resync.indexed.count == 1 && resync.unchanged == 2)
  }

  @Test("a new chunk budget re-chunks every file")
  func rechunk() throws {
    let dir = try TemporaryDirectory()
    let text = (1...200).map { "Sentence number \($0) is here." }.joined(separator: " ")
    try dir.write("d/long.txt", text)
    let collection = try makeCollection(dir)
    let small = IngestPipeline(collection: collection, configuration: .init(chunker: try .init(maxTokens: 64, overlapTokens: 0)))
    let large = IngestPipeline(collection: collection, configuration: .init(chunker: try .init(maxTokens: 256, overlapTokens: 0)))
    let root = dir.url.appendingPathComponent("d")
    let first = try small.run(roots: [root])
    #expect(first.rechunkReason == nil)
    let second = try large.run(roots: [root])
    #expect(first.chunks > second.chunks && second.chunks > 0)
    // The report says why every file was re-chunked, naming the old rules and the new.
    #expect(second.rechunkReason?.contains("max=64") == true && second.rechunkReason?.contains("max=256") == true)
    #expect(try large.run(roots: [root]).rechunkReason == nil)
    try expectSpansMatchSources(collection)
  }

  @Test("an index chunked before tables were embedded by their labels is re-chunked once, and says why")
  func olderRules() throws {
    let dir = try TemporaryDirectory()
    try dir.write("d/a.txt", "Net sales\n1,577\n262\n13\n")
    let collection = try makeCollection(dir)
    let pipeline = IngestPipeline(collection: collection)
    let root = dir.url.appendingPathComponent("d")
    _ = try pipeline.run(roots: [root])
    try collection.store.setMeta(.chunker, "max=256 overlap=32 pages=ff headers=2")
    let again = try pipeline.run(roots: [root])
    #expect(again.indexed.count == 1 && again.unchanged == 0)
    #expect(again.rechunkReason?.contains("headers=2;") == true && again.rechunkReason?.contains("tables=labels") == true)
    let settled = try pipeline.run(roots: [root])
    #expect(settled.unchanged == 1 && settled.rechunkReason == nil)
  }

  @Test("new chunking rules re-chunk every root: a run given one root leaves the others to the next full run")
  func olderRulesSomeRoots() throws {
    let dir = try TemporaryDirectory()
    try dir.write("a/one.txt", "Net sales\n1,577\n262\n13\n")
    try dir.write("b/two.txt", "Operating income rose in every segment.\n")
    let collection = try makeCollection(dir)
    let pipeline = IngestPipeline(collection: collection)
    let (a, b) = (dir.url.appendingPathComponent("a"), dir.url.appendingPathComponent("b"))
    _ = try pipeline.run(roots: [a, b])
    let older = "max=256 overlap=32 pages=ff headers=2 tables=labels"
    try collection.store.setMeta(.chunker, older)
    let partial = try pipeline.run(roots: [a])
    #expect(partial.indexed.count == 1 && partial.rechunkReason?.contains("without a path") == true)
    #expect(try collection.store.meta(.chunker) == older)
    let full = try pipeline.run(roots: [])
    #expect(full.indexed.count == 2 && full.rechunkReason?.contains("without a path") == false)
    #expect(try collection.store.meta(.chunker) != older)
    let settled = try pipeline.run(roots: [a])
    #expect(settled.unchanged == 1 && settled.rechunkReason == nil)
    // A root that no longer exists cannot be re-chunked and does not hold the record back.
    try FileManager.default.removeItem(at: b)
    try collection.store.setMeta(.chunker, older)
    let resync = try pipeline.run(roots: [])
    #expect(resync.missingRoots.count == 1 && resync.rechunkReason?.contains("without a path") == false)
    #expect(try collection.store.meta(.chunker) != older)
  }

  @Test("bad files are recorded with reasons and never stop the run")
  func badInput() throws {
    let dir = try TemporaryDirectory()
    try dir.write("d/empty.txt", "")
    try dir.write("d/binary.dat", data: Data([0x7F, 0x45, 0x4C, 0x46, 0, 0, 1, 2, 3, 0, 0]))
    try dir.write("d/latin1.txt", data: Data("caf".utf8) + Data([0xE9]) + Data(" au lait\n".utf8))
    try dir.write("d/crlf.txt", "first line\r\nsecond line\r\n\r\nthird\nfourth\r\n")
    try dir.write("d/broken.pdf", "%PDF-1.4\nthis is not really a pdf\n")
    try FileManager.default.createSymbolicLink(
      atPath: dir.url.appendingPathComponent("d/loop").path, withDestinationPath: dir.url.appendingPathComponent("d").path)
    let collection = try makeCollection(dir)
    let report = try IngestPipeline(collection: collection).run(roots: [dir.url.appendingPathComponent("d")])

    #expect(report.empty.map { URL(fileURLWithPath: $0).lastPathComponent } == ["empty.txt"])
    #expect(report.skipped.count == 1 && report.skipped[0].path.hasSuffix("binary.dat"))
    #expect(report.skipped.first?.message.contains("binary") == true)
    #expect(report.failed.count == 1 && report.failed[0].path.hasSuffix("broken.pdf"))
    #expect(report.failed.first?.message.contains("pdftotext") == true)
    #expect(report.warnings.contains { $0.path.hasSuffix("latin1.txt") && $0.message.contains("UTF-8") })
    #expect(report.walkSkipped.contains { $0.path.hasSuffix("loop") || $0.message.contains("loop") })
    #expect(report.indexed.count == 2)
    let latin = try #require(try collection.store.document(path: dir.url.appendingPathComponent("d/latin1.txt").path))
    #expect(latin.status == .indexed)
    #expect(try collection.search("lait", limit: 3).first?.chunk.text.contains("\u{FFFD}") == true)
    let binary = try #require(try collection.store.document(path: dir.url.appendingPathComponent("d/binary.dat").path))
    #expect(binary.status == .skipped && binary.reason?.isEmpty == false)
    #expect(try collection.search("fourth", limit: 1).first?.chunk.span.lastLine == 5)
    try expectSpansMatchSources(collection)
  }

  @Test("a file deleted mid-ingest is reported, the rest is indexed, and the next run prunes it")
  func deletedMidIngest() throws {
    let dir = try TemporaryDirectory()
    try dir.write("d/a.txt", "alpha\n")
    let doomed = try dir.write("d/b.txt", "bravo\n")
    try dir.write("d/c.txt", "charlie\n")
    let collection = try makeCollection(dir)
    let pipeline = IngestPipeline(collection: collection)
    let report = try pipeline.run(roots: [dir.url.appendingPathComponent("d")]) { progress in
      if progress.filesDone == 1 { try? FileManager.default.removeItem(at: doomed) }
    }
    #expect(report.failed.count == 1 && report.failed[0].path == doomed.path)
    #expect(report.failed.first?.message.contains("vanished") == true)
    #expect(report.indexed.count == 2)
    let again = try pipeline.run(roots: [dir.url.appendingPathComponent("d")])
    #expect(again.pruned == [doomed.path])
    #expect(try collection.store.totals().documents == 2)
  }

  @Test("a missing root is an error naming it")
  func missingRoot() throws {
    let dir = try TemporaryDirectory()
    let collection = try makeCollection(dir)
    let error = #expect(throws: IngestPipelineError.self) { try IngestPipeline(collection: collection).run(roots: [URL(fileURLWithPath: "/no/such/dir")]) }
    #expect(error?.description.contains("/no/such/dir") == true)
  }
}
