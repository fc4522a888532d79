/// One self-contained HTML page: a title, the command that produced it, and sections holding
/// inline SVG charts, tables and notes. No scripts, no external files: the page can be mailed
/// or committed as is.
///
///     var report = HTMLReport(title: "tome bench niah", command: "tome bench niah --lengths 4k")
///     report.sections.append(.init(title: "Accuracy", svg: heatmap.svg(), table: table))
///     try report.html().write(to: url, atomically: true, encoding: .utf8)
public struct HTMLReport: Sendable, Hashable {
  /// A table: a header row and body rows of plain text cells.
  public struct Table: Sendable, Hashable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]]) {
      self.header = header
      self.rows = rows
    }
  }

  /// One titled part of the page.
  public struct Section: Sendable, Hashable {
    public var title: String
    /// Paragraphs of plain text shown under the title.
    public var notes: [String]
    /// An SVG document (from `Heatmap.svg()` or `BarChart.svg()`), embedded inline.
    public var svg: String?
    public var tables: [Table]

    public init(title: String, notes: [String] = [], svg: String? = nil, tables: [Table] = []) {
      self.title = title
      self.notes = notes
      self.svg = svg
      self.tables = tables
    }

    public init(title: String, notes: [String] = [], svg: String? = nil, table: Table) {
      self.init(title: title, notes: notes, svg: svg, tables: [table])
    }
  }

  public var title: String
  /// The command line that produced the numbers, shown verbatim.
  public var command: String
  /// Lines under the command: date, machine, models.
  public var details: [String]
  public var sections: [Section]

  public init(title: String, command: String, details: [String] = [], sections: [Section] = []) {
    self.title = title
    self.command = command
    self.details = details
    self.sections = sections
  }

  /// The page.
  public func html() -> String {
    var out = """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <title>\(Markup.escape(title))</title>
      <style>
      body { font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
      h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
      pre { background: #f5f5f5; padding: 0.6em; overflow-x: auto; white-space: pre-wrap; }
      table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
      th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
      th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
      .chart { margin: 1em 0; overflow-x: auto; }
      </style>
      </head>
      <body>
      <h1>\(Markup.escape(title))</h1>
      <pre class="command">\(Markup.escape(command))</pre>

      """
    for line in details { out += "<p class=\"detail\">\(Markup.escape(line))</p>\n" }
    for section in sections {
      out += "<section>\n<h2>\(Markup.escape(section.title))</h2>\n"
      for note in section.notes { out += "<p>\(Markup.escape(note))</p>\n" }
      if let svg = section.svg { out += "<div class=\"chart\">\n\(svg)</div>\n" }
      for table in section.tables {
        out += "<table>\n<thead><tr>"
        for cell in table.header { out += "<th>\(Markup.escape(cell))</th>" }
        out += "</tr></thead>\n<tbody>\n"
        for row in table.rows {
          out += "<tr>" + row.map { "<td>\(Markup.escape($0))</td>" }.joined() + "</tr>\n"
        }
        out += "</tbody>\n</table>\n"
      }
      out += "</section>\n"
    }
    out += "</body>\n</html>\n"
    return out
  }
}
