/// One hyper-parameter value.
public enum ParameterValue: Sendable, Equatable, CustomStringConvertible {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// A list of integers, such as `hidden_layer_sizes=100,50`.
    case ints([Int])
    /// scikit-learn's `None` (`max_depth=none`: no limit).
    case none

    public var description: String {
        switch self {
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d): return String(d)
        case let .string(s): return s
        case let .ints(list): return list.map(String.init).joined(separator: ",")
        case .none: return "none"
        }
    }

    /// The value in JSON (model-file `params`, `--json` output).
    public var json: JSONValue {
        switch self {
        case let .bool(b): return .bool(b)
        case let .int(i): return .integer(Int64(i))
        case let .double(d): return .number(d)
        case let .string(s): return .string(s)
        case let .ints(list): return .array(list.map { .integer(Int64($0)) })
        case .none: return .null
        }
    }
}

/// The declaration of one hyper-parameter: its scikit-learn name, type, range and default.
public struct ParameterSpec: Sendable {
    /// The accepted values.
    public enum Kind: Sendable {
        case bool
        /// An integer `>= minimum`.
        case int(minimum: Int)
        /// A finite number above `minimum` (strictly when `exclusive`).
        case double(minimum: Double, exclusive: Bool)
        /// One of these words.
        case choice([String])
        /// A non-empty comma-separated list of integers, each `>= minimum`.
        case ints(minimum: Int)
        /// A document count (an integer `>= 0`) or a fraction of documents (a number with a
        /// decimal point, in [0, 1]), as scikit-learn's `min_df`/`max_df`.
        case documentFrequency
        /// `none`, `balanced`, or per-class weights `LABEL:WEIGHT,LABEL:WEIGHT` (`ClassWeight`).
        case classWeight
        /// `none` (no limit) or an integer `>= minimum`, as `max_depth`.
        case optionalInt(minimum: Int)
        /// A sample count (an integer `>= minimum`) or a fraction of the samples (a number with a
        /// decimal point, in (0, 1]), as `min_samples_split`.
        case countOrFraction(minimum: Int)
        /// `max_features`: `sqrt`, `log2`, `none` (all), a count `>= 1`, or a fraction in (0, 1].
        case maxFeatures
        /// `auto` (chosen from the data) or an integer `>= minimum`, as `batch_size`.
        case autoOrInt(minimum: Int)
    }

    public var name: String
    public var kind: Kind
    public var defaultValue: ParameterValue
    public var summary: String

    public init(_ name: String, _ kind: Kind, default defaultValue: ParameterValue, _ summary: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.summary = summary
    }

    /// What the value may be, for error messages and help.
    public var domain: String {
        switch kind {
        case .bool: return "true or false"
        case let .int(minimum): return "an integer >= \(minimum)"
        case let .double(minimum, exclusive): return "a number \(exclusive ? ">" : ">=") \(minimum)"
        case let .choice(words): return "one of " + words.joined(separator: ", ")
        case let .ints(minimum): return "comma-separated integers >= \(minimum)"
        case .documentFrequency: return "a document count (integer >= 0) or a fraction in [0.0, 1.0]"
        case .classWeight: return "none, balanced, or LABEL:WEIGHT,... with weights > 0"
        case let .optionalInt(minimum): return "none or an integer >= \(minimum)"
        case let .countOrFraction(minimum): return "an integer >= \(minimum) or a fraction in (0.0, 1.0]"
        case .maxFeatures: return "sqrt, log2, none, an integer >= 1 or a fraction in (0.0, 1.0]"
        case let .autoOrInt(minimum): return "auto or an integer >= \(minimum)"
        }
    }

