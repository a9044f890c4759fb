import CAutoGLM
import Foundation

/// Checks a plugin's `aglm_component_desc` and copies it into Swift values. Every rule of the
/// header that the host can check is checked here, so a malformed descriptor is refused with a
/// message instead of crashing later.
enum DescriptorValidation {
    /// Names of host-owned keys a component may not declare as parameters, by kind.
    static let reservedParameterNames: [ComponentKind: Set<String>] = [
        .attention: ["name"], .optimizer: ["name", "lr"], .evaluator: [], .callback: [],
    ]

    /// Validates `desc` (from library `file`, ABI minor `abiMinor`) and returns the component.
    static func component(from pointer: UnsafePointer<aglm_component_desc>?, file: String,
                          abiMinor: UInt32) throws -> RegisteredComponent {
        guard let pointer else { throw reason("descriptor is NULL") }
        guard pointer.pointee.struct_size >= MemoryLayout<aglm_component_desc>.size else {
            throw reason("descriptor struct_size \(pointer.pointee.struct_size) is smaller than ABI 1.0's \(MemoryLayout<aglm_component_desc>.size): set it to sizeof(aglm_component_desc)")
        }
        let d = pointer.pointee
        guard let kind = kind(d.kind) else { throw reason("unknown kind \(d.kind.rawValue) (expected 1...4)") }
        guard let cname = d.name else { throw reason("\(kind.rawValue) component has a NULL name") }
        let name = String(cString: cname)
        guard isIdentifier(name) else {
            throw reason("component name '\(name)' is not valid: use 1-64 characters of a-z, 0-9 and _, starting with a letter")
        }
        func missing(_ field: String) -> Error { reason("\(kind.rawValue) '\(name)': required function \(field) is NULL") }
        guard d.create != nil else { throw missing("create") }
        guard d.destroy != nil else { throw missing("destroy") }
        guard let vtable = d.vtable else { throw reason("\(kind.rawValue) '\(name)': vtable is NULL") }
        let attention = try checkVtable(kind: kind, name: name, vtable: vtable)
        let params = try parameters(d.params, count: d.param_count, component: name, kind: kind)
        let info = ComponentInfo(kind: kind, name: name,
                                 summary: d.summary.map { String(cString: $0) } ?? "",
                                 version: d.version.map { String(cString: $0) } ?? "",
                                 parameters: params, file: file, abi: "1.\(abiMinor)",
                                 attentionPath: attention?.path, decodes: attention?.decodes ?? false)
        return RegisteredComponent(info: info, desc: d)
    }

    /// Maps the C kind.
    static func kind(_ k: aglm_kind) -> ComponentKind? {
        switch k {
        case AGLM_KIND_ATTENTION: return .attention
        case AGLM_KIND_OPTIMIZER: return .optimizer
        case AGLM_KIND_EVALUATOR: return .evaluator
        case AGLM_KIND_CALLBACK: return .callback
        default: return nil
        }
    }

    /// True for [a-z][a-z0-9_]{0,63}.
    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, s.unicodeScalars.count <= 64,
              ("a"..."z").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    private static func reason(_ text: String) -> Error { DescriptorError(message: text) }

    /// Checks the kind's vtable; for attention returns which path it implements and whether it
    /// has the optional `decode` entry (ABI 1.2).
    private static func checkVtable(kind: ComponentKind, name: String, vtable: UnsafeRawPointer) throws
        -> (path: String, decodes: Bool)? {
        let size = vtable.load(as: Int.self)
        func needSize(_ expected: Int, _ type: String) throws {
            guard size >= expected else {
                throw reason("\(kind.rawValue) '\(name)': vtable struct_size \(size) is smaller than sizeof(\(type)) = \(expected)")
            }
        }
        func missing(_ field: String) -> Error { reason("\(kind.rawValue) '\(name)': required function \(field) is NULL") }
        switch kind {
        case .attention:
            try needSize(ABIStruct.attentionVtableV10, "aglm_attention_vtable of ABI 1.0")
            let v = ABIStruct.load(aglm_attention_vtable.self, sizedAt: vtable)
            let fused = v.fused_forward != nil || v.fused_backward != nil
            if v.forward != nil && fused {
                throw reason("attention '\(name)': implement either forward or fused_forward+fused_backward, not both")
            }
            if v.forward != nil { return ("composed", v.decode != nil) }
            guard v.fused_forward != nil else { throw reason("attention '\(name)': neither forward nor fused_forward is set") }
            guard v.fused_backward != nil else { throw missing("fused_backward (required with fused_forward)") }
            return ("fused", v.decode != nil)
        case .optimizer:
            try needSize(MemoryLayout<aglm_optimizer_vtable>.size, "aglm_optimizer_vtable")
            let v = vtable.load(as: aglm_optimizer_vtable.self)
            guard v.declare_state != nil else { throw missing("declare_state") }
            guard v.step != nil else { throw missing("step") }
        case .evaluator:
            try needSize(MemoryLayout<aglm_evaluator_vtable>.size, "aglm_evaluator_vtable")
            let v = vtable.load(as: aglm_evaluator_vtable.self)
            guard v.reset != nil else { throw missing("reset") }
            guard v.update != nil else { throw missing("update") }
            guard v.compute != nil else { throw missing("compute") }
        case .callback:
            try needSize(MemoryLayout<aglm_callback_vtable>.size, "aglm_callback_vtable")
            let v = vtable.load(as: aglm_callback_vtable.self)
            guard v.on_event != nil else { throw missing("on_event") }
        }
        return nil
    }

