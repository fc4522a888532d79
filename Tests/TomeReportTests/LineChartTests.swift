import Foundation
import Testing
@testable import TomeReport

@Suite struct LineChartTests {
  /// The (x, y) pairs of a polyline's `points` attribute.
  static func coordinates(_ element: ParsedXML.Element) -> [(x: Double, y: Double)] {
    (element.attributes["points"] ?? "").split(separator: " ").map { pair in
      let parts = pair.split(separator: ",").compactMap { Double($0) }
      return (parts.first ?? .nan, parts.last ?? .nan)
    }
  }

  static func polylines(_ xml: ParsedXML) -> [ParsedXML.Element] {
    xml.elements.filter { $0.name == "polyline" && $0.attributes["class"] == "series" }
  }

  @Test("line chart: well-formed SVG, one polyline per series holding exactly its points, one marker per point")
  func structure() throws {
    let chart = LineChart(
      title: "Sawtooth", subtitle: "three series",
      series: [
        .init(name: "a", points: (1...7).map { .init(x: Double($0), y: Double($0 % 3) * 100) }),
        .init(name: "b", points: [.init(x: 1, y: 5), .init(x: 2, y: 50)]),
        .init(name: "c", points: [.init(x: 3, y: 20, label: "only")]),
      ],
      xLabel: "model call", yLabel: "tokens", references: [.init(label: "context window 2048", y: 2048)])
    let xml = ParsedXML(chart.svg())
    #expect(xml.wellFormed, "\(String(describing: xml.error))")
    #expect(xml.elements.first?.name == "svg")
    let lines = Self.polylines(xml)
    #expect(lines.map { $0.attributes["data-series"] } == ["a", "b", "c"])
    #expect(lines.map { Self.coordinates($0).count } == [7, 2, 1])
    #expect(lines.allSatisfy { Self.coordinates($0).allSatisfy { $0.x.isFinite && $0.y.isFinite } })
    for (name, count) in [("a", 7), ("b", 2), ("c", 1)] {
      #expect(xml.elements.filter { $0.name == "circle" && $0.attributes["data-series"] == name }.count == count)
    }
    #expect(xml.count("line", class: "reference") == 1)
    for label in ["Sawtooth", "three series", "model call", "tokens", "context window 2048", "a", "b", "c"] {
      #expect(xml.texts.contains(label), "\(label)")
    }
    // x increases left to right along a series.
    let xs = Self.coordinates(lines[0]).map(\.x)
    #expect(xs == xs.sorted() && Set(xs).count == xs.count)
  }

  @Test("line chart: a larger y is drawn higher, and the reference line sits above every point below it")
  func monotoneScaling() throws {
    let values: [Double] = [0, 10, 250, 251, 900, 1999, 3, 1200]
    let chart = LineChart(
      title: "t", series: [.init(name: "s", points: values.enumerated().map { .init(x: Double($0.offset), y: $0.element) })],
      references: [.init(label: "limit", y: 2048)])
    let xml = ParsedXML(chart.svg())
    #expect(xml.wellFormed)
    let line = try #require(Self.polylines(xml).first)
    let pixels = Self.coordinates(line).map(\.y)
    #expect(pixels.count == values.count)
    for i in values.indices {
      for j in values.indices where values[i] < values[j] {
        #expect(pixels[i] > pixels[j], "\(values[i]) drawn at \(pixels[i]), \(values[j]) at \(pixels[j])")
      }
    }
    let reference = try #require(xml.elements.first { $0.name == "line" && $0.attributes["class"] == "reference" })
    let referenceY = try #require(Double(reference.attributes["y1"] ?? ""))
    #expect(pixels.allSatisfy { $0 > referenceY })
    // The reference line is inside the plot: the y axis reaches above 2048.
    let plotTop = xml.elements.filter { $0.name == "line" && $0.attributes["class"] == nil }.compactMap { Double($0.attributes["y1"] ?? "") }.min()
    #expect(referenceY > (try #require(plotTop)))
  }

  @Test("line chart: titles, names and labels with markup characters are escaped and read back unchanged")
  func escapes() throws {
    let nasty = ChartTests.nasty
    let chart = LineChart(
      title: nasty, subtitle: "<sub> & co",
      series: [.init(name: "<&series>", points: [.init(x: 1, y: 2, label: "a&b<c")])],
      xLabel: "x & y", yLabel: "\"y\"", references: [.init(label: "<ref>", y: 3)])
    let svg = chart.svg()
    #expect(!svg.contains("a<b") && !svg.contains("<&series>") && !svg.contains("<sub>"))
    let xml = ParsedXML(svg)
    #expect(xml.wellFormed, "\(String(describing: xml.error))")
    #expect(xml.texts.filter { $0 == nasty }.count == 2)  // <title> and heading
    for text in ["<sub> & co", "<&series>", "x & y", "\"y\"", "<ref>", "<&series>: a&b<c, 2"] {
      #expect(xml.texts.contains(text), "\(text)")
    }
    #expect(Self.polylines(xml).first?.attributes["data-series"] == "<&series>")
  }

  @Test("line chart: no points still draws a valid chart; ticks are nice and whole for call numbers")
  func emptyAndTicks() throws {
    let empty = ParsedXML(LineChart(title: "none", series: [.init(name: "s", points: [])]).svg())
    #expect(empty.wellFormed)
    #expect(empty.texts.contains("no points"))
    #expect(LineChart.ticks(from: 0, to: 2500) == [0, 500, 1000, 1500, 2000, 2500])
    #expect(LineChart.ticks(from: 1, to: 3, count: 8, integers: true) == [1, 2, 3])
    #expect(LineChart.ticks(from: 1, to: 40, count: 8, integers: true) == [5, 10, 15, 20, 25, 30, 35, 40])
  }

  @Test("model-call chart: x is the call number, prompt and prompt+answer series, context window as reference")
  func modelCalls() throws {
    let chart = LineChart.modelCalls(
      title: "infty: \u{201C}what <happens>?\u{201D}", labels: ["segment 1", "summary 1", "segment 2", "answer"],
      promptTokens: [900, 300, 1500, 700], answerTokens: [64, 32, 64, 128], contextLength: 2048)
    #expect(chart.series.map(\.name) == ["prompt tokens", "prompt + answer tokens"])
    #expect(chart.series[0].points.map(\.x) == [1, 2, 3, 4])
    #expect(chart.series[0].points.map(\.y) == [900, 300, 1500, 700])
    #expect(chart.series[1].points.map(\.y) == [964, 332, 1564, 828])
    #expect(chart.series[0].points[2].label == "call 3 (segment 2)")
    #expect(chart.references == [.init(label: "context window 2048", y: 2048)])
    let xml = ParsedXML(chart.svg())
    #expect(xml.wellFormed)
    #expect(Self.polylines(xml).map { Self.coordinates($0).count } == [4, 4])
    #expect(LineChart.modelCalls(title: "t", labels: [], promptTokens: [], answerTokens: [], contextLength: nil).references.isEmpty)
  }
}
