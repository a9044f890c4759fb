import Foundation

/// Arguments written as text, one `name=value` each (`step=10 base_lr=0.001 x=1,2.5,3`): the
/// form of `autoglm call` and of a function's documented example arguments. Each value is read
/// as its parameter's type: integers in decimal, `true`/`false` (or 1/0) for bool, floats in
/// Swift's `Double`/`Float` syntax, strings verbatim, buffers as comma-separated floats (empty
/// for an empty buffer). This object owns the buffers' memory; after a call, `writtenBuffers`
/// holds what the function wrote into its `float *` buffers.
public final class FunctionTextArguments {
    /// The parsed arguments, by parameter name (pass to `FunctionBinding.call(named:)`).
    public let values: [String: FunctionArgument]
    /// Buffers allocated for buffer parameters, in prototype order.
    private let buffers: [(parameter: CParameter, memory: UnsafeMutableBufferPointer<Float>)]

    /// Parses `words` (each `name=value`) against `prototype`. Unknown, repeated or malformed
    /// arguments are errors naming the parameter and the prototype; missing ones are reported
    /// by the call.
    public init(_ words: [String], prototype: CPrototype) throws {
        var values: [String: FunctionArgument] = [:]
        var buffers: [(CParameter, UnsafeMutableBufferPointer<Float>)] = []
        var failure: Error?
        for word in words {
            do {
                guard let eq = word.firstIndex(of: "="), eq != word.startIndex else {
                    throw FunctionCallError(prototype, "argument '\(word)' is not name=value")
                }
                let name = String(word[..<eq]), text = String(word[word.index(after: eq)...])
                let names = prototype.parameters.map(\.name)
                guard let parameter = prototype.parameters.first(where: { $0.name == name }) else {
                    throw FunctionCallError(prototype, "unknown argument '\(name)'\(Suggestion.hint(for: name, in: names))")
                }
                guard values[name] == nil else { throw FunctionCallError(prototype, "argument '\(name)' is given twice") }
                if case .floatBuffer = parameter.type.kind {
                    let items = try Self.floats(text, parameter: parameter, prototype: prototype)
                    let memory = UnsafeMutableBufferPointer<Float>.allocate(capacity: items.count)
                    _ = memory.initialize(from: items)
                    buffers.append((parameter, memory))
                    values[name] = .buffer(FloatBuffer(memory))
                } else {
                    values[name] = try Self.scalar(text, parameter: parameter, prototype: prototype)
                }
            } catch {
                failure = error
                break
            }
        }
        if let failure {
            for (_, memory) in buffers { memory.deallocate() }
            throw failure
        }
        self.values = values
        self.buffers = buffers
    }

    /// Parses one line of whitespace-separated `name=value` words (values cannot hold spaces).
    public convenience init(line: String, prototype: CPrototype) throws {
        try self.init(line.split(whereSeparator: \.isWhitespace).map(String.init), prototype: prototype)
    }

    deinit {
        for (_, memory) in buffers { memory.deallocate() }
    }

    /// The `float *` buffers as they are now (after a call: as the function left them), in
    /// prototype order.
    public var writtenBuffers: [(name: String, values: [Float])] {
        buffers.compactMap { entry in
            guard case .floatBuffer(writable: true) = entry.parameter.type.kind else { return nil }
            return (entry.parameter.name, Array(entry.memory))
        }
    }

    /// A scalar or string value of `parameter`'s type.
    private static func scalar(_ text: String, parameter: CParameter, prototype: CPrototype) throws -> FunctionArgument {
        func bad(_ expected: String) -> FunctionCallError {
            FunctionCallError(prototype, "argument '\(parameter.name)' is \(parameter.type.spelling): '\(text)' is not \(expected)")
        }
        switch parameter.type.kind {
        case .signed, .unsigned:
            if let v = Int64(text) { return .int(v) }
            if let v = UInt64(text) { return .uint(v) }
            throw bad("a decimal integer")
        case .bool:
            switch text {
            case "true", "1": return .bool(true)
            case "false", "0": return .bool(false)
            default: throw bad("true or false")
            }
        case .float:
            guard let v = Float(text) else { throw bad("a number") }
            return .float(v)
        case .double:
            guard let v = Double(text) else { throw bad("a number") }
            return .double(v)
        case .string: return .string(text)
        case .void, .floatBuffer: throw bad("a scalar")
        }
    }

    /// The items of a buffer written as "1,2.5,3" ("" for none).
    private static func floats(_ text: String, parameter: CParameter, prototype: CPrototype) throws -> [Float] {
        guard !text.isEmpty else { return [] }
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
            guard let v = Float(item.trimmingCharacters(in: .whitespaces)) else {
                throw FunctionCallError(prototype, "argument '\(parameter.name)' is a buffer (\(parameter.type.spelling)): '\(item)' in '\(text)' is not a number; write comma-separated floats such as 1,2.5,3")
            }
            return v
        }
    }
}
