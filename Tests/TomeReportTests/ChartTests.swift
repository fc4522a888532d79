import Foundation
import Testing
@testable import TomeReport

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Parses XML with Foundation's `XMLParser` and keeps what the tests look at.
final class ParsedXML: NSObject, XMLParserDelegate {
  struct Element {
    var name: String
    var attributes: [String: String]
  }
  var elements: [Element] = []
  var texts: [String] = []
  var error: (any Error)?
  private var current = ""

  init(_ text: String) {
    super.init()
    let parser = XMLParser(data: Data(text.utf8))
    parser.delegate = self
    if !parser.parse() { error = parser.parserError ?? CocoaError(.coderReadCorrupt) }
  }

  var wellFormed: Bool { error == nil }
  func count(_ name: String, class className: String? = nil) -> Int {
    elements.filter { $0.name == name && (className == nil || $0.attributes["class"] == className) }.count
  }

  func parser(
    _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
    attributes attributeDict: [String: String] = [:]
  ) {
    elements.append(Element(name: elementName, attributes: attributeDict))
    current = ""
  }
  func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }
  func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
    if elementName == "text" || elementName == "title" { texts.append(current) }
    current = ""
  }
}

@Suite struct ChartTests {
  static let nasty = "a<b & \"c\" 'd' > e"

  @Test("heatmap: well-formed SVG with one cell per value and the values written in")
  func heatmapCells() throws {
    let map = Heatmap(
      title: "Needle in a haystack", columns: ["4k", "8k", "16k"], rows: ["0%", "50%", "100%", "25%"],
      values: [[1, 0.5, nil], [0, 1, 1], [0.25, 0.75, 1], [1, 1, 1]], xLabel: "length", yLabel: "depth")
    let xml = ParsedXML(map.svg())
    #expect(xml.wellFormed, "\(String(describing: xml.error))")
    #expect(xml.elements.first?.name == "svg")
    #expect(xml.count("rect", class: "cell") == 12)
    #expect(xml.texts.contains("0.50") && xml.texts.contains("0.25") && xml.texts.contains("–"))
    for label in ["4k", "8k", "16k", "0%", "50%", "100%", "length", "depth"] { #expect(xml.texts.contains(label), "\(label)") }
  }

  @Test("heatmap: labels and title with markup characters are escaped and read back unchanged")
  func heatmapEscapes() throws {
    let map = Heatmap(
      title: Self.nasty, subtitle: Self.nasty, columns: [Self.nasty], rows: ["<row>"], values: [[0.9]], xLabel: "x & y",
      yLabel: "\"depth\"")
    let svg = map.svg()
    #expect(!svg.contains("a<b"))
    let xml = ParsedXML(svg)
    #expect(xml.wellFormed, "\(String(describing: xml.error))")
    #expect(xml.texts.filter { $0 == Self.nasty }.count >= 3)  // <title>, heading, subtitle, column
    #expect(xml.texts.contains("<row>") && xml.texts.contains("x & y") && xml.texts.contains("\"depth\""))
  }

  @Test("heatmap colours run from red at 0 to green at 1")
  func colourScale() {
    let low = ColorScale.redToGreen.color(0)
    let high = ColorScale.redToGreen.color(1)
    #expect(low.red > low.green && high.green > high.red)
    #expect(ColorScale.redToGreen.color(-3) == low && ColorScale.redToGreen.color(7) == high)
    #expect(RGB(1, 0, 0.5).hex == "#ff0080")
  }

  @Test("bar chart: one bar per non-nil value, legend per series, escaped labels")
  func barChart() throws {
    let chart = BarChart(
      title: "Retrieval on <squad>", categories: ["bm25", "dense", Self.nasty], series: ["R@1", "R@5", "MRR", "nDCG@10"],
      values: [[0.5, 0.7, 0.6, 0.65], [0.4, nil, 0.5, 0.55], [0.6, 0.8, 0.7, 0.72]], yLabel: "score")
    let svg = chart.svg()
    let xml = ParsedXML(svg)
    #expect(xml.wellFormed, "\(String(describing: xml.error))")
    #expect(xml.count("rect", class: "bar") == 11)
    for label in ["R@1", "R@5", "MRR", "nDCG@10", "bm25", "dense", Self.nasty, "Retrieval on <squad>", "0.70"] {
      #expect(xml.texts.contains(label), "\(label)")
    }
  }

  @Test("bar chart axis: fractions top out at 1, larger values at a round number")
  func axis() throws {
    #expect(abs(BarChart.niceCeiling(0.8) - 1) < 1e-9 && BarChart.niceCeiling(37) == 50 && BarChart.niceCeiling(180) == 200)
    let chart = BarChart(title: "t", categories: ["a"], series: ["ms"], values: [[37]])
    let xml = ParsedXML(chart.svg())
    #expect(xml.wellFormed)
    #expect(xml.texts.contains("50"))
  }

  @Test("HTML report: inline SVGs, escaped command and tables")
  func htmlReport() throws {
    let map = Heatmap(title: "map", columns: ["4k"], rows: ["0%"], values: [[1]], xLabel: "x", yLabel: "y")
    let bars = BarChart(title: "bars", categories: ["a", "b"], series: ["s"], values: [[0.1], [0.2]])
    let page = HTMLReport(
      title: "bench <report>", command: "tome bench niah --kinds 'a&b' <x>", details: ["seed 42"],
      sections: [
        .init(title: "Accuracy", notes: ["1 < 2"], svg: map.svg(), table: .init(header: ["length", "acc"], rows: [["4k", "1.00"], ["<8k>", "0.50"]])),
        .init(title: "Bars", svg: bars.svg()),
      ])
    let html = page.html()
    #expect(html.hasPrefix("<!DOCTYPE html>"))
    #expect(html.contains("tome bench niah --kinds &apos;a&amp;b&apos; &lt;x&gt;"))
    #expect(html.contains("<title>bench &lt;report&gt;</title>"))
    #expect(html.components(separatedBy: "<svg ").count - 1 == 2)
    #expect(html.components(separatedBy: "<tr>").count - 1 == 3)
    #expect(html.contains("<td>&lt;8k&gt;</td>") && html.contains("<p>1 &lt; 2</p>"))
    // Each embedded SVG is itself well-formed.
    for svg in [map.svg(), bars.svg()] {
      let start = try #require(html.range(of: svg))
      #expect(ParsedXML(String(html[start])).wellFormed)
    }
  }

  @Test("escaping drops characters XML 1.0 forbids")
  func controlCharacters() {
    #expect(Markup.escape("a\u{01}b\u{1B}[0m\tc") == "ab[0m\tc")
    #expect(ParsedXML("<t>\(Markup.escape("x\u{0}y&"))</t>").wellFormed)
  }
}
