import Foundation
import TomeReasoning

/// The mean of one metric over the questions it applies to.
public struct MetricMean: Sendable, Hashable, Codable {
  public var mean: Double
  /// Questions it was measured on.
  public var n: Int

  /// The mean of the non-nil values; nil when there are none.
  public init?(_ values: [Double?]) {
    let present = values.compactMap { $0 }
    guard !present.isEmpty else { return nil }
    mean = present.reduce(0, +) / Double(present.count)
    n = present.count
  }
}

/// The summary of a batch run: quality means and speed.
public struct BatchSummary: Sendable, Hashable, Codable {
  /// Results summarised.
  public var n: Int
  public var em: MetricMean?
  public var f1: MetricMean?
  public var accuracy: MetricMean?
  public var rouge1: MetricMean?
  public var rouge2: MetricMean?
  public var rougeL: MetricMean?
  public var citationPrecision: MetricMean?
  public var citationRecall: MetricMean?
  /// Verified citations over all citations made (micro average); nil without citations.
  public var verifiedCitations: Double?
  /// Mean seconds per answer (retrieval to last token).
  public var meanLatency: Double?
  /// Questions answered per minute of wall time in this run; nil when this run answered none.
  public var questionsPerMinute: Double?
  /// Input lines that were not valid questions and were skipped (a run with any is not a
  /// success: `tome batch` exits 1 after answering the rest).
  public var skippedLines: Int = 0

  public init(results: [BatchResult], answeredThisRun: Int = 0, elapsedSeconds: Double = 0) {
    n = results.count
    let s = results.map(\.scores)
    em = MetricMean(s.map(\.em))
    f1 = MetricMean(s.map(\.f1))
    accuracy = MetricMean(s.map(\.accuracy))
    rouge1 = MetricMean(s.map(\.rouge1))
    rouge2 = MetricMean(s.map(\.rouge2))
    rougeL = MetricMean(s.map(\.rougeL))
    citationPrecision = MetricMean(s.map(\.citationPrecision))
    citationRecall = MetricMean(s.map(\.citationRecall))
    let citations = results.flatMap(\.record.citations)
    verifiedCitations = citations.isEmpty ? nil : Double(citations.filter(\.verified).count) / Double(citations.count)
    meanLatency = MetricMean(results.map { Optional($0.record.timings.total) })?.mean
    questionsPerMinute = answeredThisRun > 0 && elapsedSeconds > 0 ? Double(answeredThisRun) * 60 / elapsedSeconds : nil
  }

  /// Quality metrics by name, in table order (`em`, `f1`, … `verified`, `latency_s`).
  public var metrics: [(name: String, value: Double?)] {
    [
      ("em", em?.mean), ("f1", f1?.mean), ("accuracy", accuracy?.mean), ("rouge1", rouge1?.mean), ("rouge2", rouge2?.mean),
      ("rouge_l", rougeL?.mean), ("citation_p", citationPrecision?.mean), ("citation_r", citationRecall?.mean),
      ("verified", verifiedCitations), ("latency_s", meanLatency),
    ]
  }

  enum CodingKeys: String, CodingKey {
    case n, em, f1, accuracy, rouge1, rouge2
    case rougeL = "rouge_l"
    case citationPrecision = "citation_precision"
    case citationRecall = "citation_recall"
    case verifiedCitations = "verified_citations"
    case meanLatency = "mean_latency_s"
    case questionsPerMinute = "questions_per_minute"
    case skippedLines = "skipped_lines"
  }
}

/// Two batch runs side by side: per-metric means, differences, and the questions that flipped.
public struct BatchComparison: Sendable, Hashable, Codable {
  public struct Row: Sendable, Hashable, Codable {
    public var metric: String
    public var a: Double?
    public var b: Double?
    /// b − a, when both exist.
    public var difference: Double?
  }

  /// A question right in one run and wrong in the other (by accuracy, else exact match).
  public struct Flip: Sendable, Hashable, Codable {
    public var id: JSONValue
    public var question: String
    public var answerA: String
    public var answerB: String

    enum CodingKeys: String, CodingKey {
      case id, question
      case answerA = "answer_a"
      case answerB = "answer_b"
    }
  }

  public var a: BatchSummary
  public var b: BatchSummary
  public var rows: [Row]
  /// Wrong in A, right in B.
  public var fixed: [Flip]
  /// Right in A, wrong in B.
  public var broken: [Flip]
  /// Questions in both runs.
  public var common: Int

  public init(a resultsA: [BatchResult], b resultsB: [BatchResult]) {
    a = BatchSummary(results: resultsA)
    b = BatchSummary(results: resultsB)
    rows = zip(a.metrics, b.metrics).map { x, y in
      let difference: Double? = if let va = x.value, let vb = y.value { vb - va } else { nil }
      return Row(metric: x.name, a: x.value, b: y.value, difference: difference)
    }
    var byID: [String: BatchResult] = [:]
    for r in resultsB { byID[r.id.scalarText ?? ""] = r }
    var fixed: [Flip] = []
    var broken: [Flip] = []
    var common = 0
    for ra in resultsA {
      guard let rb = byID[ra.id.scalarText ?? ""] else { continue }
      common += 1
      guard let ca = ra.scores.correct, let cb = rb.scores.correct, ca != cb else { continue }
      let flip = Flip(id: ra.id, question: ra.record.question, answerA: ra.record.answer, answerB: rb.record.answer)
      if cb { fixed.append(flip) } else { broken.append(flip) }
    }
    self.fixed = fixed
    self.broken = broken
    self.common = common
  }
}
