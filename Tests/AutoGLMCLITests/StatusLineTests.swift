@testable import autoglm
import XCTest

/// The status line fits any width, keeps the important fields longest, and draws its bar.
final class StatusLineTests: XCTestCase {
    /// A training status as `autoglm train` draws it.
    private let line = StatusLine(label: "step 120/2000", fraction: 0.06, fields: [
        .init(text: "loss 2.3456", priority: 5), .init(text: "val 2.4012", priority: 3),
        .init(text: "12.3k tok/s", priority: 2), .init(text: "lr 1.00e-03", priority: 1), .init(text: "ETA 3m20s", priority: 4),
    ])

    func testEveryWidthIsRespected() {
        for unicode in [false, true] {
            for width in 1...200 {
                let text = line.render(width: width, unicode: unicode)
                XCTAssertLessThanOrEqual(text.count, width, "width \(width): \(text)")
                XCTAssertFalse(text.contains("\n") || text.contains("\r"))
            }
        }
    }

    func testWideLineHasEverythingInOrder() {
        let text = line.render(width: 200, unicode: false)
        XCTAssertEqual(text, "step 120/2000 [#-----------------------------]   6% | loss 2.3456 | val 2.4012 | 12.3k tok/s | lr 1.00e-03 | ETA 3m20s")
    }

    func testNarrowLinesDropTheLeastImportantFieldsFirst() {
        // Without lr (priority 1) the line needs 14 + 2 + 10 + 2 + 4 + 4 × 3 + 11 + 10 + 11 + 9 columns.
        let withoutLR = line.render(width: 85, unicode: false)
        XCTAssertFalse(withoutLR.contains("lr "), withoutLR)
        XCTAssertTrue(withoutLR.contains("tok/s") && withoutLR.contains("ETA") && withoutLR.contains("val"), withoutLR)
        let short = line.render(width: 60, unicode: false)
        XCTAssertTrue(short.contains("loss 2.3456") && short.contains("ETA 3m20s"), short)
        XCTAssertFalse(short.contains("val") || short.contains("tok/s"), short)
        XCTAssertEqual(line.render(width: 50, unicode: false), "step 120/2000 [" + String(repeating: "-", count: 15) + "]   6% | loss 2.3456")
        // No room for a bar of 10 cells: label and percentage only.
        XCTAssertEqual(line.render(width: 20, unicode: false), "step 120/2000   6%")
        XCTAssertEqual(line.render(width: 8, unicode: false), "step 120")
    }

    func testBarsFillByCellsAndEighths() {
        XCTAssertEqual(StatusLine.bar(0, cells: 4, unicode: false), "----")
        XCTAssertEqual(StatusLine.bar(0.5, cells: 4, unicode: false), "##--")
        XCTAssertEqual(StatusLine.bar(1.7, cells: 4, unicode: false), "####", "clamped")
        XCTAssertEqual(StatusLine.bar(0.5, cells: 4, unicode: true), "██  ")
        XCTAssertEqual(StatusLine.bar(3.0 / 32, cells: 4, unicode: true), "▍   ", "3/8 of the first cell")
        XCTAssertEqual(StatusLine.bar(1, cells: 4, unicode: true), "████")
        for cells in [1, 7, 30] {
            for i in 0...64 { XCTAssertEqual(StatusLine.bar(Double(i) / 64, cells: cells, unicode: true).count, cells) }
        }
    }
}
