import Foundation

/// A strict JSON parser (RFC 8259) over UTF-8 bytes. Unlike `JSONDecoder`, it keeps the form of
/// a number: `1` is an integer and `1.0` is a double, which settings such as `max_df` (a count
/// or a fraction) depend on. Nesting is capped, so hostile input cannot exhaust the stack, and a
/// key repeated within one object is rejected: RFC 8259 leaves its meaning open, and parsers
/// that disagree on which copy wins would read one file as two different models.
struct JSONParser {
    static let maximumDepth = 64

    private let bytes: [UInt8]
    private var position = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    struct Failure: Error {}

    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        var parser = JSONParser(bytes)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw Failure() }
        return value
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    private mutating func expect(_ literal: String) throws(Failure) {
        for b in literal.utf8 {
            guard position < bytes.count, bytes[position] == b else { throw Failure() }
            position += 1
        }
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard depth < Self.maximumDepth else { throw Failure() }
        skipWhitespace()
        guard position < bytes.count else { throw Failure() }
        switch bytes[position] {
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "["):
            position += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
            while true {
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard position < bytes.count else { throw Failure() }
                let b = bytes[position]
                position += 1
                if b == UInt8(ascii: "]") { return .array(items) }
                guard b == UInt8(ascii: ",") else { throw Failure() }
            }
        case UInt8(ascii: "{"):
            position += 1
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw Failure() }
                let key = try string()
                skipWhitespace()
                try expect(":")
                guard members.updateValue(try value(depth: depth + 1), forKey: key) == nil else { throw Failure() }
                skipWhitespace()
                guard position < bytes.count else { throw Failure() }
                let b = bytes[position]
                position += 1
                if b == UInt8(ascii: "}") { return .object(members) }
                guard b == UInt8(ascii: ",") else { throw Failure() }
            }
        default:
            return try number()
        }
    }

    private mutating func number() throws(Failure) -> JSONValue {
        let start = position
        var isInteger = true
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, bytes[position] &- 0x30 < 10 else { throw Failure() }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while position < bytes.count, bytes[position] &- 0x30 < 10 { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard position < bytes.count, bytes[position] &- 0x30 < 10 else { throw Failure() }
            while position < bytes.count, bytes[position] &- 0x30 < 10 { position += 1 }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, bytes[position] &- 0x30 < 10 else { throw Failure() }
            while position < bytes.count, bytes[position] &- 0x30 < 10 { position += 1 }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let i = Int64(text) { return .integer(i) }
        guard let d = Double(text) else { throw Failure() }
        return .number(d)
    }

    private mutating func string() throws(Failure) -> String {
        position += 1  // the opening quote
        var out: [UInt8] = []
        while true {
            // Copy a run of plain bytes at once; most strings are one run and need no buffer.
            let runStart = position
            position = Self.endOfPlainRun(bytes, from: position)
            guard position < bytes.count else { throw Failure() }
            let b = bytes[position]
            if b == UInt8(ascii: "\""), out.isEmpty {
                position += 1
                guard let s = String(validating: bytes[runStart..<(position - 1)], as: UTF8.self) else { throw Failure() }
                return s
            }
            out.append(contentsOf: bytes[runStart..<position])
            position += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else { throw Failure() }
                return s
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { throw Failure() }
                let e = bytes[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        try expect("\\u")
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw Failure() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw Failure() }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw Failure()
                }
            default:  // a control character
                throw Failure()
            }
        }
    }

    /// The index of the first byte at or after `start` that ends a run of plain string bytes
    /// (a quote, a backslash or a control character), or the end. Eight bytes at a time: a
    /// text instance is one long run, and this is most of parsing a batch of them.
    private static func endOfPlainRun(_ bytes: [UInt8], from start: Int) -> Int {
        bytes.withUnsafeBufferPointer { b in
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            var p = start
            if let base = b.baseAddress {
                let raw = UnsafeRawPointer(base)
                while p + 8 <= b.count {
                    let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: p, as: UInt64.self))
                    // A high bit per byte below 0x20, equal to a quote or equal to a backslash
                    // (the classic "has a zero byte" test on w, w ^ quotes and w ^ backslashes).
                    let quotes = w ^ (0x22 &* ones)
                    let backslashes = w ^ (0x5C &* ones)
                    let control = (w &- (0x20 &* ones)) & ~w
                    let quote = (quotes &- ones) & ~quotes
                    let backslash = (backslashes &- ones) & ~backslashes
                    if (control | quote | backslash) & highs != 0 { break }
                    p += 8
                }
            }
            while p < b.count {
                let c = b[p]
                if c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { break }
                p += 1
            }
            return p
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard position + 4 <= bytes.count else { throw Failure() }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let d = Int(String(UnicodeScalar(bytes[position])), radix: 16) else { throw Failure() }
            v = v << 4 | UInt32(d)
            position += 1
        }
        return v
    }
}
