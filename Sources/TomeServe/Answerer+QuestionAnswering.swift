import TomeCore
import TomeReasoning
public import TomeKit

/// `POST /v1/ask` over the index the server was started with: the answer text and what each
/// `[n]` marker cites.
extension Answerer: QuestionAnswering {
  public func answer(_ request: AskRequest) async throws -> AskResponse {
    let result = try await answer(request.question, parameters: .greedy(maxTokens: request.maxTokens ?? 256))
    let sources = result.citations.compactMap { citation -> AskResponse.Source? in
      guard let path = citation.path, let first = citation.firstLine, let last = citation.lastLine else { return nil }
      return AskResponse.Source(marker: citation.number, path: path, firstLine: first, lastLine: last)
    }
    return AskResponse(answer: result.text, sources: sources)
  }
}
