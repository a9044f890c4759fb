import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm plot`: the training curves of one or more runs, overlaid, to SVG and PNG.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw the train loss, val loss and learning-rate curves of one or more runs, overlaid, to SVG and PNG.",
        discussion: "Each RUN_DIR is a run directory written by `autoglm train` (or its log.jsonl); a run still "
            + "being written is read up to its last complete line.")

    /// What --format accepts.
    enum Formats: String, ExpressibleByArgument, CaseIterable {
        /// PREFIX.svg only.
        case svg
        /// PREFIX.png only.
        case png
        /// Both files.
        case both
        /// The files to write, in order.
        var formats: [CairoChartRenderer.Format] { self == .both ? [.svg, .png] : [self == .svg ? .svg : .png] }
    }

    @Argument(help: ArgumentHelp("Run directories to compare.", valueName: "RUN_DIR"))
    var runs: [String]

    @Option(help: ArgumentHelp("Output path without extension: writes PREFIX.svg and/or PREFIX.png.", valueName: "PREFIX"))
    var out = "plot"

    @Option(help: "Output format: svg, png or both.")
    var format: Formats = .both

    @Option(help: ArgumentHelp("Image size in pixels, WIDTHxHEIGHT (each 300 to 8000).", valueName: "WxH"))
    var size = "1200x800"

    @Flag(name: .customLong("log-y"), help: "Logarithmic loss axis.")
    var logY = false

    @Option(help: "Chart title (default: \"Training curves: \" and the run names).")
    var title: String?

    /// --size as (width, height).
    private var dimensions: (Int, Int)? {
        let parts = size.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]),
              (300...8000).contains(w), (300...8000).contains(h) else { return nil }
        return (w, h)
    }

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("name at least one run directory") }
        guard dimensions != nil else {
            throw ValidationError("--size must be WIDTHxHEIGHT with each between 300 and 8000, e.g. 1200x800 (got '\(size)')")
        }
    }

    func run() throws {
        var options = RunComparisonChart.Options()
        (options.width, options.height) = dimensions!
        options.logY = logY
        options.title = title
        let logs = try runs.map { try RunLog(contentsOf: $0) }
        for log in logs where log.droppedPartialLine {
            printError("note: the last line of \(log.path) is incomplete (a run still being written?); it was left out")
        }
        let chart = try RunComparisonChart.make(logs, options: options)
        for f in format.formats {
            let path = out + "." + f.rawValue
            try CairoChartRenderer.write(chart, format: f, to: path)
            print(path)
        }
    }
}
