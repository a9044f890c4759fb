import Foundation

/// One JSON object on one line, as the run's `log.jsonl` and `autoglm train --log-format json`
/// write them: keys sorted, NaN and infinities (which JSON cannot represent) as null.
public enum JSONRecord {
    /// The object of `fields` (numbers, strings, booleans, nested maps and arrays of them) as one
    /// line of JSON, without the newline; nil if a value is not one of those.
    public static func line(_ fields: [String: Any]) -> String? {
        guard let object = safe(fields) as? [String: Any], JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// `value` with every non-finite double replaced by null.
    private static func safe(_ value: Any) -> Any {
        if let d = value as? Double { return d.isFinite ? d : NSNull() }
        if let m = value as? [String: Any] { return m.mapValues(safe) }
        if let a = value as? [Any] { return a.map(safe) }
        return value
    }
}
