import Foundation

/// A safetensors container: string metadata and named tensors.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of JSON (padded with spaces to a
/// multiple of 8) mapping each tensor name to `{"dtype", "shape", "data_offsets"}` plus an
/// optional `__metadata__` object of strings, then the tensors' little-endian bytes, back to back
/// in the order of their offsets.
public struct SafeTensors: Sendable, Equatable {
    public var metadata: [String: String]
    public var tensors: [String: Tensor]

    /// Largest header accepted when reading: the format's own limit.
    public static let maximumHeaderLength = 100_000_000
    /// Deepest JSON nesting accepted in a header (a real header needs 3).
    static let maximumHeaderDepth = 16

    public init(metadata: [String: String] = [:], tensors: [String: Tensor] = [:]) {
        self.metadata = metadata
        self.tensors = tensors
    }

    /// The file's bytes. Tensors are laid out in name order.
    public func serialized() -> [UInt8] {
        var header: [String: JSONValue] = [:]
        if !metadata.isEmpty {
            header["__metadata__"] = .object(metadata.mapValues { .string($0) })
        }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            let length = t.elementCount * t.dtype.size
            header[name] = .object([
                "dtype": .string(t.dtype.rawValue),
                "shape": .array(t.shape.map { .integer(Int64($0)) }),
                "data_offsets": .array([.integer(Int64(offset)), .integer(Int64(offset + length))]),
            ])
            offset += length
        }
        var headerBytes = Array(JSONValue.object(header).jsonText.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for name in names {
            switch tensors[name]!.storage {
            case let .f64(values):
                for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            case let .i64(values):
                for v in values { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
            case let .u8(values):
                out.append(contentsOf: values)
            }
        }
        return out
    }

    /// Parses and checks a container. Nothing in the bytes is trusted: the header length, JSON,
    /// dtypes, shapes and offsets are all checked before any tensor is read.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - location: the file's name, for error messages.
    /// - Throws: `InputError` describing the first problem found.
    public init(bytes: [UInt8], location: String) throws(InputError) {
        func fail(_ message: String) -> InputError { InputError(message, at: location) }
        guard bytes.count >= 8 else { throw fail("not a model file: \(bytes.count) bytes is too short for a safetensors header") }
        var length: UInt64 = 0
        for k in 0..<8 { length |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        guard length <= UInt64(Self.maximumHeaderLength) else {
            throw fail("not a model file: header length \(length) exceeds the \(Self.maximumHeaderLength)-byte limit")
        }
        let headerLength = Int(length)
        guard headerLength <= bytes.count - 8 else {
            throw fail("truncated: header claims \(headerLength) bytes but the file has \(bytes.count - 8) after the length")
        }
        guard headerLength >= 2, bytes[8] == UInt8(ascii: "{") else { throw fail("not a model file: header is not a JSON object") }
        let headerSlice = bytes[8..<(8 + headerLength)]
        guard Self.nestingDepth(headerSlice) <= Self.maximumHeaderDepth else {
            throw fail("header JSON is nested too deeply")
        }
        guard let header = try? JSONValue.parse(Data(headerSlice)).objectValue else {
            throw fail("header is not a valid JSON object")
        }
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart

        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let object = raw.objectValue else { throw fail("__metadata__ is not an object") }
            for (key, value) in object {
                guard let s = value.stringValue else { throw fail("__metadata__ value for \(quoted(key)) is not a string") }
                metadata[key] = s
            }
        }

        struct Entry { var name: String; var dtype: Tensor.DType; var shape: [Int]; var begin: Int; var end: Int }
        var entries: [Entry] = []
        for (name, raw) in header where name != "__metadata__" {
            guard let info = raw.objectValue else { throw fail("tensor \(quoted(name)): entry is not an object") }
            guard let dtypeName = info["dtype"]?.stringValue else { throw fail("tensor \(quoted(name)): no dtype") }
            guard let dtype = Tensor.DType(rawValue: dtypeName) else {
                throw fail("tensor \(quoted(name)): unsupported dtype \(quoted(dtypeName))")
            }
            guard let shapeValues = info["shape"]?.arrayValue else { throw fail("tensor \(quoted(name)): no shape") }
            var shape: [Int] = []
            var count = 1
            for dimension in shapeValues {
                guard let d = dimension.integerValue, d >= 0, let di = Int(exactly: d) else {
                    throw fail("tensor \(quoted(name)): shape entries must be non-negative integers")
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: di)
                guard !overflow, product <= dataLength else {
                    throw fail("tensor \(quoted(name)): shape \(shapeValues.compactMap(\.integerValue)) is larger than the file")
                }
                count = product
                shape.append(di)
            }
            guard let offsets = info["data_offsets"]?.arrayValue, offsets.count == 2,
                  let b64 = offsets[0].integerValue, let e64 = offsets[1].integerValue,
                  let begin = Int(exactly: b64), let end = Int(exactly: e64) else {
                throw fail("tensor \(quoted(name)): data_offsets must be two integers")
            }
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw fail("tensor \(quoted(name)): data_offsets [\(begin), \(end)] fall outside the \(dataLength) data bytes")
            }
            guard end - begin == count * dtype.size else {
                throw fail("tensor \(quoted(name)): \(end - begin) bytes do not hold shape \(shape) of \(quoted(dtypeName))")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expected = 0
        for entry in entries {
            guard entry.begin == expected else {
                throw fail(entry.begin < expected
                    ? "tensor \(quoted(entry.name)) overlaps another tensor"
                    : "gap in the data before tensor \(quoted(entry.name))")
            }
            expected = entry.end
        }
        guard expected == dataLength else { throw fail("\(dataLength - expected) bytes after the last tensor") }

        var tensors: [String: Tensor] = [:]
        bytes.withUnsafeBytes { raw in
            for entry in entries {
                let count = entry.shape.reduce(1, *)
                let base = dataStart + entry.begin
                switch entry.dtype {
                case .f64:
                    let values = (0..<count).map { i in
                        Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * i, as: UInt64.self)))
                    }
                    tensors[entry.name] = Tensor(values, shape: entry.shape)
                case .i64:
                    let values = (0..<count).map { i in
                        Int64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * i, as: Int64.self))
                    }
                    tensors[entry.name] = Tensor(values, shape: entry.shape)
                case .u8:
                    tensors[entry.name] = Tensor(Array(raw[base..<(base + count)]), shape: entry.shape)
                }
            }
        }
        self.metadata = metadata
        self.tensors = tensors
    }

    /// The deepest nesting of `[`/`{` outside strings.
    private static func nestingDepth(_ bytes: ArraySlice<UInt8>) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1; deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }
}
