import ArgumentParser
import Foundation
import TomeKit

/// `tome bench …`: measurements of Tome against public test collections.
struct BenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure retrieval and answer quality on public test collections.",
    subcommands: [RetrievalBenchCommand.self, BenchConvertCommand.self, BenchQACommand.self])
}
