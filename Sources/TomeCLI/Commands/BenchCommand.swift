import ArgumentParser
import Foundation
import TomeBench
import TomeKit

/// `tome bench …`: measurements of Tome against public test collections.
struct BenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure retrieval and answer quality, needle-in-a-haystack recall, long-input embedding and speed.",
    subcommands: [
      RetrievalBenchCommand.self, NIAHBenchCommand.self, LongEmbedBenchCommand.self, SpeedBenchCommand.self,
      BenchConvertCommand.self, BenchQACommand.self, IndexBenchCommand.self,
    ])
}
