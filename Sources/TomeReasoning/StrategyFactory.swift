/// Every strategy's settings, and the one place strategies are built from a `StrategyKind`.
public struct StrategyFactory: Sendable, Hashable {
  public var rag: RAGStrategy.Configuration
  public var coc: CoCStrategy.Configuration
  public var agents: AgentsStrategy.Configuration
  public var gor: GoRStrategy.Configuration
  public var infty: InftyStrategy.Configuration
  public var mapreduce: MapReduceStrategy.Configuration
  public var attend: AttendStrategy.Configuration

  public init(
    rag: RAGStrategy.Configuration = .init(), coc: CoCStrategy.Configuration = .init(),
    agents: AgentsStrategy.Configuration = .init(), gor: GoRStrategy.Configuration = .init(),
    infty: InftyStrategy.Configuration = .init(), mapreduce: MapReduceStrategy.Configuration = .init(),
    attend: AttendStrategy.Configuration = .init()
  ) {
    self.rag = rag
    self.coc = coc
    self.agents = agents
    self.gor = gor
    self.infty = infty
    self.mapreduce = mapreduce
    self.attend = attend
  }

  /// The prompt templates `kind` reads (checked before a model is loaded).
  public static func templates(for kind: StrategyKind) -> [String] {
    let rag = ["rag-system.txt", "rag-answer.txt", "rag-passage.txt", "rerank-question.txt"]
    let coc = ["coc-clarify.txt", "choice-relevant.txt", "coc-clarify-answer.txt", "coc-answer.txt", "choice-supported.txt"]
    let agents = ["choice-relevant.txt", "agents-extract.txt", "choice-answerable.txt", "agents-answer.txt"]
    let gor = ["gor-question.txt", "gor-answer.txt"]
    let infty = ["infty-read.txt", "infty-answer.txt", "choice-answerable.txt"]
    let mapreduce = ["mapreduce-map.txt", "mapreduce-reduce.txt", "agents-answer.txt"]
    var names: [String]
    switch kind {
    case .rag: names = rag
    case .coc: names = rag + coc
    case .agents: names = rag + agents
    case .gor: names = rag + gor
    case .infty: names = rag + infty
    case .mapreduce: names = rag + mapreduce
    case .attend: names = rag + ["attend-answer.txt"]
    case .auto: names = rag + coc + agents + gor + infty
    }
    var seen = Set<String>()
    return names.filter { seen.insert($0).inserted }
  }

  public func make(_ kind: StrategyKind) -> any AnsweringStrategy {
    // GemFilter belongs to rag and attend, whose answering prompts it was measured on; the
    // other strategies' rag steps answer unfiltered, also after a chat's /strategy switch.
    var plain = rag
    plain.filter = nil
    return switch kind {
    case .rag: RAGStrategy(configuration: rag)
    case .coc: CoCStrategy(configuration: coc, rag: plain)
    case .agents: AgentsStrategy(configuration: agents, rag: plain)
    case .gor: GoRStrategy(configuration: gor, rag: plain)
    case .infty: InftyStrategy(configuration: infty, rag: plain)
    case .mapreduce: MapReduceStrategy(configuration: mapreduce, rag: plain)
    case .attend: AttendStrategy(configuration: attend, rag: rag)
    case .auto:
      AutoStrategy(
        rag: RAGStrategy(configuration: plain), coc: CoCStrategy(configuration: coc, rag: plain),
        agents: AgentsStrategy(configuration: agents, rag: plain), gor: GoRStrategy(configuration: gor, rag: plain),
        infty: InftyStrategy(configuration: infty, rag: plain))
    }
  }
}
