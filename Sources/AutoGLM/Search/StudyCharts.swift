import Foundation

/// The charts of `autoglm search show --plot`, drawn by the same `CairoChartRenderer` as
/// `autoglm plot`: each objective against the trial number (complete trials, pruned trials at
/// their last value, the best so far), and for two objectives the Pareto scatter (every
/// complete trial, the front joined in order).
public enum StudyCharts {
    /// The charts by name ("objectives", and "pareto" for two objectives).
    /// - Throws: `PlotError` when the study has no trial to draw.
    public static func make(_ study: StudySnapshot, width: Int = 1200, height: Int = 800) throws -> [(String, Chart)] {
        guard !study.complete.isEmpty || study.trials.contains(where: { $0.record.state == .pruned }) else {
            throw PlotError("nothing to plot yet: \(study.path) has no complete or pruned trial")
        }
        var charts = [("objectives", trialsChart(study, width: width, height: height))]
        if study.settings.objectives.count == 2 { charts.append(("pareto", paretoChart(study, width: width, height: height))) }
        return charts
    }

    /// Colours: complete trials, pruned ones, the best so far / the front.
    private static let completeColor = ChartColor.palette[0], prunedColor = ChartColor.palette[7],
                       bestColor = ChartColor.palette[3]

    /// One panel per objective: values by trial number.
    static func trialsChart(_ study: StudySnapshot, width: Int, height: Int) -> Chart {
        let panels = study.settings.objectives.enumerated().map { m, objective -> ChartPanel in
            let complete = study.complete.map { ChartPoint(x: Double($0.record.number), y: $0.record.values![m]) }
            var best: [ChartPoint] = [], current: Double?
            for p in complete {  // a staircase: the best holds until a better trial
                if let c = current, objective.loss(p.y) >= objective.loss(c) { continue }
                if let c = current { best.append(ChartPoint(x: p.x, y: c)) }
                current = p.y
                best.append(p)
            }
            if let c = current, let last = study.trials.last { best.append(ChartPoint(x: Double(last.record.number), y: c)) }
            var series = [ChartSeries(label: "complete", style: ChartStyle(color: completeColor, markers: true, lines: false),
                                      points: complete)]
            if m == 0 {
                let pruned = study.trials.filter { $0.record.state == .pruned }.compactMap { t in
                    t.record.lastIntermediate.map { ChartPoint(x: Double(t.record.number), y: $0.value) }
                }
                series.append(ChartSeries(label: "pruned", style: ChartStyle(color: prunedColor, markers: true, lines: false),
                                          points: pruned))
            }
            series.append(ChartSeries(label: "best so far", style: ChartStyle(color: bestColor), points: best))
            return ChartPanel(title: "\(objective.name) (\(objective.direction == .minimize ? "lower" : "higher") is better)",
                              yLabel: objective.name, series: series)
        }
        var legend = [ChartLegendEntry(label: "complete trial", style: ChartStyle(color: completeColor, markers: true, lines: false))]
        if study.trials.contains(where: { $0.record.state == .pruned }) {
            legend.append(ChartLegendEntry(label: "pruned (last value)", style: ChartStyle(color: prunedColor, markers: true, lines: false)))
        }
        legend.append(ChartLegendEntry(label: "best so far", style: ChartStyle(color: bestColor)))
        return Chart(title: "Study \(name(study)): objectives by trial", width: width, height: height, xLabel: "trial",
                     panels: panels, legend: legend)
    }

    /// The two objectives against each other: every complete trial, the Pareto front joined.
    static func paretoChart(_ study: StudySnapshot, width: Int, height: Int) -> Chart {
        let o = study.settings.objectives
        func point(_ t: StudySnapshot.Trial) -> ChartPoint { ChartPoint(x: t.record.values![0], y: t.record.values![1]) }
        let front = study.paretoFront.map(point).sorted { $0.x < $1.x }
        let panel = ChartPanel(title: "\(o[1].name) against \(o[0].name)", yLabel: o[1].name, series: [
            ChartSeries(label: "complete", style: ChartStyle(color: completeColor, markers: true, lines: false),
                        points: study.complete.map(point)),
            ChartSeries(label: "Pareto front", style: ChartStyle(color: bestColor, markers: true), points: front),
        ])
        let legend = [
            ChartLegendEntry(label: "complete trial", style: ChartStyle(color: completeColor, markers: true, lines: false)),
            ChartLegendEntry(label: "Pareto front (\(front.count) trials; \(o.map(\.description).joined(separator: ", ")))",
                             style: ChartStyle(color: bestColor, markers: true)),
        ]
        return Chart(title: "Study \(name(study)): Pareto front", width: width, height: height, xLabel: o[0].name,
                     panels: [panel], legend: legend, xFromZero: false)
    }

    /// The study's name: its file name without extension.
    private static func name(_ study: StudySnapshot) -> String {
        URL(fileURLWithPath: study.path).deletingPathExtension().lastPathComponent
    }
}
