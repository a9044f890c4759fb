import AutoGLMCore
import Foundation

/// Reads and writes AutoGLM's tensors as safetensors files (the format: `SafetensorsLayout`).
/// Writing is atomic (`AtomicFile`) and deterministic: the same tensors and metadata give the
/// same bytes whatever their order, laid out as the reference writer lays them out. Reading
/// refuses a malformed file whole, with a message naming the file and what is wrong.
public enum Safetensors {
    /// Writes `tensors` (unique names) as F32 with string `metadata` to `url`, atomically.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        let layout: SafetensorsLayout
        do {
            layout = try SafetensorsLayout(laying: tensors.map { ($0.name, .f32, $0.tensor.shape) }, metadata: metadata)
        } catch let error as SafetensorsFormatError {
            throw CheckpointError(message: "\(url.path): cannot write these tensors: \(error.reason)")
        }
        // The layout refused repeated names, so the keys are unique.
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
        let header = layout.encodedHeader()
        try AtomicFile.write(to: url) { output in
            try header.withUnsafeBytes { try output.append($0) }
            for entry in layout.entries {
                let tensor = byName[entry.name]!
                try output.append(UnsafeRawBufferPointer(start: tensor.data, count: tensor.count * MemoryLayout<Float>.size))
            }
        }
    }

    /// The tensors and metadata of the file at `url`. F32 tensors are read as they are; F16,
    /// BF16 and F64 ones are converted to float32 (`Float32Conversion`); a file holding any
    /// other element type is refused, naming its tensors.
    public static func read(from url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw CheckpointError(message: "\(url.path): cannot read: \(error.localizedDescription)")
        }
        return try data.withUnsafeBytes { file in
            let (layout, dataStart) = try parse(file, url: url)
            let unloadable = layout.entries.filter { !Float32Conversion.loadable.contains($0.dtype) }
            guard unloadable.isEmpty else {
                let listed = unloadable.prefix(5).map { "'\($0.name)' (\($0.dtype.rawValue))" }.joined(separator: ", ")
                let more = unloadable.count > 5 ? " and \(unloadable.count - 5) more" : ""
                throw CheckpointError(message: "\(url.path): cannot load tensor\(unloadable.count > 1 ? "s" : "") \(listed)\(more): AutoGLM loads F32, F16, BF16 and F64 tensors (as float32); convert the others to float32 before loading")
            }
            var tensors: [String: Tensor] = [:]
            for entry in layout.entries {
                let tensor = Tensor(zeros: entry.shape)
                let bytes = UnsafeRawBufferPointer(rebasing: file[dataStart + entry.dataOffsets.lowerBound ..< dataStart + entry.dataOffsets.upperBound])
                Float32Conversion.convert(bytes, from: entry.dtype, into: tensor.data)
                tensors[entry.name] = tensor
            }
            return (tensors, layout.metadata)
        }
    }

    /// The validated layout of `file` (the bytes of `url`), or an error naming `url`.
    static func parse(_ file: UnsafeRawBufferPointer, url: URL) throws -> (layout: SafetensorsLayout, dataStart: Int) {
        do {
            return try SafetensorsLayout.parse(file)
        } catch let error as SafetensorsFormatError {
            throw CheckpointError(message: "\(url.path): not a valid safetensors file: \(error.reason)")
        }
    }
}
