import Foundation
import Testing
import TomeCore
import TomeKit
import TomeReasoning
import TomeTestSupport

/// Two Paul Graham essays in a real index, the real encoder and the real default chat model
/// (SmolLM2-135M), with every strategy sized down so the seven tests run in about two
/// minutes on two cores.
final class SmallEssayCollection: Sendable {
  let directory: TemporaryDirectory
  let answerer: Answerer

  private static let shared = Result { try SmallEssayCollection() }

  static func load() throws -> SmallEssayCollection { try shared.get() }

  private init() throws {
    directory = try TemporaryDirectory("tome-strategies")
    let essays = directory.url.appendingPathComponent("essays")
    try FileManager.default.createDirectory(at: essays, withIntermediateDirectories: true)
    for name in ["superangels.txt", "ecw.txt"] {
      try FileManager.default.copyItem(
        at: SharedData.data("paul_graham_essays/essays/\(name)"), to: essays.appendingPathComponent(name))
    }
    let models = ModelDirectory(url: SharedData.models)
    let encoder = try models.loadEncoder()
    let collection = try TomeKit.Collection(
      location: IndexLocation(directory: directory.url.appendingPathComponent("ix")), create: true)
    try collection.sync(paths: [essays], encoder: encoder)
    answerer = Answerer(
      retriever: try HybridRetriever(collection: collection, embedder: encoder.embedder), embedder: encoder.embedder,
      model: try models.loadChatModel(),
      strategies: StrategyFactory(
        rag: .init(contextTokens: 1_024),
        coc: .init(depth: 2, prefilter: 2, searchDepth: 4, noteTokens: 24, clarifyTokens: 768),
        agents: .init(agents: 2, windowTokens: 512, rounds: 2, searchDepth: 8, extractionTokens: 32),
        gor: .init(questions: 3, nodes: 4, questionTokens: 24, answerTokens: 32),
        infty: .init(segmentTokens: 512, summaryTokens: 64, evidenceTokens: 120, rounds: 3, searchDepth: 8),
        mapreduce: .init(windowTokens: 512, summaryTokens: 32, searchDepth: 8)),
      prompts: PromptLibrary(directory: SharedData.repositoryRoot.appendingPathComponent("Prompts")),
      configuration: .init(k: 4))
  }
}

/// Every strategy end to end on the real model: it finishes, its trace shows model calls, and
/// everything it cites is a line range of a real file.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct StrategyEndToEndTests {
  static let question = "What is a super-angel?"

  /// Runs `kind` through the answerer's stream and checks what every strategy must give.
  func check(_ kind: StrategyKind) async throws -> Answer {
    let answerer = try SmallEssayCollection.load().answerer
    var events: [AnswerEvent] = []
    for try await event in answerer.answer(Self.question, strategy: kind, parameters: .greedy(maxTokens: 48)) {
      events.append(event)
    }
    guard case .finished(let answer) = events.last else {
      Issue.record("the last event is not .finished")
      throw CancellationError()
    }
    #expect(!answer.text.isEmpty)
    #expect(answer.trace.contains { $0.kind == .modelCall })
    #expect(answer.tokens.calls > 0 && answer.model != nil)
    #expect(kind == .auto ? answer.strategy.hasPrefix("auto→") : answer.strategy == kind.rawValue, "\(answer.strategy)")
    for citation in answer.citations {
      guard let path = citation.path, let first = citation.firstLine, let last = citation.lastLine else { continue }
      try Self.expectLines(path, first, last)
    }
    for attribution in answer.attributions {
      try Self.expectLines(attribution.path, attribution.firstLine, attribution.lastLine)
    }
    return answer
  }

  /// `first...last` are lines of the file at `path`.
  static func expectLines(_ path: String, _ first: Int, _ last: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(FileManager.default.fileExists(atPath: path), "\(path)", sourceLocation: sourceLocation)
    let count = try StrategyCorpus.lineCount(path)
    #expect(1 <= first && first <= last && last <= count, "\(path):\(first)-\(last) of \(count)", sourceLocation: sourceLocation)
  }

  @Test("rag on the real model")
  func rag() async throws {
    let answer = try await check(.rag)
    #expect(answer.trace.filter { $0.kind == .modelCall }.count == 1)
  }

  @Test("coc on the real model")
  func coc() async throws {
    let answer = try await check(.coc)
    #expect(answer.trace.contains { $0.kind == .search && $0.label == "pointback" })
  }

  @Test("agents on the real model")
  func agents() async throws {
    let answer = try await check(.agents)
    #expect(answer.trace.contains { $0.kind == .note && $0.label == "agents" })
  }

  @Test("gor on the real model: simulated questions answered into records, then the answer")
  func gor() async throws {
    let answer = try await check(.gor)
    #expect(answer.trace.filter { $0.kind == .modelCall && $0.label.hasPrefix("simulate question") }.count == 3)
    #expect(answer.trace.contains { $0.kind == .note && $0.label == "graph" })
  }

  @Test("infty on the real model: at most three segments, each prompt within the window")
  func infty() async throws {
    let answer = try await check(.infty)
    let segments = answer.trace.filter { $0.kind == .modelCall && $0.label.hasPrefix("segment") }
    #expect((1...3).contains(segments.count))
    #expect(segments.allSatisfy { ($0.promptTokens ?? .max) + 64 <= 1_024 })
  }

  @Test("mapreduce on the real model")
  func mapreduce() async throws {
    let answer = try await check(.mapreduce)
    #expect(answer.trace.contains { $0.kind == .modelCall && $0.label == "map 1" })
  }

  @Test("auto on the real model")
  func auto() async throws {
    let answer = try await check(.auto)
    #expect(answer.trace.contains { $0.kind == .note && $0.label.hasPrefix("route") })
  }
}
