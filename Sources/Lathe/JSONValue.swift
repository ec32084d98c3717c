import Foundation

/// A parsed JSON document, for the places where keys are chosen at run time (JSON-lines data,
/// model-file headers, request bodies) and every value must be checked before use.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    /// An integer that fits in 64 bits, kept exact.
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let i = try? container.decode(Int64.self) { self = .integer(i) }
        else if let d = try? container.decode(Double.self) { self = .number(d) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(b): try container.encode(b)
        case let .integer(i): try container.encode(i)
        case let .number(d): try container.encode(d)
        case let .string(s): try container.encode(s)
        case let .array(a): try container.encode(a)
        case let .object(o): try container.encode(o)
        }
    }

    /// Parses UTF-8 JSON text.
    /// - Throws: `InputError` when the text is not JSON.
    public static func parse(_ data: Data, location: String? = nil) throws(InputError) -> JSONValue {
        try parse([UInt8](data), location: location)
    }

    /// Parses UTF-8 JSON bytes; nesting deeper than 64 levels is refused as invalid.
    /// - Throws: `InputError` when the bytes are not JSON.
    public static func parse(_ bytes: [UInt8], location: String? = nil) throws(InputError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw InputError("not valid JSON", at: location)
        }
    }

    /// Compact JSON text with sorted keys. NaN and infinities, which JSON cannot represent,
    /// are written as `null`.
    public var jsonText: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// `jsonText` as UTF-8 bytes, built without going through `String` (what a server sends).
    public var jsonBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(to: &out)
        return out
    }

    /// Appends `jsonBytes` to `out`, for writers that lay out their own documents.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .integer(i): out.append(contentsOf: String(i).utf8)
        case let .number(d): Self.writeNumber(d, to: &out)
        case let .string(s): Self.writeString(s, to: &out)
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (k, key) in members.keys.sorted().enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `d` as `jsonText` writes it (`null` for NaN and infinities).
    public static func writeNumber(_ d: Double, to out: inout [UInt8]) {
        guard d.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        // `Double.write(to:)` is `description`'s shortest round-trip digits, handed to the
        // stream as ASCII bytes: no String is made for each number of a large answer.
        var stream = ByteStream(bytes: out)
        out = []
        d.write(to: &stream)
        out = stream.bytes
    }

    /// Text written straight into a byte array.
    private struct ByteStream: TextOutputStream {
        var bytes: [UInt8]

        mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }

        mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }
    }

    /// Appends `s` as a JSON string literal: runs of bytes that need no escape are copied whole.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { bytes in
            out.append(UInt8(ascii: "\""))
            var runStart = 0
            for (i, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                runStart = i + 1
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
                case UInt8(ascii: "\n"): out.append(contentsOf: "\\n".utf8)
                case UInt8(ascii: "\r"): out.append(contentsOf: "\\r".utf8)
                case UInt8(ascii: "\t"): out.append(contentsOf: "\\t".utf8)
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: "\\u00".utf8)
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0xF)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
            out.append(UInt8(ascii: "\""))
        }
    }

    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    public var objectValue: [String: JSONValue]? { if case let .object(o) = self { return o }; return nil }
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
    /// The value as an exact integer (an integral JSON number qualifies).
    public var integerValue: Int64? {
        switch self {
        case let .integer(i): return i
        case let .number(d) where d.rounded() == d && abs(d) < 9.0e15: return Int64(d)
        default: return nil
        }
    }
    /// The value as a Double (integers convert).
    public var doubleValue: Double? {
        switch self {
        case let .integer(i): return Double(i)
        case let .number(d): return d
        default: return nil
        }
    }
}
