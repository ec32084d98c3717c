/// A named array of numbers in a model file: a shape and row-major elements of one dtype.
public struct Tensor: Sendable, Equatable {
    /// The element types Lathe reads and writes, with safetensors' names.
    public enum DType: String, Sendable, CaseIterable {
        case f64 = "F64"
        case i64 = "I64"
        case u8 = "U8"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .f64, .i64: return 8
            case .u8: return 1
            }
        }
    }

    /// The elements.
    public enum Storage: Sendable, Equatable {
        case f64([Double])
        case i64([Int64])
        case u8([UInt8])
    }

    public let shape: [Int]
    public let storage: Storage

    /// A tensor of doubles.
    /// - Precondition: `values.count` equals the product of `shape`.
    public init(_ values: [Double], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "tensor shape does not match its element count")
        self.shape = shape
        self.storage = .f64(values)
    }

    /// A tensor of 64-bit integers.
    public init(_ values: [Int64], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "tensor shape does not match its element count")
        self.shape = shape
        self.storage = .i64(values)
    }

    /// A tensor of bytes.
    public init(_ values: [UInt8], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "tensor shape does not match its element count")
        self.shape = shape
        self.storage = .u8(values)
    }

    public var dtype: DType {
        switch storage {
        case .f64: return .f64
        case .i64: return .i64
        case .u8: return .u8
        }
    }

    public var elementCount: Int {
        switch storage {
        case let .f64(v): return v.count
        case let .i64(v): return v.count
        case let .u8(v): return v.count
        }
    }

    public var doubles: [Double]? { if case let .f64(v) = storage { return v }; return nil }
    public var int64s: [Int64]? { if case let .i64(v) = storage { return v }; return nil }
    public var bytes: [UInt8]? { if case let .u8(v) = storage { return v }; return nil }
}
