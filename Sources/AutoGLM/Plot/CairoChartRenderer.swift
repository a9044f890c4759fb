import CCairo
import Foundation

/// Draws a `Chart` with cairo and writes it as SVG or PNG. Layout, top to bottom: the title,
/// the legend (wrapped into rows), then the panels, which share the x axis and its ticks; each
/// has its title, a grid at the ticks, a y axis (linear with nice numbers, or logarithmic) and
/// its series clipped to the plot area. Sizes scale with the chart (the reference is
/// 1200 × 800; text never shrinks below 0.8 of its reference size).
public enum CairoChartRenderer {
    /// An output format.
    public enum Format: String, Sendable, CaseIterable {
        /// Scalable vector graphics (text as glyph outlines).
        case svg
        /// A 32-bit RGBA image.
        case png
    }

    /// Draws `chart` and writes it to `path` in `format`; an error names the file.
    public static func write(_ chart: Chart, format: Format, to path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PlotError("cannot write '\(path)': the directory '\(directory)' does not exist")
        }
        guard chart.width > 0, chart.height > 0 else {
            throw PlotError("cannot draw a \(chart.width)x\(chart.height) chart: width and height must be positive")
        }
        let surface: OpaquePointer
        switch format {
        case .svg:
            surface = cairo_svg_surface_create(path, Double(chart.width), Double(chart.height))
            cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_USER)  // width="1200", not "1200pt"
        case .png:
            surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(chart.width), Int32(chart.height))
        }
        defer { cairo_surface_destroy(surface) }
        try check(cairo_surface_status(surface), path)
        let cr = cairo_create(surface)!
        ChartPainter(cr: cr, chart: chart).draw()
        let drawn = cairo_status(cr)
        cairo_destroy(cr)
        try check(drawn, path)
        if format == .png { try check(cairo_surface_write_to_png(surface, path), path) }
        cairo_surface_finish(surface)
        try check(cairo_surface_status(surface), path)
    }

    /// Throws a PlotError naming `path` unless `status` is success.
    private static func check(_ status: cairo_status_t, _ path: String) throws {
        guard status != CAIRO_STATUS_SUCCESS else { return }
        throw PlotError("cannot write '\(path)': \(String(cString: cairo_status_to_string(status)))")
    }
}

/// One drawing of a chart on a cairo context.
private struct ChartPainter {
    /// The cairo context (cairo_t *), borrowed for the drawing.
    let cr: OpaquePointer
    /// What to draw.
    let chart: Chart
    /// Scale of every size against the 1200 × 800 reference.
    let s: Double

    /// A painter of `chart` on `cr`.
    init(cr: OpaquePointer, chart: Chart) {
        self.cr = cr
        self.chart = chart
        s = min(max(min(Double(chart.width) / 1200, Double(chart.height) / 800), 0.8), 4)  // text stays legible
    }

    // Sizes at the reference scale.
    private var margin: Double { 20 * s }
    private var titleSize: Double { 22 * s }
    private var panelTitleSize: Double { 15 * s }
    private var tickSize: Double { 12.5 * s }
    private var labelSize: Double { 14 * s }
    private var legendRow: Double { 24 * s }

    /// A plot area and the axes of one panel.
    private struct PanelFrame {
        var panel: ChartPanel
        var rect: (x: Double, y: Double, width: Double, height: Double)
        var y: AxisTicks
    }

