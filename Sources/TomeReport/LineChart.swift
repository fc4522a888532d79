/// A line chart: one or more series of (x, y) points joined by straight lines, with a marker
/// on each point, ticked axes with titles, optional horizontal reference lines and a legend.
///
/// `tome ask --plot` draws the prompt size of each model call in order: a strategy that reads a
/// long document in segments rises and falls (the "sawtooth"), and a reference line shows the
/// model's context window it must stay under (`LineChart.modelCalls`).
///
/// The y axis starts at 0 (or lower, for negative values) and ends at a rounded value above the
/// largest point or reference line, so a larger value is always drawn higher.
///
///     let chart = LineChart(
///       title: "Prompt tokens per call",
///       series: [.init(name: "prompt", points: [.init(x: 1, y: 900), .init(x: 2, y: 1400)])],
///       xLabel: "model call", yLabel: "tokens", references: [.init(label: "context window 2048", y: 2048)])
///     let svg = chart.svg()
public struct LineChart: Sendable, Hashable {
  /// One point; `label` becomes the marker's tooltip (e.g. the model call's trace label).
  public struct Point: Sendable, Hashable {
    public var x: Double
    public var y: Double
    public var label: String?

    public init(x: Double, y: Double, label: String? = nil) {
      precondition(x.isFinite && y.isFinite, "a chart point needs finite coordinates (got \(x), \(y))")
      self.x = x
      self.y = y
      self.label = label
    }
  }

  /// A named line, drawn in the order of its points.
  public struct Series: Sendable, Hashable {
    public var name: String
    public var points: [Point]

    public init(name: String, points: [Point]) {
      self.name = name
      self.points = points
    }
  }

  /// A dashed horizontal line across the plot at `y`, labelled at its right end.
  public struct Reference: Sendable, Hashable {
    public var label: String
    public var y: Double

    public init(label: String, y: Double) {
      precondition(y.isFinite, "a reference line needs a finite value (got \(y))")
      self.label = label
      self.y = y
    }
  }

  public var title: String
  public var subtitle: String?
  public var series: [Series]
  public var xLabel: String
  public var yLabel: String
  public var references: [Reference]
  /// Size of the plotting area in SVG units (axes, titles and legend are drawn around it).
  public var plotWidth: Double
  public var plotHeight: Double

  public init(
    title: String, subtitle: String? = nil, series: [Series], xLabel: String = "", yLabel: String = "",
    references: [Reference] = [], plotWidth: Double = 560, plotHeight: Double = 260
  ) {
    precondition(plotWidth > 0 && plotHeight > 0, "the plot needs a positive size")
    self.title = title
    self.subtitle = subtitle
    self.series = series
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.references = references
    self.plotWidth = plotWidth
    self.plotHeight = plotHeight
  }

  /// The axes' value ranges: x over the points (widened by one unit when all share one x),
  /// y from 0 (or the lowest value) to a nice ceiling above every point and reference line.
  var bounds: (xMin: Double, xMax: Double, yMin: Double, yMax: Double) {
    let points = series.flatMap(\.points)
    var xMin = points.map(\.x).min() ?? 0
    var xMax = points.map(\.x).max() ?? 1
    if xMax - xMin < 1e-9 {
      xMin -= 1
      xMax += 1
    }
    let ys = points.map(\.y) + references.map(\.y)
    let low = min(0, ys.min() ?? 0)
    let high = ys.max() ?? 1
    let yMin = low < 0 ? -BarChart.niceCeiling(-low) : 0
    var yMax = high > 0 ? BarChart.niceCeiling(high) : 1
    // Room above a value that sits on the top grid line, so markers and labels stay inside.
    if yMax - high < (yMax - yMin) * 0.04 { yMax = BarChart.niceCeiling(high + (yMax - yMin) * 0.05) }
    return (xMin, xMax, yMin, yMax)
  }

