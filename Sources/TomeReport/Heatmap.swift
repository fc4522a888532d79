/// A heatmap of values in 0…1: rows × columns of coloured cells with the value written in each,
/// axis labels, a title and a colour bar.
///
/// The needle-in-a-haystack picture is one: columns are context lengths, rows needle depths
/// (0 % at the top), and each cell is the share of answers that contained the needle.
///
///     let map = Heatmap(
///       title: "Needle in a haystack: passkey", columns: ["4k", "8k"], rows: ["0%", "100%"],
///       values: [[1, 1], [1, 0.5]], xLabel: "context length (tokens)", yLabel: "needle depth")
///     let svg = map.svg()
public struct Heatmap: Sendable, Hashable {
  public var title: String
  public var subtitle: String?
  public var columns: [String]
  public var rows: [String]
  /// `values[row][column]`; nil draws an empty (hatched grey) cell, e.g. a cell not run.
  public var values: [[Double?]]
  public var xLabel: String
  public var yLabel: String
  public var scale: ColorScale
  /// Label of the colour bar.
  public var legend: String

  public init(
    title: String, subtitle: String? = nil, columns: [String], rows: [String], values: [[Double?]], xLabel: String,
    yLabel: String, scale: ColorScale = .redToGreen, legend: String = "accuracy"
  ) {
    precondition(values.count == rows.count, "\(values.count) value rows for \(rows.count) row labels")
    precondition(values.allSatisfy { $0.count == columns.count }, "every row needs \(columns.count) values")
    self.title = title
    self.subtitle = subtitle
    self.columns = columns
    self.rows = rows
    self.values = values
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.scale = scale
    self.legend = legend
  }

  /// The chart as a standalone SVG document. Each cell is a `<rect class="cell">`.
  public func svg() -> String {
    let cellWidth = 64.0
    let cellHeight = 40.0
    let rowLabelWidth = max(40, Double(rows.map(\.count).max() ?? 0) * 7.5 + 12)
    let top = subtitle == nil ? 52.0 : 70.0
    let gridWidth = cellWidth * Double(columns.count)
    let gridHeight = cellHeight * Double(rows.count)
    let barWidth = 16.0
    // The plot (y label, row labels, grid, colour bar) is centred when the title is wider.
    let plotWidth = 36 + rowLabelWidth + max(gridWidth, Double(xLabel.count) * 7) + 100
    let width = max(plotWidth, Double(title.count) * 10 + 40, Double((subtitle ?? "").count) * 6.2 + 40)
    let left = (width - plotWidth) / 2 + 36 + rowLabelWidth + max(0, Double(xLabel.count) * 7 - gridWidth) / 2
    let height = top + gridHeight + 64

    // Pattern ids must be unique in a page that inlines several charts.
    let pattern = "empty-" + Markup.digest(title + (subtitle ?? "") + columns.joined() + rows.joined())
    var out = Markup.svgHeader(width: width, height: height, title: title)
    out += Markup.text(title, x: width / 2, y: 26, size: 16, weight: "bold")
    if let subtitle { out += Markup.text(subtitle, x: width / 2, y: 46, size: 11, fill: "#555555") }
    out += "<defs><pattern id=\"\(pattern)\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
    out += "<rect width=\"6\" height=\"6\" fill=\"#eeeeee\"/><path d=\"M0,6 L6,0\" stroke=\"#cccccc\" stroke-width=\"1\"/></pattern></defs>\n"

    for (r, row) in values.enumerated() {
      let y = top + Double(r) * cellHeight
      for (c, value) in row.enumerated() {
        let x = left + Double(c) * cellWidth
        let fill = value.map { scale.color($0).hex } ?? "url(#\(pattern))"
        out += "<rect class=\"cell\" x=\"\(Markup.number(x))\" y=\"\(Markup.number(y))\" width=\"\(Markup.number(cellWidth))\" "
        out += "height=\"\(Markup.number(cellHeight))\" fill=\"\(fill)\" stroke=\"#ffffff\" stroke-width=\"1.5\">"
        out += "<title>\(Markup.escape("\(rows[r]), \(columns[c]): \(Markup.fraction(value))"))</title></rect>\n"
        let ink = value.map { scale.color($0).luminance < 0.45 ? "#ffffff" : "#222222" } ?? "#888888"
        out += Markup.text(Markup.fraction(value), x: x + cellWidth / 2, y: y + cellHeight / 2 + 4, size: 12, fill: ink)
      }
      out += Markup.text(rows[r], x: left - 6, y: y + cellHeight / 2 + 4, size: 12, anchor: "end")
    }
    for (c, column) in columns.enumerated() {
      out += Markup.text(column, x: left + (Double(c) + 0.5) * cellWidth, y: top + gridHeight + 18, size: 12)
    }
    out += Markup.text(xLabel, x: left + gridWidth / 2, y: top + gridHeight + 42, size: 12, fill: "#444444")
    out += Markup.text(yLabel, x: left - rowLabelWidth - 18, y: top + gridHeight / 2, size: 12, fill: "#444444", rotate: -90)

    // Colour bar: 0 at the bottom, 1 at the top.
    let barX = left + gridWidth + 24
    let steps = 20
    let stepHeight = gridHeight / Double(steps)
    for s in 0..<steps {
      let value = (Double(steps - s) - 0.5) / Double(steps)
      out += "<rect x=\"\(Markup.number(barX))\" y=\"\(Markup.number(top + Double(s) * stepHeight))\" width=\"\(Markup.number(barWidth))\" "
      out += "height=\"\(Markup.number(stepHeight + 0.5))\" fill=\"\(scale.color(value).hex)\"/>\n"
    }
    out += "<rect x=\"\(Markup.number(barX))\" y=\"\(Markup.number(top))\" width=\"\(Markup.number(barWidth))\" height=\"\(Markup.number(gridHeight))\" fill=\"none\" stroke=\"#999999\"/>\n"
    out += Markup.text("1.0", x: barX + barWidth + 4, y: top + 10, size: 10, anchor: "start")
    out += Markup.text("0.0", x: barX + barWidth + 4, y: top + gridHeight, size: 10, anchor: "start")
    out += Markup.text(legend, x: barX + barWidth / 2, y: top + gridHeight + 18, size: 10, fill: "#444444")
    out += "</svg>\n"
    return out
  }
}
