/// The one line a run redraws on a terminal: a label ("step 120/2000"), a bar with its
/// percentage, then fields ("loss 2.3456", "ETA 3m20s"), fitted to the terminal's width by
/// dropping the least important fields first, then the bar, then cutting the end.
struct StatusLine: Equatable {
    /// One field after the bar.
    struct Field: Equatable {
        /// Its text.
        var text: String
        /// Fields of lower priority are dropped first when the line is too wide.
        var priority: Int
    }

    /// What the bar measures ("step 120/2000", "evaluating 37/200 batches").
    var label: String
    /// How full the bar is, in [0, 1].
    var fraction: Double
    /// The fields, in display order.
    var fields: [Field]

    /// Narrowest and widest bar, in cells.
    static let barWidths = 10...30

    /// The line in at most `width` columns; `unicode` draws the bar with block characters
    /// (eighths of a cell), else with `#`.
    func render(width: Int, unicode: Bool) -> String {
        let percent = String(format: "%3d%%", Int((min(max(fraction, 0), 1) * 100).rounded(.down)))
        var kept = fields
        while true {
            let tail = kept.map { " | " + $0.text }.joined()
            let fixed = label.count + 3 + percent.count + 1 + tail.count  // label " [" bar "] " percent tail
            let room = width - fixed
            if room >= Self.barWidths.lowerBound {
                let bar = Self.bar(fraction, cells: min(room, Self.barWidths.upperBound), unicode: unicode)
                return "\(label) [\(bar)] \(percent)\(tail)"
            }
            guard let lowest = kept.indices.min(by: { kept[$0].priority < kept[$1].priority }) else { break }
            kept.remove(at: lowest)
        }
        return String("\(label) \(percent)".prefix(max(width, 0)))
    }

    /// A bar of `cells` cells, `fraction` of them filled.
    static func bar(_ fraction: Double, cells: Int, unicode: Bool) -> String {
        let f = min(max(fraction, 0), 1)
        guard unicode else {
            let full = Int((f * Double(cells)).rounded(.down))
            return String(repeating: "#", count: full) + String(repeating: "-", count: cells - full)
        }
        let eighths = Int((f * Double(cells * 8)).rounded(.down))
        let full = eighths / 8, part = eighths % 8
        let partial = part > 0 ? String(Self.partialBlocks[part - 1]) : ""
        return String(repeating: "█", count: full) + partial
            + String(repeating: " ", count: cells - full - (part > 0 ? 1 : 0))
    }

    /// U+258F … U+2589: one to seven eighths of a cell.
    private static let partialBlocks: [Character] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]
}
