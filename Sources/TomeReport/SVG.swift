/// Text escaping and small helpers shared by the charts and the HTML report.
///
/// Every piece of caller text (titles, labels, table cells, the command line) goes through
/// `escape`, so a label such as `a<b & "c"` renders as written and never breaks the markup.
public enum Markup {
  /// `text` with the five XML special characters replaced by entities; control characters
  /// other than tab and newline (not allowed in XML 1.0) are dropped.
  public static func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
      default:
        if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) { continue }
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// A number for an SVG attribute: at most two decimals, no trailing zeros, never "-0".
  static func number(_ value: Double) -> String {
    let rounded = (value * 100).rounded() / 100
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    var text = String(rounded)
    while text.hasSuffix("0") { text.removeLast() }
    return text
  }

  /// A value in 0…1 formatted for a cell or bar label: "0.83", or "–" for nil.
  public static func fraction(_ value: Double?, digits: Int = 2) -> String {
    guard let value, value.isFinite else { return "–" }
    let scale = pow10(digits)
    let v = (value * scale).rounded() / scale
    var text = String(v)
    if let dot = text.firstIndex(of: ".") {
      let decimals = text.distance(from: dot, to: text.endIndex) - 1
      if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    } else if digits > 0 {
      text += "." + String(repeating: "0", count: digits)
    }
    return text
  }

  /// A short stable hex digest (FNV-1a, 32 bits) for element ids.
  static func digest(_ text: String) -> String {
    var hash: UInt32 = 2_166_136_261
    for byte in text.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
    let digits = Array("0123456789abcdef")
    return String((0..<8).map { digits[Int((hash >> (28 - 4 * UInt32($0))) & 15)] })
  }

  private static func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { r, _ in r * 10 } }

  /// The opening `<svg>` element with a white background and the shared font.
  static func svgHeader(width: Double, height: Double, title: String) -> String {
    """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(number(width))" height="\(number(height))" \
    viewBox="0 0 \(number(width)) \(number(height))" font-family="Helvetica, Arial, sans-serif" role="img">
    <title>\(escape(title))</title>
    <rect x="0" y="0" width="\(number(width))" height="\(number(height))" fill="#ffffff"/>

    """
  }

  /// One `<text>` element.
  static func text(
    _ content: String, x: Double, y: Double, size: Double = 12, anchor: String = "middle", weight: String? = nil,
    fill: String = "#222222", rotate: Double? = nil, className: String? = nil
  ) -> String {
    var attributes = "x=\"\(number(x))\" y=\"\(number(y))\" font-size=\"\(number(size))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\""
    if let weight { attributes += " font-weight=\"\(weight)\"" }
    if let rotate { attributes += " transform=\"rotate(\(number(rotate)) \(number(x)) \(number(y)))\"" }
    if let className { attributes += " class=\"\(className)\"" }
    return "<text \(attributes)>\(escape(content))</text>\n"
  }
}

/// An sRGB colour.
public struct RGB: Sendable, Hashable {
  public var red: Double
  public var green: Double
  public var blue: Double

  public init(_ red: Double, _ green: Double, _ blue: Double) {
    self.red = red
    self.green = green
    self.blue = blue
  }

  /// `#rrggbb`.
  public var hex: String {
    func byte(_ v: Double) -> String {
      let b = Int((min(max(v, 0), 1) * 255).rounded())
      let digits = Array("0123456789abcdef")
      return String([digits[b >> 4], digits[b & 15]])
    }
    return "#" + byte(red) + byte(green) + byte(blue)
  }

  /// Relative luminance (for choosing dark or light text on top).
  var luminance: Double { 0.2126 * red + 0.7152 * green + 0.0722 * blue }

  static func mix(_ a: RGB, _ b: RGB, _ t: Double) -> RGB {
    RGB(a.red + (b.red - a.red) * t, a.green + (b.green - a.green) * t, a.blue + (b.blue - a.blue) * t)
  }
}

/// A colour scale over 0…1 through evenly spaced stops.
public struct ColorScale: Sendable, Hashable {
  public var stops: [RGB]

  public init(stops: [RGB]) {
    precondition(stops.count >= 2, "a colour scale needs two stops")
    self.stops = stops
  }

  /// Red (0) through amber to green (1): the usual needle-in-a-haystack picture.
  public static let redToGreen = ColorScale(stops: [
    RGB(0.84, 0.19, 0.15), RGB(0.99, 0.68, 0.38), RGB(1.0, 0.95, 0.60), RGB(0.65, 0.85, 0.42), RGB(0.10, 0.60, 0.31),
  ])

  /// The colour of `value` (clamped to 0…1).
  public func color(_ value: Double) -> RGB {
    let v = value.isFinite ? min(max(value, 0), 1) : 0
    let position = v * Double(stops.count - 1)
    let i = min(Int(position), stops.count - 2)
    return RGB.mix(stops[i], stops[i + 1], position - Double(i))
  }
}

/// Fixed series colours for bar charts (colour-blind friendly, Okabe–Ito).
public enum Palette {
  public static let series: [RGB] = [
    RGB(0.00, 0.45, 0.70), RGB(0.90, 0.62, 0.00), RGB(0.00, 0.62, 0.45), RGB(0.80, 0.47, 0.65),
    RGB(0.34, 0.71, 0.91), RGB(0.84, 0.37, 0.00), RGB(0.94, 0.89, 0.26), RGB(0.40, 0.40, 0.40),
  ]
}
