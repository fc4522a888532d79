/// A grouped bar chart: for each category a group of bars, one per series, with a legend,
/// a y axis with grid lines, and each bar's value written above it.
///
/// `tome bench retrieval` draws retrieval modes as categories and R@1/R@5/MRR/nDCG@10 as series;
/// `tome bench longembed` draws lengths as categories and long-input modes as series.
///
///     let chart = BarChart(
///       title: "Retrieval on SQuAD", categories: ["bm25", "dense", "hybrid"],
///       series: ["R@1", "MRR"], values: [[0.5, 0.6], [0.55, 0.65], [0.6, 0.7]])
public struct BarChart: Sendable, Hashable {
  public var title: String
  public var subtitle: String?
  public var categories: [String]
  public var series: [String]
  /// `values[category][series]`; nil leaves a gap.
  public var values: [[Double?]]
  public var yLabel: String
  /// Top of the y axis; nil picks 1.0 for fractions, else a rounded maximum.
  public var yMaximum: Double?
  /// Digits after the point in the bar labels.
  public var digits: Int

  public init(
    title: String, subtitle: String? = nil, categories: [String], series: [String], values: [[Double?]],
    yLabel: String = "", yMaximum: Double? = nil, digits: Int = 2
  ) {
    precondition(values.count == categories.count, "\(values.count) value groups for \(categories.count) categories")
    precondition(values.allSatisfy { $0.count == series.count }, "every group needs \(series.count) values")
    self.title = title
    self.subtitle = subtitle
    self.categories = categories
    self.series = series
    self.values = values
    self.yLabel = yLabel
    self.yMaximum = yMaximum
    self.digits = digits
  }

  /// A "nice" axis top: 1, 2, 2.5 or 5 times a power of ten, at least `value`.
  static func niceCeiling(_ value: Double) -> Double {
    guard value > 0, value.isFinite else { return 1 }
    var power = 1.0
    while power * 10 <= value { power *= 10 }
    while power > value { power /= 10 }
    for m in [1.0, 2, 2.5, 5, 10] where m * power >= value { return m * power }
    return 10 * power
  }

  /// The chart as a standalone SVG document. Each bar is a `<rect class="bar">`.
  public func svg() -> String {
    let all = values.flatMap { $0 }.compactMap { $0 }.filter(\.isFinite)
    let top = yMaximum ?? ((all.max() ?? 1) <= 1 ? 1 : Self.niceCeiling(all.max() ?? 1))
    let barWidth = 22.0
    let gap = 4.0
    let groupWidth = Double(series.count) * (barWidth + gap) + 26
    let left = 64.0
    let plotTop = subtitle == nil ? 56.0 : 74.0
    let plotHeight = 240.0
    let plotWidth = groupWidth * Double(categories.count)
    let legendWidth = 28 + Double(series.map(\.count).max() ?? 0) * 8
    let width = max(left + plotWidth + legendWidth + 24, Double(title.count) * 10 + 40)
    let height = plotTop + plotHeight + 36

    var out = Markup.svgHeader(width: width, height: height, title: title)
    out += Markup.text(title, x: width / 2, y: 26, size: 16, weight: "bold")
    if let subtitle { out += Markup.text(subtitle, x: width / 2, y: 46, size: 11, fill: "#555555") }
    // Grid and y ticks.
    for t in 0...5 {
      let value = top * Double(t) / 5
      let y = plotTop + plotHeight * (1 - Double(t) / 5)
      out += "<line x1=\"\(Markup.number(left))\" y1=\"\(Markup.number(y))\" x2=\"\(Markup.number(left + plotWidth))\" y2=\"\(Markup.number(y))\" "
      out += "stroke=\"\(t == 0 ? "#444444" : "#dddddd")\" stroke-width=\"1\"/>\n"
      out += Markup.text(Self.tick(value), x: left - 6, y: y + 4, size: 11, anchor: "end", fill: "#444444")
    }
    if !yLabel.isEmpty {
      out += Markup.text(yLabel, x: 18, y: plotTop + plotHeight / 2, size: 12, fill: "#444444", rotate: -90)
    }
    for (c, category) in categories.enumerated() {
      let groupX = left + Double(c) * groupWidth + 13
      for (s, value) in values[c].enumerated() {
        guard let value, value.isFinite else { continue }
        let h = plotHeight * min(max(value / top, 0), 1)
        let x = groupX + Double(s) * (barWidth + gap)
        let y = plotTop + plotHeight - h
        out += "<rect class=\"bar\" x=\"\(Markup.number(x))\" y=\"\(Markup.number(y))\" width=\"\(Markup.number(barWidth))\" "
        out += "height=\"\(Markup.number(h))\" fill=\"\(Palette.series[s % Palette.series.count].hex)\">"
        out += "<title>\(Markup.escape("\(category), \(series[s]): \(Markup.fraction(value, digits: digits))"))</title></rect>\n"
        out += Markup.text(
          Markup.fraction(value, digits: digits), x: x + barWidth / 2, y: y - 3, size: 8, fill: "#333333")
      }
      let center = groupX + (Double(series.count) * (barWidth + gap) - gap) / 2
      out += Markup.text(category, x: center, y: plotTop + plotHeight + 18, size: 12)
    }
    // Legend.
    let legendX = left + plotWidth + 16
    for (s, name) in series.enumerated() {
      let y = plotTop + 4 + Double(s) * 18
      out += "<rect x=\"\(Markup.number(legendX))\" y=\"\(Markup.number(y))\" width=\"12\" height=\"12\" fill=\"\(Palette.series[s % Palette.series.count].hex)\"/>\n"
      out += Markup.text(name, x: legendX + 18, y: y + 10, size: 11, anchor: "start")
    }
    out += "</svg>\n"
    return out
  }

  static func tick(_ value: Double) -> String {
    value == value.rounded() && value >= 10 ? String(Int(value)) : Markup.fraction(value, digits: value < 10 ? 1 : 0)
  }
}
