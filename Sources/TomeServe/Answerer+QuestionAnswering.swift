import Foundation
import TomeCore
public import TomeReasoning
public import TomeKit

/// `POST /v1/ask` over the index the server was started with: the answer's record, with the
/// strategy the request names (the answerer's default when it names none), within the
/// documents it names (`document`; the whole collection when it names none).
extension Answerer: QuestionAnswering {
  /// - Throws: `RequestProblem` (a 400) when a `document` path names no single indexed
  ///   document; the strategy's errors.
  public func answer(_ request: AskRequest) async throws -> AnswerRecord {
    var documents: Set<DocumentID>?
    if let paths = request.documents {
      do {
        documents = try retriever.collection.documentIDs(forPaths: paths)
      } catch let error as DocumentPathError {
        throw RequestProblem(error.description)
      }
    }
    return AnswerRecord(
      try await answer(
        request.question, strategy: request.strategy, parameters: .greedy(maxTokens: request.maxTokens ?? 256),
        documents: documents))
  }
}
