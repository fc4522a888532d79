import TomeCore
public import TomeReasoning
public import TomeKit

/// `POST /v1/ask` over the index the server was started with: the answer's record, with the
/// strategy the request names (the answerer's default when it names none).
extension Answerer: QuestionAnswering {
  public func answer(_ request: AskRequest) async throws -> AnswerRecord {
    AnswerRecord(try await answer(request.question, strategy: request.strategy, parameters: .greedy(maxTokens: request.maxTokens ?? 256)))
  }
}