    /// Draws the whole chart.
    func draw() {
        setColor(ChartColor(255, 255, 255))
        cairo_paint(cr)
        var top = margin
        text(chart.title, x: Double(chart.width) / 2, baseline: top + titleSize * 0.8, size: titleSize, bold: true, align: 0.5)
        top += titleSize * 1.5

        let xTicks = chart.xRange.map { AxisTicks.linear(min: chart.xFromZero ? min($0.lowerBound, 0) : $0.lowerBound, max: $0.upperBound, count: 8) }
            ?? AxisTicks.linear(min: 0, max: 1)
        let yTicks = chart.panels.map(axis)
        let widest = yTicks.flatMap(\.labels).map { textWidth($0, size: tickSize) }.max() ?? 0
        let left = margin + labelSize * 1.6 + widest + 10 * s
        let right = Double(chart.width) - margin - 12 * s
        top = drawLegend(left: left, right: right, top: top) + 6 * s

        // Each panel: title above, plot, x tick labels below; the x label under the last one.
        let titleSpace = panelTitleSize * 1.8, tickSpace = tickSize * 2, gap = 12 * s
        let bottom = Double(chart.height) - margin - labelSize * 1.4
        let overhead = Double(chart.panels.count) * (titleSpace + tickSpace) + Double(max(chart.panels.count - 1, 0)) * gap
        let plotHeight = max(bottom - top - overhead, Double(chart.panels.count) * 10)
        let totalWeight = chart.panels.map(\.weight).reduce(0, +)
        var y = top
        for (panel, ticks) in zip(chart.panels, yTicks) {
            let height = plotHeight * panel.weight / max(totalWeight, 1e-9)
            let frame = PanelFrame(panel: panel, rect: (left, y + titleSpace, right - left, height), y: ticks)
            drawPanel(frame, xTicks: xTicks)
            y += titleSpace + height + tickSpace + gap
        }
        text(chart.xLabel, x: (left + right) / 2, baseline: bottom + labelSize * 0.9, size: labelSize, align: 0.5)
    }

    /// The y axis of a panel: over its drawable points, linear or logarithmic.
    private func axis(_ panel: ChartPanel) -> AxisTicks {
        guard let range = panel.yRange else { return AxisTicks.linear(min: 0, max: 1) }
        return panel.logY ? AxisTicks.logarithmic(min: range.lowerBound, max: range.upperBound)
            : AxisTicks.linear(min: range.lowerBound, max: range.upperBound)
    }

    /// Draws the legend rows between `left` and `right`; returns the y below them.
    private func drawLegend(left: Double, right: Double, top: Double) -> Double {
        let sample = 30 * s, spacing = 26 * s
        var x = left, y = top
        for entry in chart.legend {
            let width = sample + 8 * s + textWidth(entry.label, size: labelSize)
            if x > left && x + width > right { x = left; y += legendRow }
            let mid = y + legendRow / 2
            if entry.style.lines { drawLine([(x, mid), (x + sample, mid)], style: entry.style) }
            if entry.style.markers { drawMarker(x + sample / 2, mid, color: entry.style.color) }
            text(entry.label, x: x + sample + 8 * s, baseline: mid + labelSize * 0.35, size: labelSize)
            x += width + spacing
        }
        return y + legendRow
    }

    /// Draws one panel: title, grid, frame, ticks, the y label and the series.
    private func drawPanel(_ frame: PanelFrame, xTicks: AxisTicks) {
        let r = frame.rect
        text(frame.panel.title, x: r.x, baseline: r.y - panelTitleSize * 0.6, size: panelTitleSize, bold: true)
        func px(_ x: Double) -> Double { r.x + (x - xTicks.lower) / (xTicks.upper - xTicks.lower) * r.width }
        func py(_ y: Double) -> Double {
            let (v, lo, hi) = frame.y.logarithmic ? (log10(y), log10(frame.y.lower), log10(frame.y.upper))
                : (y, frame.y.lower, frame.y.upper)
            return r.y + r.height - (v - lo) / (hi - lo) * r.height
        }
        // grid
        let grid = ChartColor(230, 230, 230), tick = ChartColor(80, 80, 80)
        for v in xTicks.values { crispLine(px(v), r.y, px(v), r.y + r.height, color: grid) }
        for v in frame.y.values { crispLine(r.x, py(v), r.x + r.width, py(v), color: grid) }
        // ticks and their labels
        for (v, label) in zip(xTicks.values, xTicks.labels) {
            crispLine(px(v), r.y + r.height, px(v), r.y + r.height + 5 * s, color: tick)
            text(label, x: px(v), baseline: r.y + r.height + 5 * s + tickSize * 1.1, size: tickSize, align: 0.5, color: tick)
        }
        for (v, label) in zip(frame.y.values, frame.y.labels) {
            crispLine(r.x - 5 * s, py(v), r.x, py(v), color: tick)
            text(label, x: r.x - 8 * s, baseline: py(v) + tickSize * 0.35, size: tickSize, align: 1, color: tick)
        }
        cairo_set_line_width(cr, 1)
        setColor(ChartColor(150, 150, 150))
        cairo_rectangle(cr, r.x.rounded() + 0.5, r.y.rounded() + 0.5, r.width.rounded(), r.height.rounded())
        cairo_stroke(cr)
        // the y label, turned a quarter
        cairo_save(cr)
        cairo_translate(cr, margin + labelSize * 0.9, r.y + r.height / 2)
        cairo_rotate(cr, -Double.pi / 2)
        text(frame.panel.yLabel, x: 0, baseline: 0, size: labelSize, align: 0.5)
        cairo_restore(cr)
        // the series, clipped to the plot area
        cairo_save(cr)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_clip(cr)
        var drawn = false, dots: [([(Double, Double)], ChartColor)] = []
        for series in frame.panel.series {
            let visible = series.points.map { p -> (Double, Double)? in
                p.x.isFinite && p.y.isFinite && (!frame.panel.logY || p.y > 0) ? (px(p.x), py(p.y)) : nil
            }
            for run in Self.unbroken(visible) {
                if series.style.lines { drawLine(run, style: series.style) }
                if run.count == 1 || series.style.markers { dots.append((run, series.style.color)) }
            }
            drawn = drawn || visible.contains { $0 != nil }
        }
        cairo_restore(cr)
        // dots over the lines and unclipped, so that those on the frame stay whole
        for (points, color) in dots { for (x, y) in points { drawMarker(x, y, color: color) } }
        if !drawn {
            text("no data", x: r.x + r.width / 2, baseline: r.y + r.height / 2, size: labelSize, align: 0.5,
                 color: ChartColor(150, 150, 150))
        }
    }

