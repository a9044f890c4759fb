/// libFuzzer entry for the safetensors parser: compiled (by `make fuzz`) with only the three
/// standard-library files it needs, Sources/AutoGLM/Checkpoint/StrictJSONReader.swift,
/// SafetensorsDType.swift and SafetensorsLayout.swift. Every input must either be refused with
/// a `SafetensorsFormatError` or give a layout that keeps the format's invariants and survives
/// re-encoding; anything else (a trap, an overflow, a memory error under ASan) is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func safetensorsFuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let file = UnsafeRawBufferPointer(start: data, count: size)
    let parsed: (layout: SafetensorsLayout, dataStart: Int)
    do {
        parsed = try SafetensorsLayout.parse(file)
    } catch is SafetensorsFormatError {
        return 0
    } catch {
        fatalError("parse threw something other than SafetensorsFormatError: \(error)")
    }
    checkInvariants(parsed.layout, dataStart: parsed.dataStart, fileSize: size)
    // Re-encoding the header in front of the same data must give back the same layout.
    let header = parsed.layout.encodedHeader()
    let rebuilt = header + Array(file[parsed.dataStart...])
    let again = rebuilt.withUnsafeBytes { try? SafetensorsLayout.parse($0) }
    require(again?.layout == parsed.layout, "re-encoded header does not parse to the same layout")
    require(again?.dataStart == header.count && header.count % 8 == 0, "re-encoded header is not 8-byte aligned")
    return 0
}

/// Traps unless the tensors tile the data region exactly, in order, each with the byte size
/// its dtype and shape imply.
private func checkInvariants(_ layout: SafetensorsLayout, dataStart: Int, fileSize: Int) {
    require(dataStart >= 8 && dataStart + layout.dataLength == fileSize, "data region does not end at the end of the file")
    var end = 0
    for entry in layout.entries {
        require(entry.dataOffsets.lowerBound == end, "gap or overlap before \(entry.name)")
        require(entry.shape.allSatisfy { $0 >= 0 }, "negative dimension in \(entry.name)")
        let (bits, overflow) = entry.elementCount.multipliedReportingOverflow(by: entry.dtype.bits)
        require(!overflow && bits % 8 == 0 && bits / 8 == entry.dataOffsets.count, "size of \(entry.name) does not match")
        end = entry.dataOffsets.upperBound
    }
}

/// Stops with `message` unless `condition` holds (`fatalError`, unlike `precondition`, keeps its
/// message in an optimised build, so the finding says which invariant broke).
private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