    /// Parses the text of a `--set` value.
    /// - Throws: `UsageError` naming the parameter and what it accepts.
    public func parse(_ text: String) throws(UsageError) -> ParameterValue {
        let value: ParameterValue?
        switch kind {
        case .bool:
            switch text.lowercased() {
            case "true", "1", "yes": value = .bool(true)
            case "false", "0", "no": value = .bool(false)
            default: value = nil
            }
        case let .int(minimum):
            value = Self.int(text, minimum: minimum)
        case let .double(minimum, exclusive):
            value = Double(text).flatMap { v in
                v.isFinite && (exclusive ? v > minimum : v >= minimum) ? .double(v) : nil
            }
        case let .choice(words):
            value = words.contains(text) ? .string(text) : nil
        case let .ints(minimum):
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
            value = !parts.isEmpty && parts.allSatisfy({ $0.map { $0 >= minimum } ?? false })
                ? .ints(parts.map { $0! }) : nil
        case .classWeight:
            value = (try? ClassWeight(parsing: text)).map { .string($0.text) }
        case .documentFrequency:
            if let count = Int(text) {
                value = count >= 0 ? .int(count) : nil
            } else {
                value = Double(text).flatMap { (0...1).contains($0) ? .double($0) : nil }
            }
        case let .optionalInt(minimum):
            value = text.lowercased() == "none" ? ParameterValue.none : Self.int(text, minimum: minimum)
        case let .countOrFraction(minimum):
            value = Self.countOrFraction(text, minimum: minimum)
        case let .autoOrInt(minimum):
            value = text.lowercased() == "auto" ? .string("auto") : Self.int(text, minimum: minimum)
        case .maxFeatures:
            switch text.lowercased() {
            case "sqrt", "log2": value = .string(text.lowercased())
            case "none": value = ParameterValue.none
            default: value = Self.countOrFraction(text, minimum: 1)
            }
        }
        guard let value else { throw UsageError("\(name)=\(text): expected \(domain)") }
        return value
    }

    /// An integer `>= minimum`.
    private static func int(_ text: String, minimum: Int) -> ParameterValue? {
        Int(text).flatMap { $0 >= minimum ? .int($0) : nil }
    }

    /// An integer `>= minimum`, or a number with a decimal point in (0, 1].
    private static func countOrFraction(_ text: String, minimum: Int) -> ParameterValue? {
        if let count = Int(text) { return count >= minimum ? .int(count) : nil }
        return Double(text).flatMap { $0 > 0 && $0 <= 1 ? .double($0) : nil }
    }

    /// Checks a value read from a model file or built in code against this declaration.
    func validate(_ value: JSONValue) -> ParameterValue? {
        switch (kind, value) {
        case (.bool, .bool(let b)): return .bool(b)
        case (.int, _): return value.integerValue.flatMap { Int(exactly: $0) }.flatMap { try? parse(String($0)) }
        case (.double, _): return value.doubleValue.flatMap { try? parse(String($0)) }
        case (.choice, .string(let s)): return try? parse(s)
        case (.classWeight, .string(let text)): return try? parse(text)
        case (.documentFrequency, .integer(let i)): return try? parse(String(i))
        case (.documentFrequency, .number(let d)): return (0...1).contains(d) ? .double(d) : nil
        case (.optionalInt, .null), (.maxFeatures, .null): return ParameterValue.none
        case (.optionalInt, .integer(let i)), (.countOrFraction, .integer(let i)), (.maxFeatures, .integer(let i)):
            return try? parse(String(i))
        case (.countOrFraction, .number(let d)), (.maxFeatures, .number(let d)):
            return d > 0 && d <= 1 ? .double(d) : nil
        case (.maxFeatures, .string(let word)) where word == "sqrt" || word == "log2": return .string(word)
        case (.autoOrInt, .string("auto")): return .string("auto")
        case (.autoOrInt, .integer(let i)): return try? parse(String(i))
        case (.ints, .array(let items)):
            let ints = items.compactMap { $0.integerValue.flatMap { Int(exactly: $0) } }
            guard ints.count == items.count else { return nil }
            return try? parse(ints.map(String.init).joined(separator: ","))
        default: return nil
        }
    }
}

/// A complete set of hyper-parameter values for one estimator: every declared parameter has a
/// value, each checked against its declaration.
public struct Parameters: Sendable, Equatable {
    public private(set) var names: [String]
    private var values: [String: ParameterValue]

