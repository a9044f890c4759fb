import AutoGLM
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The tensorboard callback (plugins/tensorboard): events are delivered through CallbackInstance
/// the way the trainer sends them, and the file is read back twice, by the independent
/// TFRecord/protobuf reader below (both CRCs of every record checked, every field accounted for)
/// and by the real TensorBoard's event reader.
final class TensorBoardPluginTests: XCTestCase {
    private static let registry = PluginBuilder.bundledRegistry()

    // MARK: - an independent TFRecord and Event reader

    /// Why a file was refused.
    private struct Corrupt: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// CRC-32C (Castagnoli, reflected 0x82F63B78), table-driven; the plugin computes it bit by bit.
    private static let crcTable: [UInt32] = (0..<256).map { i in
        (0..<8).reduce(UInt32(i)) { c, _ in c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
    }

    private static func crc32c<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        ~bytes.reduce(~UInt32(0)) { crc, byte in crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }

    /// TFRecord's masked CRC.
    private static func masked(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8 }

    /// Little-endian unsigned integer of `bytes`.
    private static func littleEndian<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The records of a TFRecord file; refuses a bad CRC, a truncated record or trailing bytes.
    private static func records(_ data: [UInt8]) throws -> [[UInt8]] {
        var out: [[UInt8]] = [], i = 0
        while i < data.count {
            guard data.count - i >= 12 else { throw Corrupt("truncated record header at byte \(i)") }
            let length = littleEndian(data[i..<i + 8])
            guard UInt32(littleEndian(data[i + 8..<i + 12])) == masked(crc32c(data[i..<i + 8])) else {
                throw Corrupt("length CRC mismatch at byte \(i)")
            }
            guard length <= UInt64(data.count - i - 16) else { throw Corrupt("truncated record at byte \(i)") }
            let start = i + 12, end = start + Int(length)
            guard UInt32(littleEndian(data[end..<end + 4])) == masked(crc32c(data[start..<end])) else {
                throw Corrupt("data CRC mismatch at byte \(i)")
            }
            out.append(Array(data[start..<end]))
            i = end + 4
        }
        return out
    }

    /// A protobuf field's value, by wire type.
    private enum Wire { case varint(UInt64), fixed64(UInt64), bytes([UInt8]), fixed32(UInt32) }

    /// The fields of a protobuf message, in order.
    private static func fields(_ m: [UInt8]) throws -> [(Int, Wire)] {
        var out: [(Int, Wire)] = [], i = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < m.count, shift < 64 else { throw Corrupt("bad varint at byte \(i)") }
                let byte = m[i]
                i += 1
                value |= UInt64(byte & 0x7F) << shift
                shift += 7
                if byte & 0x80 == 0 { return value }
            }
        }
        func take(_ n: UInt64) throws -> [UInt8] {
            guard n <= UInt64(m.count - i) else { throw Corrupt("field overruns the message at byte \(i)") }
            defer { i += Int(n) }
            return Array(m[i..<i + Int(n)])
        }
        while i < m.count {
            let key = try varint()
            switch key & 7 {
            case 0: out.append((Int(key >> 3), .varint(try varint())))
            case 1: out.append((Int(key >> 3), .fixed64(littleEndian(try take(8)))))
            case 2: out.append((Int(key >> 3), .bytes(try take(try varint()))))
            case 5: out.append((Int(key >> 3), .fixed32(UInt32(littleEndian(try take(4))))))
            default: throw Corrupt("wire type \(key & 7)")
            }
        }
        return out
    }

    /// A scalar of a summary; NaN equals NaN.
    private struct Scalar: Equatable, CustomStringConvertible {
        var tag: String, value: Float
        static func == (a: Scalar, b: Scalar) -> Bool { a.tag == b.tag && (a.value == b.value || a.value.isNaN && b.value.isNaN) }
        var description: String { "\(tag)=\(value)" }
    }

    /// The fields of tensorflow.Event that the plugin writes.
    private struct Event {
        var wallTime: Double?, step: Int64?, fileVersion: String?, scalars: [Scalar]?
    }

    /// Decodes an Event; refuses any field other than wall_time, step, file_version and a
    /// summary of tag + simple_value values.
    private static func event(_ record: [UInt8]) throws -> Event {
        var e = Event()
        for (field, value) in try fields(record) {
            switch (field, value) {
            case (1, .fixed64(let bits)): e.wallTime = Double(bitPattern: bits)
            case (2, .varint(let v)): e.step = Int64(bitPattern: v)
            case (3, .bytes(let b)): e.fileVersion = String(decoding: b, as: UTF8.self)
            case (5, .bytes(let summary)):
                e.scalars = try fields(summary).map { field, value in
                    guard field == 1, case .bytes(let v) = value else { throw Corrupt("Summary field \(field)") }
                    var tag: String?, simple: Float?
                    for (f, x) in try fields(v) {
                        switch (f, x) {
                        case (1, .bytes(let b)): tag = String(decoding: b, as: UTF8.self)
                        case (2, .fixed32(let bits)): simple = Float(bitPattern: bits)
                        default: throw Corrupt("Summary.Value field \(f)")
                        }
                    }
                    guard let tag, let simple else { throw Corrupt("a Summary.Value without tag or simple_value") }
                    return Scalar(tag: tag, value: simple)
                }
            default: throw Corrupt("Event field \(field) \(value)")
            }
        }
        return e
    }

    /// Every event of a file.
    private static func events(_ file: URL) throws -> [Event] {
        try records(Array(try Data(contentsOf: file))).map(event)
    }

    // MARK: - driving the callback

    /// A written scalar event: its step and values.
    private struct ScalarEvent: Equatable, CustomStringConvertible {
        var step: Int64, scalars: [Scalar]
        var description: String { "step \(step): \(scalars)" }
    }

    private func callback(_ parameters: [String: ParameterValue]) throws -> CallbackInstance {
        try CallbackInstance(registry: Self.registry, name: "tensorboard", parameters: parameters)
    }

    /// The state after step `step` of the synthetic runs: loss 4/step, lr rising to 1e-3 at step
    /// 10, grad norm 0.5 + 0.1 step, 256 tokens per step, 0.25 s per step.
    private static func state(_ step: Int) -> TrainerSnapshot {
        var s = TrainerSnapshot()
        s.step = step
        s.maxSteps = 12
        s.loss = 4 / Double(step)
        s.lr = 1e-3 * Double(min(step, 10)) / 10
        s.gradNorm = 0.5 + 0.1 * Double(step)
        s.tokensSeen = 256 * step
        s.elapsedSeconds = 0.25 * Double(step)
        return s
    }

    /// Sends what the trainer sends over `steps` steps in `dir`: TRAIN_BEGIN, STEP_BEGIN and
    /// STEP_END for each step, EVALUATE then SAVE at the steps of `evaluations` (with its
    /// metrics), TRAIN_END; returns the scalar events the plugin's rules call for: the four train/
    /// scalars on steps that are multiples of `every` (tokens_per_s only once time has passed),
    /// and each evaluation's metrics.
    @discardableResult
    private func drive(_ c: CallbackInstance, dir: URL, steps: Int, every: Int, evaluations: [Int: [(String, Double)]] = [:],
                       state makeState: (Int) -> TrainerSnapshot = state) throws -> [ScalarEvent] {
        var expected: [ScalarEvent] = [], control = TrainerControl()
        func send(_ event: TrainingEvent, _ s: TrainerSnapshot) throws {
            var s = s
            s.runDir = dir.path
            try c.onEvent(event, state: s, control: &control)
        }
        var s = makeState(0)
        try send(.trainBegin, s)
        for step in 1...steps {
            try send(.stepBegin, s)
            s = makeState(step)
            try send(.stepEnd, s)
            if step % every == 0 {
                var scalars = [Scalar(tag: "train/loss", value: Float(s.loss)), Scalar(tag: "train/lr", value: Float(s.lr)),
                               Scalar(tag: "train/grad_norm", value: Float(s.gradNorm))]
                if s.elapsedSeconds > 0 {
                    scalars.append(Scalar(tag: "train/tokens_per_s", value: Float(Double(s.tokensSeen) / s.elapsedSeconds)))
                }
                expected.append(ScalarEvent(step: Int64(step), scalars: scalars))
            }
            if let metrics = evaluations[step] {
                s.metrics = metrics.map { Metric(name: $0.0, value: $0.1) }
                try send(.evaluate, s)
                try send(.save, s)
                expected.append(ScalarEvent(step: Int64(step), scalars: metrics.map { Scalar(tag: $0.0, value: Float($0.1)) }))
            }
        }
        try send(.trainEnd, s)
        return expected
    }

    /// The event files in `dir`.
    private func eventFiles(_ dir: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("events.out.tfevents.") }.sorted()
            .map { dir.appendingPathComponent($0) }
    }

    /// The only event file in `dir`.
    private func eventFile(_ dir: URL, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        let files = try eventFiles(dir)
        XCTAssertEqual(files.count, 1, "\(files)", file: file, line: line)
        return try XCTUnwrap(files.first, file: file, line: line)
    }

    /// The scalar events of a file (after the file-version record).
    private func scalarEvents(_ events: [Event]) -> [ScalarEvent] {
        events.dropFirst().map { ScalarEvent(step: $0.step ?? -1, scalars: $0.scalars ?? []) }
    }

    private var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        _ = gethostname(&buffer, buffer.count - 1)
        return String(cString: buffer)
    }

    private let evaluations: [Int: [(String, Double)]] = [4: [("val/loss", 2.5), ("val/perplexity", 12.18)],
                                                            8: [("val/loss", 2.25), ("val/perplexity", 9.4877)]]

    // MARK: - tests

    func testReaderChecksumsMatchThePublishedVectors() throws {
        XCTAssertEqual(Self.crc32c(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(Self.masked(Self.crc32c([UInt8](repeating: 0, count: 8))), 0x0798_0329)
    }

    func testEventFileHoldsEveryScalarWithValidFraming() throws {
        let dir = try PluginBuilder.temporaryDirectory("tb")
        let before = Date().timeIntervalSince1970.rounded(.down)
        let expected = try drive(try callback(["every": .number(2)]), dir: dir, steps: 9, every: 2, evaluations: evaluations)
        let after = Date().timeIntervalSince1970
        let file = try eventFile(dir)

        // events.out.tfevents.<unix time>.<host>
        let prefix = "events.out.tfevents."
        let stamp = try XCTUnwrap(Double(file.lastPathComponent.dropFirst(prefix.count).prefix { $0 != "." }))
        XCTAssertTrue((before...after).contains(stamp), "\(file.lastPathComponent) at \(before)...\(after)")
        XCTAssertEqual(file.lastPathComponent, prefix + "\(Int(stamp)).\(hostName)")

        let events = try Self.events(file)
        XCTAssertEqual(events.first?.fileVersion, "brain.Event:2")
        XCTAssertNil(events.first?.step)
        XCTAssertNil(events.first?.scalars)
        for e in events {
            let t = try XCTUnwrap(e.wallTime)
            XCTAssertTrue((before...after + 1).contains(t), "wall_time \(t)")
        }
        XCTAssertTrue(events.dropFirst().allSatisfy { $0.fileVersion == nil })
        XCTAssertEqual(scalarEvents(events), expected)
        XCTAssertEqual(expected.map(\.step), [2, 4, 4, 6, 8, 8], "the rule itself: steps 2, 4, 6, 8 and evaluations at 4 and 8")
    }

    func testReaderRefusesACorruptedFile() throws {
        let dir = try PluginBuilder.temporaryDirectory("tb")
        try drive(try callback(["every": .number(1)]), dir: dir, steps: 2, every: 1)
        let bytes = Array(try Data(contentsOf: try eventFile(dir)))
        XCTAssertEqual(try Self.records(bytes).count, 3)
        var flipped = bytes
        flipped[bytes.count - 6] ^= 0x01  // inside the last record's data
        XCTAssertThrowsError(try Self.records(flipped)) { XCTAssertTrue("\($0)".contains("data CRC"), "\($0)") }
        var length = bytes
        length[0] ^= 0x01  // the first record's length
        XCTAssertThrowsError(try Self.records(length)) { XCTAssertTrue("\($0)".contains("length CRC"), "\($0)") }
        XCTAssertThrowsError(try Self.records(Array(bytes.dropLast())))
    }

    func testNonFiniteValuesAreWrittenAndThroughputNeedsElapsedTime() throws {
        let dir = try PluginBuilder.temporaryDirectory("tb")
        let expected = try drive(try callback(["every": .number(1)]), dir: dir, steps: 2, every: 1,
                                 evaluations: [2: [("val/loss", .nan)]]) { step in
            var s = Self.state(step)
            s.loss = step == 2 ? .nan : 3
            s.gradNorm = step == 2 ? .infinity : 1
            s.elapsedSeconds = 0  // a clock that has not moved: no tokens/s
            return s
        }
        let written = scalarEvents(try Self.events(try eventFile(dir)))
        XCTAssertEqual(written, expected)
        XCTAssertEqual(written[1].scalars.map(\.tag), ["train/loss", "train/lr", "train/grad_norm"])
        XCTAssertTrue(written[1].scalars[0].value.isNaN)
        XCTAssertEqual(written[1].scalars[2].value, .infinity)
        XCTAssertTrue(written[2].scalars[0].value.isNaN, "val/loss NaN")
    }

    func testRealTensorBoardReadsEveryTagStepAndValue() throws {
        let python = try InteropPython.require(module: "tensorboard.backend.event_processing.event_accumulator")
        let dir = try PluginBuilder.temporaryDirectory("tb")
        let expected = try drive(try callback(["every": .number(3)]), dir: dir, steps: 9, every: 3, evaluations: evaluations)
        let script = """
            import json, sys
            from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
            from tensorboard.backend.event_processing import event_accumulator
            from tensorboard.util import tensor_util
            path, out = sys.argv[1], sys.argv[2]
            def value(v):  # the loader migrates simple_value into a scalar tensor
                return v.simple_value if v.HasField("simple_value") else tensor_util.make_ndarray(v.tensor).item()
            events = [{"step": e.step, "file_version": e.file_version, "wall_time": e.wall_time,
                       "values": [[v.tag, value(v)] for v in e.summary.value]}
                      for e in EventFileLoader(path).Load()]
            acc = event_accumulator.EventAccumulator(path)
            acc.Reload()
            scalars = {t: [[s.step, s.value] for s in acc.Scalars(t)] for t in acc.Tags()["scalars"]}
            with open(out, "w") as f:
                json.dump({"events": events, "scalars": scalars}, f)
            """
        let file = try eventFile(dir)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: try InteropPython.run(python, script: script, arguments: [file.path]))
                                 as? [String: Any])
        let events = try XCTUnwrap(json["events"] as? [[String: Any]])
        XCTAssertEqual(events.first?["file_version"] as? String, "brain.Event:2")
        let read = events.dropFirst().map { e in
            ScalarEvent(step: Int64((e["step"] as? NSNumber)?.int64Value ?? -1),
                        scalars: ((e["values"] as? [[Any]]) ?? []).map {
                            Scalar(tag: $0[0] as? String ?? "?", value: Float(($0[1] as? NSNumber)?.doubleValue ?? .nan))
                        })
        }
        XCTAssertEqual(read, expected, "EventFileLoader")

        // TensorBoard's scalar view: every tag, with its steps and values in order (compared as
        // float32, which is what the file holds; the JSON text goes through a double).
        var byTag: [String: [[Float]]] = [:]
        for e in expected { for s in e.scalars { byTag[s.tag, default: []].append([Float(e.step), s.value]) } }
        let scalars = try XCTUnwrap(json["scalars"] as? [String: [[NSNumber]]])
        XCTAssertEqual(Set(scalars.keys), ["train/loss", "train/lr", "train/grad_norm", "train/tokens_per_s", "val/loss", "val/perplexity"])
        for (tag, points) in byTag {
            XCTAssertEqual(scalars[tag]?.map { $0.map { Float($0.doubleValue) } }, points, tag)
        }
    }

    func testDirParameterIsResolvedAgainstTheRunDirectoryAndCreated() throws {
        let run = try PluginBuilder.temporaryDirectory("tb")
        try drive(try callback(["dir": .string("tb/train"), "every": .number(5)]), dir: run, steps: 5, every: 5)
        XCTAssertEqual(try eventFiles(run), [])
        XCTAssertEqual(try Self.events(try eventFile(run.appendingPathComponent("tb/train"))).count, 2)

        let absolute = try PluginBuilder.temporaryDirectory("tb-abs").appendingPathComponent("deep/er")
        try drive(try callback(["dir": .string(absolute.path), "every": .number(5)]), dir: run, steps: 5, every: 5)
        XCTAssertEqual(try Self.events(try eventFile(absolute)).count, 2)
    }

    func testANameTakenInTheSameSecondIsNotOverwritten() throws {
        let dir = try PluginBuilder.temporaryDirectory("tb")
        let now = Int(Date().timeIntervalSince1970)
        let taken = (now - 1...now + 5).map { dir.appendingPathComponent("events.out.tfevents.\($0).\(hostName)") }
        for url in taken { try Data("another writer's file".utf8).write(to: url) }
        let expected = try drive(try callback(["every": .number(1)]), dir: dir, steps: 1, every: 1)
        for url in taken { XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "another writer's file") }
        let ours = try eventFiles(dir).filter { !taken.contains($0) }
        XCTAssertEqual(ours.count, 1)
        XCTAssertTrue(ours.first?.lastPathComponent.hasSuffix(".\(hostName).1") ?? false, "\(ours)")
        XCTAssertEqual(scalarEvents(try Self.events(try XCTUnwrap(ours.first))), expected)
    }

    func testFileProblemsNameThePath() throws {
        let run = try PluginBuilder.temporaryDirectory("tb")
        let blocker = run.appendingPathComponent("not-a-dir")
        try Data("x".utf8).write(to: blocker)
        let c = try callback(["dir": .string("not-a-dir/tb")])
        var control = TrainerControl(), state = TrainerSnapshot()
        state.runDir = run.path
        XCTAssertThrowsError(try c.onEvent(.trainBegin, state: state, control: &control)) { error in
            XCTAssertTrue("\(error)".contains("'\(blocker.path)' is not a directory"), "\(error)")
            XCTAssertTrue("\(error)".contains(blocker.path + "/tb"), "\(error)")
            XCTAssertTrue("\(error)".contains("tensorboard"), "names the component: \(error)")
        }
    }

    func testFlushPolicy() throws {
        let dir = try PluginBuilder.temporaryDirectory("tb")
        let c = try callback(["every": .number(1), "flush_secs": .number(100)])
        var control = TrainerControl()
        func send(_ event: TrainingEvent, step: Int, elapsed: Double, metrics: [(String, Double)] = []) throws {
            var s = Self.state(step)
            s.runDir = dir.path
            s.elapsedSeconds = elapsed
            s.metrics = metrics.map { Metric(name: $0.0, value: $0.1) }
            try c.onEvent(event, state: s, control: &control)
        }
        func onDisk() throws -> Int { try Self.records(Array(try Data(contentsOf: try eventFile(dir)))).count }
        try send(.trainBegin, step: 0, elapsed: 0)
        XCTAssertEqual(try onDisk(), 1, "the file-version record is flushed at once")
        for step in 1...3 { try send(.stepEnd, step: step, elapsed: 10 * Double(step)) }
        XCTAssertEqual(try onDisk(), 1, "steps within flush_secs of the last flush stay buffered")
        try send(.evaluate, step: 3, elapsed: 31, metrics: [("val/loss", 2)])
        XCTAssertEqual(try onDisk(), 5, "an evaluation flushes")
        try send(.stepEnd, step: 4, elapsed: 40)
        XCTAssertEqual(try onDisk(), 5)
        try send(.stepEnd, step: 5, elapsed: 131)
        XCTAssertEqual(try onDisk(), 7, "100 s after the last flush")
        try send(.stepEnd, step: 6, elapsed: 140)
        try send(.save, step: 6, elapsed: 141)
        XCTAssertEqual(try onDisk(), 8, "a save flushes")

        let eager = try PluginBuilder.temporaryDirectory("tb")
        let e = try callback(["every": .number(1), "flush_secs": .number(0)])
        var s = Self.state(0)
        s.runDir = eager.path
        try e.onEvent(.trainBegin, state: s, control: &control)
        for step in 1...3 {
            s = Self.state(step)
            s.runDir = eager.path
            try e.onEvent(.stepEnd, state: s, control: &control)
            XCTAssertEqual(try Self.records(Array(try Data(contentsOf: try eventFile(eager)))).count, 1 + step, "flush_secs 0")
        }
    }
}
