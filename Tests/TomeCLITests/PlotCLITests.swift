import Foundation
import Testing
import TomeTestSupport

#if canImport(FoundationXML)
  import FoundationXML
#endif

@Suite(.serialized, .timeLimit(.minutes(15))) struct PlotCLITests {
  /// The `points` attributes of the SVG's `<polyline class="series">` elements, by series name.
  final class Polylines: NSObject, XMLParserDelegate {
    var points: [String: [String]] = [:]
    var circles: [String: Int] = [:]
    var references = 0
    var parsed = false

    init(_ data: Data) {
      super.init()
      let parser = XMLParser(data: data)
      parser.delegate = self
      parsed = parser.parse()
    }

    func parser(
      _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
      attributes: [String: String] = [:]
    ) {
      let series = attributes["data-series"] ?? ""
      switch (elementName, attributes["class"]) {
      case ("polyline", "series"): points[series] = (attributes["points"] ?? "").split(separator: " ").map(String.init)
      case ("circle", "point"): circles[series, default: 0] += 1
      case ("line", "reference"): references += 1
      default: break
      }
    }
  }

  @Test("tome ask --plot writes an SVG with one point per model call of the --json trace; a bad path is a one-line error")
  func askPlot() throws {
    let dir = try TemporaryDirectory()
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("essays"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: SharedData.data("paul_graham_essays/essays/superangels.txt"), to: dir.url.appendingPathComponent("essays/superangels.txt"))
    let ingest = try TomeBinary.run(["ingest", "essays", "--quiet"], in: dir.url)
    #expect(ingest.status == 0, "\(ingest.stderr)")

    // Agents: two seeking agents and a reasoner, so several model calls of different sizes.
    let plot = dir.url.appendingPathComponent("calls.svg")
    let ask = try TomeBinary.run(
      [
        "ask", "--json", "--strategy", "agents", "--agents", "2", "--max-tokens", "16", "--context", "1500", "--plot",
        "calls.svg", "What is a super-angel?",
      ], in: dir.url)
    #expect(ask.status == 0, "\(ask.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(ask.stdout.utf8)) as? [String: Any])
    let trace = try #require(json["trace"] as? [[String: Any]])
    let calls = trace.filter { $0["kind"] as? String == "model_call" }
    #expect(calls.count >= 2, "\(trace)")

    let svg = try Data(contentsOf: plot)
    let chart = Polylines(svg)
    #expect(chart.parsed)
    let prompt = try #require(chart.points["prompt tokens"])
    #expect(prompt.count == calls.count)
    #expect(chart.points["prompt + answer tokens"]?.count == calls.count)
    #expect(chart.circles["prompt tokens"] == calls.count)
    #expect(chart.references == 1)
    let text = String(decoding: svg, as: UTF8.self)
    #expect(text.contains("context window 1500"))
    #expect(text.contains("agents: \u{201C}What is a super-angel?\u{201D}"))
    // Each marker's tooltip names the call's trace label and prompt size, in trace order.
    for (i, call) in calls.enumerated() {
      let tip = "prompt tokens: call \(i + 1) (\(call["label"] as? String ?? "?")), \(call["prompt_tokens"] as? Int ?? -1)<"
      #expect(text.contains(tip), "\(tip)")
    }

    // A folder that does not exist: one line on stderr, exit 1, before the model runs.
    let bad = try TomeBinary.run(["ask", "--plot", "no/such/folder/calls.svg", "What is a super-angel?"], in: dir.url)
    #expect(bad.status == 1)
    #expect(bad.stderr.hasPrefix("error: cannot write --plot") && bad.stderr.contains("does not exist"), "\(bad.stderr)")
    #expect(bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
    let folder = try TomeBinary.run(["ask", "--plot", "essays", "What is a super-angel?"], in: dir.url)
    #expect(folder.status == 1 && folder.stderr.contains("is a folder"), "\(folder.stderr)")
  }
}