    /// Every parameter at its default.
    public init(defaults specs: [ParameterSpec]) {
        names = specs.map(\.name)
        values = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0.defaultValue) })
    }

    /// Defaults overridden by `KEY=VALUE` assignments.
    /// - Throws: `UsageError` for an unknown key (listing the valid ones) or a bad value.
    public init(specs: [ParameterSpec], assignments: [(key: String, value: String)], estimator: String) throws(UsageError) {
        self.init(defaults: specs)
        for (key, text) in assignments {
            guard let spec = specs.first(where: { $0.name == key }) else {
                let valid = specs.map(\.name).joined(separator: ", ")
                throw UsageError("unknown parameter \(quoted(key)) for \(estimator) (valid: \(valid.isEmpty ? "none" : valid))")
            }
            do {
                values[key] = try spec.parse(text)
            } catch {
                throw UsageError("\(error.message) (\(estimator) parameters: \(specs.map(\.name).joined(separator: ", ")))")
            }
        }
    }

    /// Values read back from a model file's `params` JSON.
    /// - Throws: `InputError` when a value is missing, unknown or invalid.
    public init(specs: [ParameterSpec], json: JSONValue, location: String) throws(InputError) {
        self.init(defaults: specs)
        guard let object = json.objectValue else { throw InputError("params is not a JSON object", at: location) }
        // In key order, so a file with several bad keys always names the same one first.
        for (key, raw) in object.sorted(by: { $0.key < $1.key }) {
            guard let spec = specs.first(where: { $0.name == key }) else {
                throw InputError("unknown parameter \(quoted(key)) in params", at: location)
            }
            guard let value = spec.validate(raw) else {
                throw InputError("invalid value for \(quoted(key)) in params", at: location)
            }
            values[key] = value
        }
    }

    /// The value of `name`; traps for an undeclared name (a programming error).
    public subscript(name: String) -> ParameterValue {
        guard let v = values[name] else { preconditionFailure("undeclared parameter \(name)") }
        return v
    }

    public func bool(_ name: String) -> Bool {
        if case let .bool(b) = self[name] { return b }
        preconditionFailure("\(name) is not a bool")
    }

    public func double(_ name: String) -> Double {
        switch self[name] {
        case let .double(d): return d
        case let .int(i): return Double(i)
        default: preconditionFailure("\(name) is not a number")
        }
    }

    public func int(_ name: String) -> Int {
        if case let .int(i) = self[name] { return i }
        preconditionFailure("\(name) is not an integer")
    }

    /// An optional integer (`max_depth`): nil for `none`.
    public func optionalInt(_ name: String) -> Int? {
        switch self[name] {
        case let .int(i): return i
        case .none: return nil
        default: preconditionFailure("\(name) is not an optional integer")
        }
    }

    /// A list of integers (`hidden_layer_sizes`).
    public func ints(_ name: String) -> [Int] {
        if case let .ints(list) = self[name] { return list }
        preconditionFailure("\(name) is not a list of integers")
    }

    /// An integer or `auto` (`batch_size`): nil for `auto`.
    public func autoOrInt(_ name: String) -> Int? {
        switch self[name] {
        case let .int(i): return i
        case .string("auto"): return nil
        default: preconditionFailure("\(name) is not auto or an integer")
        }
    }

    public func string(_ name: String) -> String {
        if case let .string(s) = self[name] { return s }
        preconditionFailure("\(name) is not a word")
    }

    /// Sets a value in code, checked like a `--set` value.
    /// - Throws: `UsageError` when `name` is not declared or the value is out of range.
    public mutating func set(_ name: String, _ value: ParameterValue, specs: [ParameterSpec]) throws(UsageError) {
        guard let spec = specs.first(where: { $0.name == name }) else { throw UsageError("unknown parameter \(quoted(name))") }
        guard let checked = spec.validate(value.json) else { throw UsageError("\(name)=\(value): expected \(spec.domain)") }
        values[name] = checked
    }

    /// `{"name": value, ...}`.
    public var json: JSONValue {
        .object(Dictionary(uniqueKeysWithValues: names.map { ($0, values[$0]!.json) }))
    }
}