    /// The runs of consecutive present points (a nil breaks the line).
    private static func unbroken(_ points: [(Double, Double)?]) -> [[(Double, Double)]] {
        var runs: [[(Double, Double)]] = [], current: [(Double, Double)] = []
        for p in points {
            if let p { current.append(p) } else if !current.isEmpty { runs.append(current); current = [] }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    // MARK: - primitives

    /// Sets the source colour.
    private func setColor(_ c: ChartColor) { cairo_set_source_rgb(cr, c.red, c.green, c.blue) }

    /// A 1-pixel line in `color` on pixel centres (sharp in the PNG).
    private func crispLine(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, color: ChartColor) {
        let snap = { (v: Double) in v.rounded(.down) + 0.5 }
        setColor(color)
        cairo_set_line_width(cr, 1)
        cairo_move_to(cr, x0 == x1 ? snap(x0) : x0, y0 == y1 ? snap(y0) : y0)
        cairo_line_to(cr, x0 == x1 ? snap(x1) : x1, y0 == y1 ? snap(y1) : y1)
        cairo_stroke(cr)
    }

    /// A polyline in `style` (no markers).
    private func drawLine(_ points: [(Double, Double)], style: ChartStyle) {
        guard let first = points.first, points.count > 1 else { return }
        cairo_save(cr)
        setColor(style.color)
        cairo_set_line_width(cr, 1.8 * s)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND)
        if style.dashed {
            let dashes = [6 * s, 4 * s]
            cairo_set_dash(cr, dashes, Int32(dashes.count), 0)
        }
        cairo_move_to(cr, first.0, first.1)
        for p in points.dropFirst() { cairo_line_to(cr, p.0, p.1) }
        cairo_stroke(cr)
        cairo_restore(cr)
    }

    /// A filled dot with a white rim.
    private func drawMarker(_ x: Double, _ y: Double, color: ChartColor) {
        cairo_new_sub_path(cr)
        cairo_arc(cr, x, y, 4 * s, 0, 2 * Double.pi)
        setColor(color)
        cairo_fill_preserve(cr)
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_set_line_width(cr, 1 * s)
        cairo_stroke(cr)
    }

    /// Selects DejaVu Sans (fontconfig falls back to another sans-serif font) at `size` pixels.
    private func font(size: Double, bold: Bool) {
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    /// The advance width of `string` in that font.
    private func textWidth(_ string: String, size: Double, bold: Bool = false) -> Double {
        font(size: size, bold: bold)
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, string, &extents)
        return extents.x_advance
    }

    /// Draws `string` in `color` with its baseline at `baseline`; `align` 0 puts its left end at
    /// x, 0.5 its centre, 1 its right end.
    private func text(_ string: String, x: Double, baseline: Double, size: Double, bold: Bool = false, align: Double = 0,
                      color: ChartColor = ChartColor(34, 34, 34)) {
        let width = textWidth(string, size: size, bold: bold)
        setColor(color)
        cairo_move_to(cr, x - align * width, baseline)
        cairo_show_text(cr, string)
    }
}
