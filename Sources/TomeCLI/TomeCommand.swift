public import ArgumentParser

/// The `tome` command: subcommands for ingest, search and status.
public struct TomeCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "tome",
    abstract: "Answer questions over large document collections, with citations.")
  public init() {}
}

/// Runs the `tome` command line; the executable's only call.
public func runTome() async {
  await TomeCommand.main()
}
