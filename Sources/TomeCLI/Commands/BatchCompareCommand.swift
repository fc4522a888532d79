import ArgumentParser
import Foundation
import TomeKit

/// `tome batch compare A.results.jsonl B.results.jsonl`.
struct BatchCompareCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Compare two batch result files: metric means, differences, and the questions that flipped.",
    discussion: """
      A question flips when it is right in one run and wrong in the other: by accuracy for \
      multiple choice, else by exact match. Questions are matched by id.

      Example:
        tome batch compare k6.results.jsonl k12.results.jsonl
      """)

  @Argument(help: "The first results file (A).")
  var a: String

  @Argument(help: "The second results file (B).")
  var b: String

  @Flag(name: .long, help: "Print the comparison as JSON.")
  var json = false

  func run() async throws {
    func load(_ path: String) throws -> [BatchResult] {
      do {
        return try BatchResult.readLines(URL(fileURLWithPath: (path as NSString).expandingTildeInPath))
      } catch let error as BatchInputError {
        throw CLIError(error.description)
      }
    }
    let comparison = BatchComparison(a: try load(a), b: try load(b))
    if json {
      try Terminal.printJSON(comparison)
      return
    }
    func cell(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
    print("A: \(a) (\(comparison.a.n) results)")
    print("B: \(b) (\(comparison.b.n) results)")
    print("\(comparison.common) questions in both\n")
    print("metric        A        B        B−A")
    for row in comparison.rows where row.a != nil || row.b != nil {
      let difference = row.difference.map { String(format: "%+.3f", $0) } ?? "–"
      print(
        row.metric.padding(toLength: 14, withPad: " ", startingAt: 0) + cell(row.a).padding(toLength: 9, withPad: " ", startingAt: 0)
          + cell(row.b).padding(toLength: 9, withPad: " ", startingAt: 0) + difference)
    }
    for (title, flips) in [("right in B only", comparison.fixed), ("right in A only", comparison.broken)] where !flips.isEmpty {
      print("\n\(title) (\(flips.count)):")
      for f in flips { print("  \(f.id.scalarText ?? "?")  \(f.question)") }
    }
    if comparison.fixed.isEmpty && comparison.broken.isEmpty { print("\nno question flipped") }
  }
}
