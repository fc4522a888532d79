import Foundation
import Testing
import TomeCore
import TomeIngest
import TomeKit
import TomeStore
import TomeTestSupport

/// Stored KV pages on a real index of essays with the real SmolLM2: build, read back, damage,
/// re-ingest, another model, drop.
@Suite(.serialized) struct KVPageStoreTests {
  let models = ModelDirectory(url: SharedData.models)

  func index(_ dir: TemporaryDirectory) throws -> (Collection, URL) {
    let docs = dir.url.appendingPathComponent("docs")
    try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
    for name in ["todo.txt", "nft.txt", "rootsoflisp.txt"] {
      try FileManager.default.copyItem(at: SharedData.data("paul_graham_essays/essays/\(name)"), to: docs.appendingPathComponent(name))
    }
    let collection = try Collection(location: IndexLocation(directory: dir.url.appendingPathComponent("ix")), create: true)
    _ = try collection.sync(paths: [docs], configuration: .init(chunker: try .init(maxTokens: 64, overlapTokens: 0)), encoder: nil)
    return (collection, docs)
  }

  func allIDs(_ collection: Collection) throws -> [ChunkID] {
    try collection.store.documents().compactMap(\.id).flatMap { try collection.store.chunks(of: $0).map(\.id) }
  }

  @Test("build stores a page per chunk holding exactly the chunk's tokens; a damaged page is skipped, not trusted")
  func buildAndRead() throws {
    let dir = try TemporaryDirectory()
    let (collection, _) = try index(dir)
    let model = try models.loadChatModel()
    let paging = try #require(model as? any KVPaging)
    let pages = KVPageStore(collection: collection)
    let ids = try allIDs(collection)
    #expect(ids.count >= 4)

    var progress: [Int] = []
    let report = try pages.build(model: model, batch: 2) { done, total in
      #expect(total == ids.count)
      progress.append(done)
    }
    #expect(report.built == ids.count && report.skipped == 0 && progress.last == ids.count)
    let status = try #require(try pages.status().first)
    #expect(status.model == model.identifier && status.pages == ids.count && status.tokens == report.tokens)
    #expect(status.bytes == report.bytes && status.fileBytes == status.bytes)

    let read = try pages.pages(for: ids, model: model.identifier)
    #expect(read.count == ids.count)
    for chunk in try collection.store.chunks(ids: ids) {
      let page = try #require(read[chunk.id])
      #expect(page.tokens == paging.tokenize(KVPage.text(ofChunk: chunk.chunk.text)))
      #expect(page.format == .int8 && page.modelIdentifier == model.identifier)
    }
    #expect(try pages.pages(for: ids, model: "other.gguf").isEmpty)
    #expect(try pages.build(model: model).built == 0)

    // Flip a byte in the middle of the last page's payload.
    let file = pages.directory.appendingPathComponent(status.file)
    var bytes = try Data(contentsOf: file)
    bytes[bytes.count - 100] ^= 0xFF
    try bytes.write(to: file)
    let after = try pages.pages(for: ids, model: model.identifier)
    #expect(after.count == ids.count - 1)
  }

  @Test("a changed file's pages go with its chunks; another model's build replaces the pages; drop deletes them")
  func upkeep() throws {
    let dir = try TemporaryDirectory()
    let (collection, docs) = try index(dir)
    let model = try models.loadChatModel()
    let pages = KVPageStore(collection: collection)
    let first = try pages.build(model: model)
    let before = try #require(try pages.status().first)

    let changed = docs.appendingPathComponent("todo.txt")
    try (String(contentsOf: changed, encoding: .utf8) + "\nA new closing line about what to do next.\n").write(to: changed, atomically: true, encoding: .utf8)
    _ = try collection.sync(paths: [], configuration: .init(chunker: try .init(maxTokens: 64, overlapTokens: 0)), encoder: nil)
    let dropped = try #require(try pages.status().first)
    #expect(dropped.pages < before.pages && dropped.fileBytes == before.fileBytes)
    let rebuilt = try pages.build(model: model)
    let total = try allIDs(collection).count
    #expect(rebuilt.built == total - dropped.pages)
    let grown = try #require(try pages.status().first)
    #expect(grown.pages == first.built - (before.pages - dropped.pages) + rebuilt.built && grown.fileBytes > grown.bytes)

    // The same weights under another name are another model: its build forgets the first
    // model's pages and deletes their file.
    let otherPath = dir.url.appendingPathComponent("other.gguf")
    try FileManager.default.linkItem(at: SharedData.models.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf"), to: otherPath)
    let other = try models.loadChatModel(file: otherPath)
    let replaced = try pages.build(model: other)
    #expect(replaced.built == total)
    let statuses = try pages.status()
    #expect(statuses.map(\.model) == ["other.gguf"])
    let files = try FileManager.default.contentsOfDirectory(atPath: pages.directory.path)
    #expect(files == [statuses[0].file])

    #expect(try pages.drop() == statuses[0].fileBytes)
    #expect(try pages.status().isEmpty)
    #expect(!FileManager.default.fileExists(atPath: pages.directory.path))
  }
}
