/// What a chart shows, independent of how it is drawn: stacked panels sharing the x axis, each
/// with its series, and one legend. `CairoChartRenderer` draws it to SVG or PNG.
public struct Chart: Sendable {
    /// Title above everything.
    public var title: String
    /// Size in pixels (SVG user units).
    public var width: Int, height: Int
    /// Label of the shared x axis (under the last panel).
    public var xLabel: String
    /// Panels, top to bottom.
    public var panels: [ChartPanel]
    /// Legend entries, in order.
    public var legend: [ChartLegendEntry]
    /// Whether the x axis starts at 0 at most (steps, trial numbers), rather than at the data.
    public var xFromZero: Bool

    /// A chart.
    public init(title: String, width: Int, height: Int, xLabel: String, panels: [ChartPanel], legend: [ChartLegendEntry],
                xFromZero: Bool = true) {
        self.title = title; self.width = width; self.height = height; self.xLabel = xLabel
        self.panels = panels; self.legend = legend; self.xFromZero = xFromZero
    }

    /// The x range of all panels' finite points, or nil when there are none.
    public var xRange: ClosedRange<Double>? {
        let xs = panels.flatMap { $0.series.flatMap { $0.points.map(\.x) } }.filter(\.isFinite)
        guard let lo = xs.min(), let hi = xs.max() else { return nil }
        return lo...hi
    }
}

/// One plot area: a title, a y axis and the series drawn in it.
public struct ChartPanel: Sendable {
    /// Title above the plot area.
    public var title: String
    /// Label of the y axis.
    public var yLabel: String
    /// Logarithmic y axis (points ≤ 0 are left out).
    public var logY: Bool
    /// Relative height among the panels.
    public var weight: Double
    /// The lines, drawn in order.
    public var series: [ChartSeries]

    /// A panel.
    public init(title: String, yLabel: String, logY: Bool = false, weight: Double = 1, series: [ChartSeries]) {
        self.title = title; self.yLabel = yLabel; self.logY = logY; self.weight = weight; self.series = series
    }

    /// The y range of the points that can be drawn (finite, and > 0 on a log axis), or nil.
    public var yRange: ClosedRange<Double>? {
        let ys = series.flatMap { $0.points.map(\.y) }.filter { $0.isFinite && (!logY || $0 > 0) }
        guard let lo = ys.min(), let hi = ys.max() else { return nil }
        return lo...hi
    }
}

/// A point of a series; a non-finite y (or x) breaks the line there.
public struct ChartPoint: Sendable, Equatable {
    /// Position on the x axis.
    public var x: Double
    /// Position on the y axis.
    public var y: Double

    /// A point.
    public init(x: Double, y: Double) { self.x = x; self.y = y }
}

/// How a series' line looks.
public struct ChartStyle: Sendable, Equatable {
    /// Line colour.
    public var color: ChartColor
    /// Dashed rather than solid.
    public var dashed: Bool
    /// A dot at every point.
    public var markers: Bool
    /// A line through the points (false with markers: a scatter).
    public var lines: Bool

    /// A style.
    public init(color: ChartColor, dashed: Bool = false, markers: Bool = false, lines: Bool = true) {
        self.color = color; self.dashed = dashed; self.markers = markers; self.lines = lines
    }
}

/// A polyline through points, in one style.
public struct ChartSeries: Sendable {
    /// What the series is (for a legend or a reader of the model).
    public var label: String
    /// Its look.
    public var style: ChartStyle
    /// Its points, in drawing order.
    public var points: [ChartPoint]

    /// A series.
    public init(label: String, style: ChartStyle, points: [ChartPoint]) {
        self.label = label; self.style = style; self.points = points
    }
}

/// A legend line: a sample of a style and its text.
public struct ChartLegendEntry: Sendable, Equatable {
    /// The text.
    public var label: String
    /// The style shown next to it.
    public var style: ChartStyle

    /// A legend entry.
    public init(label: String, style: ChartStyle) { self.label = label; self.style = style }
}

/// An sRGB colour, components in [0, 1].
public struct ChartColor: Sendable, Equatable {
    /// Red, green, blue.
    public var red: Double, green: Double, blue: Double

    /// A colour from 0–255 components.
    public init(_ red: Int, _ green: Int, _ blue: Int) {
        self.red = Double(red) / 255; self.green = Double(green) / 255; self.blue = Double(blue) / 255
    }

    /// Ten well-separated hues (Tableau 10, matplotlib's default colour cycle), for the runs of
    /// a comparison in order.
    public static let palette: [ChartColor] = [
        ChartColor(31, 119, 180), ChartColor(255, 127, 14), ChartColor(44, 160, 44), ChartColor(214, 39, 40),
        ChartColor(148, 103, 189), ChartColor(140, 86, 75), ChartColor(227, 119, 194), ChartColor(127, 127, 127),
        ChartColor(188, 189, 34), ChartColor(23, 190, 207),
    ]
    /// Text and the style samples of the legend.
    public static let neutral = ChartColor(68, 68, 68)
}
