/// Every strategy's settings, and the one place strategies are built from a `StrategyKind`.
public struct StrategyFactory: Sendable, Hashable {
  public var rag: RAGStrategy.Configuration
  public var coc: CoCStrategy.Configuration
  public var agents: AgentsStrategy.Configuration

  public init(
    rag: RAGStrategy.Configuration = .init(), coc: CoCStrategy.Configuration = .init(),
    agents: AgentsStrategy.Configuration = .init()
  ) {
    self.rag = rag
    self.coc = coc
    self.agents = agents
  }

  /// The prompt templates `kind` reads (checked before a model is loaded).
  public static func templates(for kind: StrategyKind) -> [String] {
    let rag = ["rag-system.txt", "rag-answer.txt", "rag-passage.txt"]
    let coc = ["coc-clarify.txt", "choice-relevant.txt", "coc-clarify-answer.txt", "coc-answer.txt", "choice-supported.txt"]
    let agents = ["choice-relevant.txt", "agents-extract.txt", "choice-answerable.txt", "agents-answer.txt"]
    switch kind {
    case .rag: return rag
    case .coc: return rag + coc
    case .agents: return rag + agents
    case .auto: return rag + coc + agents.filter { !coc.contains($0) }
    }
  }

  public func make(_ kind: StrategyKind) -> any AnsweringStrategy {
    switch kind {
    case .rag: RAGStrategy(configuration: rag)
    case .coc: CoCStrategy(configuration: coc, rag: rag)
    case .agents: AgentsStrategy(configuration: agents, rag: rag)
    case .auto:
      AutoStrategy(
        rag: RAGStrategy(configuration: rag), coc: CoCStrategy(configuration: coc, rag: rag),
        agents: AgentsStrategy(configuration: agents, rag: rag))
    }
  }
}
