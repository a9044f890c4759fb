import Foundation

/// Small JSON writers (the resolved config is written as one JSON line without going through
/// `[String: Any]`).
enum JSONText {
    /// A number: integral values without a fraction, others in Swift's shortest round-trip form.
    static func number(_ d: Double) -> String { ParameterValue.number(d).description }

    /// A string literal with JSON escapes.
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A list of strings.
    static func strings(_ items: [String]) -> String { "[" + items.map(string).joined(separator: ",") + "]" }

    /// Nests dotted keys into objects and writes them with sorted keys, e.g.
    /// `[("a.b", "1"), ("c", "2")]` → `{"a":{"b":1},"c":2}`. Values are JSON texts already.
    static func object(dottedKeys entries: [(key: String, json: String)]) -> String {
        final class Node { var leaf: String?; var children: [String: Node] = [:] }
        let root = Node()
        for (key, json) in entries {
            var node = root
            for part in key.split(separator: ".").map(String.init) {
                if let next = node.children[part] { node = next } else {
                    let next = Node(); node.children[part] = next; node = next
                }
            }
            node.leaf = json
        }
        func write(_ node: Node) -> String {
            if let leaf = node.leaf, node.children.isEmpty { return leaf }
            return "{" + node.children.keys.sorted().map { string($0) + ":" + write(node.children[$0]!) }
                .joined(separator: ",") + "}"
        }
        return write(root)
    }
}