    /// Copies and checks the parameter schema.
    private static func parameters(_ specs: UnsafePointer<aglm_param_spec>?, count: Int, component: String,
                                   kind: ComponentKind) throws -> [ParameterSpec] {
        guard count > 0 else { return [] }
        guard count <= 256 else { throw reason("'\(component)': \(count) parameters is more than the 256 allowed") }
        guard let specs else { throw reason("'\(component)': param_count is \(count) but params is NULL") }
        let stride = specs.pointee.struct_size
        guard stride >= ABIStruct.paramSpecV10 else {
            throw reason("'\(component)': aglm_param_spec struct_size \(stride) is smaller than ABI 1.0's \(ABIStruct.paramSpecV10)")
        }
        var result: [ParameterSpec] = []
        let raw = UnsafeRawPointer(specs)
        for i in 0..<count {
            // A 1.0/1.1 spec has no exclusive bounds: they read as 0 (inclusive).
            let s = ABIStruct.load(aglm_param_spec.self, from: raw.advanced(by: i * stride), size: stride)
            guard let cname = s.name else { throw reason("'\(component)': parameter \(i) has a NULL name") }
            let pname = String(cString: cname)
            func bad(_ text: String) -> Error { reason("'\(component)': parameter '\(pname)': \(text)") }
            guard isIdentifier(pname) else { throw bad("name must be a-z, 0-9 and _, starting with a letter") }
            guard !(reservedParameterNames[kind] ?? []).contains(pname) else {
                throw bad("'\(pname)' is reserved by the host for \(kind.rawValue) components")
            }
            guard !result.contains(where: { $0.name == pname }) else { throw bad("declared twice") }
            guard !(s.min > s.max) else { throw bad("min \(s.min) is greater than max \(s.max)") }
            let doc = s.doc.map { String(cString: $0) } ?? ""
            let bounds = try exclusiveBounds(s, bad)
            let spec: ParameterSpec
            switch s.type {
            case AGLM_PARAM_FLOAT, AGLM_PARAM_INT, AGLM_PARAM_BOOL:
                let kind: ParameterSpec.Kind = s.type == AGLM_PARAM_FLOAT ? .float : s.type == AGLM_PARAM_INT ? .int : .bool
                let lo = kind == .bool ? 0 : s.min, hi = kind == .bool ? 1 : s.max
                spec = ParameterSpec(name: pname, kind: kind, doc: doc, defaultValue: .number(s.default_number), min: lo, max: hi,
                                     minExclusive: bounds.min, maxExclusive: bounds.max)
                guard s.default_number.isFinite, spec.admits(s.default_number) else {
                    throw bad("default \(ParameterValue.number(s.default_number)) is outside \(spec.rangeDescription)")
                }
                if kind != .float && s.default_number != s.default_number.rounded() {
                    throw bad("default \(s.default_number) is not a whole number")
                }
            case AGLM_PARAM_STRING:
                spec = ParameterSpec(name: pname, kind: .string, doc: doc,
                                     defaultValue: .string(s.default_string.map { String(cString: $0) } ?? ""))
            case AGLM_PARAM_CHOICE:
                var choices: [String] = []
                if var p = s.choices {
                    while let c = p.pointee, choices.count < 64 { choices.append(String(cString: c)); p += 1 }
                }
                guard !choices.isEmpty else { throw bad("a choice parameter needs a NULL-terminated choices list") }
                let def = s.default_string.map { String(cString: $0) } ?? ""
                guard choices.contains(def) else { throw bad("default '\(def)' is not one of \(choices)") }
                spec = ParameterSpec(name: pname, kind: .choice, doc: doc, defaultValue: .string(def), choices: choices)
            case AGLM_PARAM_FLOAT_LIST:
                guard s.default_list_length <= 4096, s.default_list_length == 0 || s.default_list != nil else {
                    throw bad("default_list is NULL or too long")
                }
                let list = (0..<s.default_list_length).map { s.default_list![$0] }
                if s.list_length > 0 && list.count != s.list_length {
                    throw bad("default has \(list.count) items but list_length is \(s.list_length)")
                }
                spec = ParameterSpec(name: pname, kind: .floatList, doc: doc, defaultValue: .list(list),
                                     min: s.min, max: s.max, minExclusive: bounds.min, maxExclusive: bounds.max,
                                     listLength: s.list_length)
                if let out = list.first(where: { !spec.admits($0) }) {
                    throw bad("default item \(ParameterValue.number(out)) is outside \(spec.rangeDescription)")
                }
            default:
                throw bad("unknown type \(s.type.rawValue)")
            }
            result.append(spec)
        }
        return result
    }

    /// The spec's exclusive-bound flags (ABI 1.2): only for numbers and number lists, and only
    /// on a finite bound.
    private static func exclusiveBounds(_ s: aglm_param_spec, _ bad: (String) -> Error) throws -> (min: Bool, max: Bool) {
        let lo = s.min_exclusive != 0, hi = s.max_exclusive != 0
        guard lo || hi else { return (false, false) }
        guard [AGLM_PARAM_FLOAT, AGLM_PARAM_INT, AGLM_PARAM_FLOAT_LIST].contains(s.type) else {
            throw bad("min_exclusive/max_exclusive apply to FLOAT, INT and FLOAT_LIST parameters only; set them to 0")
        }
        guard !(lo && !s.min.isFinite), !(hi && !s.max.isFinite) else {
            throw bad("an exclusive bound must be finite (an infinite bound excludes nothing); set the flag to 0")
        }
        return (lo, hi)
    }
}

extension ParameterSpec {
    /// Whether the number `d` lies within the bounds (exclusive ones excluded).
    func admits(_ d: Double) -> Bool {
        (minExclusive ? d > min : d >= min) && (maxExclusive ? d < max : d <= max)
    }
}

/// A descriptor that breaks the header's rules.
struct DescriptorError: Error, CustomStringConvertible {
    /// What is wrong.
    let message: String
    var description: String { message }
}
