/// The chart of `autoglm plot`: the training curves of one or more runs overlaid, one colour
/// per run. Panel "Loss": train loss (solid) and val loss (dashed, a dot per evaluation);
/// panel "Learning rate": the lr of every logged step. The legend names each run with its
/// attention and optimizer, then explains the two line styles.
public enum RunComparisonChart {
    /// Options of the chart.
    public struct Options: Sendable {
        /// Size in pixels.
        public var width = 1200, height = 800
        /// Logarithmic loss axis.
        public var logY = false
        /// Title; nil for "Training curves: a vs b".
        public var title: String?

        /// Default options.
        public init() {}
    }

    /// The chart of `runs` (at least one, with at least one step or evaluation among them).
    public static func make(_ runs: [RunLog], options: Options = Options()) throws -> Chart {
        guard !runs.isEmpty else { throw PlotError("no run to plot: name at least one run directory") }
        guard runs.contains(where: { !$0.steps.isEmpty || !$0.evaluations.isEmpty }) else {
            throw PlotError("nothing to plot yet: \(runs.map { "'\($0.path)'" }.joined(separator: ", ")) "
                            + "\(runs.count == 1 ? "has" : "have") no step or eval records")
        }
        var loss: [ChartSeries] = [], lr: [ChartSeries] = [], legend: [ChartLegendEntry] = []
        for (i, run) in runs.enumerated() {
            let color = ChartColor.palette[i % ChartColor.palette.count]
            loss.append(ChartSeries(label: "\(run.label) train loss", style: ChartStyle(color: color),
                                    points: run.steps.map { ChartPoint(x: Double($0.step), y: $0.loss) }))
            loss.append(ChartSeries(label: "\(run.label) val loss", style: ChartStyle(color: color, dashed: true, markers: true),
                                    points: run.metric("val/loss").map { ChartPoint(x: Double($0.step), y: $0.value) }))
            lr.append(ChartSeries(label: "\(run.label) lr", style: ChartStyle(color: color),
                                  points: run.steps.map { ChartPoint(x: Double($0.step), y: $0.lr) }))
            legend.append(ChartLegendEntry(label: run.label, style: ChartStyle(color: color)))
        }
        legend.append(ChartLegendEntry(label: "train loss", style: ChartStyle(color: .neutral)))
        legend.append(ChartLegendEntry(label: "val loss", style: ChartStyle(color: .neutral, dashed: true, markers: true)))
        let names = runs.map(\.name)
        let title = options.title ?? "Training curves: " + (names.count <= 4 ? names.joined(separator: " vs ") : "\(names.count) runs")
        return Chart(title: title, width: options.width, height: options.height, xLabel: "step", panels: [
            ChartPanel(title: "Loss" + (options.logY ? " (log scale)" : ""), yLabel: "loss", logY: options.logY, weight: 2,
                       series: loss),
            ChartPanel(title: "Learning rate", yLabel: "lr", weight: 1, series: lr),
        ], legend: legend)
    }
}
