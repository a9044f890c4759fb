import AutoGLM
import CAutoGLM
import Foundation

/// One registered component as the C API lists it: its `aglm_component_info` and its schema as
/// plugin.h's `aglm_param_spec`s, the strings lent from the session.
struct ComponentListing {
    /// The component.
    let info: aglm_component_info
    /// Its parameters, in declaration order.
    let parameters: [aglm_param_spec]

    /// Lends `component`'s description from `memory`.
    init(_ component: ComponentInfo, lending memory: LentMemory) {
        var info = aglm_component_info()
        info.struct_size = MemoryLayout<aglm_component_info>.size
        info.kind = Int32(Self.kind(component.kind).rawValue)
        info.name = memory.string(component.name)
        info.version = memory.string(component.version)
        info.summary = memory.string(component.summary)
        info.file = memory.string(component.file)
        info.abi = memory.string(component.abi)
        info.attention_path = memory.optionalString(component.attentionPath)
        info.param_count = component.parameters.count
        self.info = info
        parameters = component.parameters.map { Self.spec($0, lending: memory) }
    }

    /// plugin.h's kind code.
    private static func kind(_ kind: ComponentKind) -> aglm_kind {
        switch kind {
        case .attention: return AGLM_KIND_ATTENTION
        case .optimizer: return AGLM_KIND_OPTIMIZER
        case .evaluator: return AGLM_KIND_EVALUATOR
        case .callback: return AGLM_KIND_CALLBACK
        }
    }

    /// A parameter as the plugin declared it.
    private static func spec(_ parameter: ParameterSpec, lending memory: LentMemory) -> aglm_param_spec {
        var spec = aglm_param_spec()
        spec.struct_size = MemoryLayout<aglm_param_spec>.size
        spec.name = memory.string(parameter.name)
        spec.doc = memory.string(parameter.doc)
        spec.min = parameter.min
        spec.max = parameter.max
        spec.list_length = parameter.listLength
        switch parameter.kind {
        case .float: spec.type = AGLM_PARAM_FLOAT
        case .int: spec.type = AGLM_PARAM_INT
        case .bool: spec.type = AGLM_PARAM_BOOL
        case .string, .stringList, .hook: spec.type = AGLM_PARAM_STRING  // string lists and hooks are host keys only
        case .choice:
            spec.type = AGLM_PARAM_CHOICE
            spec.choices = memory.array(parameter.choices.map { Optional(memory.string($0)) } + [nil])
        case .floatList: spec.type = AGLM_PARAM_FLOAT_LIST
        }
        switch parameter.defaultValue {
        case .number(let number): spec.default_number = number
        case .string(let text): spec.default_string = memory.string(text)
        case .list(let list):
            spec.default_list = memory.array(list)
            spec.default_list_length = list.count
        case .strings(let items): spec.default_string = memory.string(items.joined(separator: ","))
        case .hook(let binding): spec.default_string = memory.string(binding.shorthand ?? binding.function ?? binding.symbol ?? "")
        }
        return spec
    }
}