  /// Tick values in `low...high`, at a step of 1, 2, 2.5 or 5 times a power of ten that gives
  /// at most about `count` ticks; whole-number steps only when `integers` is true.
  static func ticks(from low: Double, to high: Double, count: Int = 6, integers: Bool = false) -> [Double] {
    guard high > low, count > 0 else { return [low] }
    let raw = (high - low) / Double(count)
    var power = 1.0
    while power * 10 <= raw { power *= 10 }
    while power > raw { power /= 10 }
    var step = 10 * power
    for m in [1.0, 2, 2.5, 5, 10] where m * power >= raw {
      step = m * power
      break
    }
    if integers { step = max(1, step == 2.5 * power ? 5 * power : step).rounded(.up) }
    var values: [Double] = []
    var v = (low / step).rounded(.up) * step
    while v <= high + step * 1e-9 {
      values.append(abs(v) < step * 1e-9 ? 0 : v)
      v += step
    }
    return values
  }

  /// The chart as a standalone SVG document. Each series is one `<polyline class="series">`
  /// whose `points` attribute holds exactly the series' points in order, plus one
  /// `<circle class="point">` marker per point; reference lines are `<line class="reference">`.
  public func svg() -> String {
    let (xMin, xMax, yMin, yMax) = bounds
    let left = 72.0
    let plotTop = subtitle == nil ? 52.0 : 70.0
    let legendNames = series.map(\.name) + references.map(\.label)
    let legendWidth = 40 + Double(legendNames.map(\.count).max() ?? 0) * 7
    let width = max(left + plotWidth + 16 + legendWidth, Double(title.count) * 9 + 40)
    let height = plotTop + plotHeight + 52

    // The first and last points sit a little inside the plot, off the y axis.
    let inset = min(10, plotWidth / 10)
    func px(_ x: Double) -> Double { left + inset + (plotWidth - 2 * inset) * (x - xMin) / (xMax - xMin) }
    func py(_ y: Double) -> Double { plotTop + plotHeight * (1 - (y - yMin) / (yMax - yMin)) }
    func n(_ v: Double) -> String { Markup.number(v) }

    var out = Markup.svgHeader(width: width, height: height, title: title)
    out += Markup.text(title, x: width / 2, y: 26, size: 16, weight: "bold")
    if let subtitle { out += Markup.text(subtitle, x: width / 2, y: 46, size: 11, fill: "#555555") }

    // Grid lines and tick labels.
    for value in Self.ticks(from: yMin, to: yMax) {
      let y = py(value)
      out += "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + plotWidth))\" y2=\"\(n(y))\" "
      out += "stroke=\"\(value == yMin ? "#444444" : "#dddddd")\" stroke-width=\"1\"/>\n"
      out += Markup.text(Markup.number(value), x: left - 6, y: y + 4, size: 11, anchor: "end", fill: "#444444")
    }
    let wholeX = series.allSatisfy { $0.points.allSatisfy { $0.x == $0.x.rounded() } }
    for value in Self.ticks(from: xMin, to: xMax, count: 8, integers: wholeX) {
      let x = px(value)
      out += "<line x1=\"\(n(x))\" y1=\"\(n(plotTop + plotHeight))\" x2=\"\(n(x))\" y2=\"\(n(plotTop + plotHeight + 5))\" "
      out += "stroke=\"#444444\" stroke-width=\"1\"/>\n"
      out += Markup.text(Markup.number(value), x: x, y: plotTop + plotHeight + 18, size: 11, fill: "#444444")
    }
    out += "<line x1=\"\(n(left))\" y1=\"\(n(plotTop))\" x2=\"\(n(left))\" y2=\"\(n(plotTop + plotHeight))\" "
    out += "stroke=\"#444444\" stroke-width=\"1\"/>\n"
    if !xLabel.isEmpty {
      out += Markup.text(xLabel, x: left + plotWidth / 2, y: plotTop + plotHeight + 40, size: 12, fill: "#444444")
    }
    if !yLabel.isEmpty {
      out += Markup.text(yLabel, x: 18, y: plotTop + plotHeight / 2, size: 12, fill: "#444444", rotate: -90)
    }

    // Reference lines, labelled just above their right end.
    for reference in references {
      let y = py(reference.y)
      out += "<line class=\"reference\" x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + plotWidth))\" y2=\"\(n(y))\" "
      out += "stroke=\"#b22222\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"><title>\(Markup.escape(reference.label))</title></line>\n"
      out += Markup.text(reference.label, x: left + plotWidth - 4, y: y - 5, size: 11, anchor: "end", fill: "#b22222")
    }

    // Series: a line through the points, then a marker with a tooltip on each.
    for (s, line) in series.enumerated() {
      let color = Palette.series[s % Palette.series.count].hex
      let points = line.points.map { "\(n(px($0.x))),\(n(py($0.y)))" }.joined(separator: " ")
      out += "<polyline class=\"series\" data-series=\"\(Markup.escape(line.name))\" fill=\"none\" stroke=\"\(color)\" "
      out += "stroke-width=\"2\" stroke-linejoin=\"round\" points=\"\(points)\"/>\n"
      for point in line.points {
        let tip = "\(line.name): \(point.label.map { $0 + ", " } ?? "")\(Markup.number(point.y))"
        out += "<circle class=\"point\" data-series=\"\(Markup.escape(line.name))\" cx=\"\(n(px(point.x)))\" "
        out += "cy=\"\(n(py(point.y)))\" r=\"3\" fill=\"\(color)\"><title>\(Markup.escape(tip))</title></circle>\n"
      }
    }
    if series.allSatisfy(\.points.isEmpty) {
      out += Markup.text("no points", x: left + plotWidth / 2, y: plotTop + plotHeight / 2, size: 13, fill: "#888888")
    }

    // Legend: a short line per series, a dashed one per reference line.
    let legendX = left + plotWidth + 16
    for (i, name) in legendNames.enumerated() {
      let y = plotTop + 10 + Double(i) * 18
      let isReference = i >= series.count
      let color = isReference ? "#b22222" : Palette.series[i % Palette.series.count].hex
      out += "<line x1=\"\(n(legendX))\" y1=\"\(n(y))\" x2=\"\(n(legendX + 20))\" y2=\"\(n(y))\" stroke=\"\(color)\" "
      out += "stroke-width=\"\(isReference ? "1.5" : "2")\"\(isReference ? " stroke-dasharray=\"6 4\"" : "")/>\n"
      out += Markup.text(name, x: legendX + 26, y: y + 4, size: 11, anchor: "start")
    }
    out += "</svg>\n"
    return out
  }
}

extension LineChart {
  /// The prompt size of each model call of one answer, in call order: x is the call number
  /// (1, 2, …), one series of prompt tokens and one of prompt + answer tokens, and the model's
  /// context window as the reference line.
  ///
  /// Takes plain arrays, one element per model call, so it needs no trace type: map an answer's
  /// model-call steps to their labels and token counts.
  ///
  /// - Parameters:
  ///   - labels: What each call was for ("segment 3", "answer"), shown in the markers' tooltips.
  ///   - promptTokens: Prompt tokens per call.
  ///   - answerTokens: Answer tokens per call; same count as `promptTokens`.
  ///   - contextLength: The model's context window in tokens, or nil for no reference line.
  public static func modelCalls(
    title: String, subtitle: String? = nil, labels: [String], promptTokens: [Int], answerTokens: [Int],
    contextLength: Int?
  ) -> LineChart {
    precondition(
      labels.count == promptTokens.count && answerTokens.count == promptTokens.count,
      "\(labels.count) labels, \(promptTokens.count) prompt and \(answerTokens.count) answer counts: one each per call")
    let prompt = promptTokens.enumerated().map { i, tokens in
      Point(x: Double(i + 1), y: Double(tokens), label: "call \(i + 1) (\(labels[i]))")
    }
    let total = zip(promptTokens, answerTokens).enumerated().map { i, pair in
      Point(x: Double(i + 1), y: Double(pair.0 + pair.1), label: "call \(i + 1) (\(labels[i]))")
    }
    return LineChart(
      title: title, subtitle: subtitle,
      series: [Series(name: "prompt tokens", points: prompt), Series(name: "prompt + answer tokens", points: total)],
      xLabel: "model call", yLabel: "tokens",
      references: contextLength.map { [Reference(label: "context window \($0)", y: Double($0))] } ?? [])
  }
}
