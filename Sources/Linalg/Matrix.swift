/// A dense matrix of `Double` in row-major order: element (i, j) sits at `i * columnCount + j`.
///
/// A value type with copy-on-write storage. Products, factorisations and solvers live in the
/// `Matrix+BLAS.swift` and `Matrix+LAPACK.swift` extensions.
public struct Matrix: Sendable, Equatable {
    /// Number of rows.
    public let rowCount: Int
    /// Number of columns.
    public let columnCount: Int
    /// The elements, row after row (`rowCount * columnCount` of them).
    public private(set) var elements: [Double]

    /// A matrix with every element set to `value`.
    public init(rowCount: Int, columnCount: Int, repeating value: Double = 0) {
        precondition(rowCount >= 0 && columnCount >= 0, "negative matrix dimension")
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.elements = Array(repeating: value, count: rowCount * columnCount)
    }

    /// A matrix over existing row-major elements.
    /// - Throws: `LinalgError.shapeMismatch` when `elements.count != rowCount * columnCount`.
    public init(rowCount: Int, columnCount: Int, elements: [Double]) throws(LinalgError) {
        guard rowCount >= 0, columnCount >= 0, elements.count == rowCount * columnCount else {
            throw .shapeMismatch(operation: "Matrix(rowCount:columnCount:elements:)",
                                 left: [rowCount, columnCount], right: [elements.count])
        }
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.elements = elements
    }

    /// A matrix from an array of equally long rows.
    /// - Throws: `LinalgError.shapeMismatch` when the rows differ in length.
    public init(rows: [[Double]]) throws(LinalgError) {
        let columns = rows.first?.count ?? 0
        var elements: [Double] = []
        elements.reserveCapacity(rows.count * columns)
        for (i, row) in rows.enumerated() {
            guard row.count == columns else {
                throw .shapeMismatch(operation: "Matrix(rows:) row \(i)", left: [columns], right: [row.count])
            }
            elements.append(contentsOf: row)
        }
        self.rowCount = rows.count
        self.columnCount = columns
        self.elements = elements
    }

    /// The identity matrix of order `n`.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rowCount: n, columnCount: n)
        for i in 0..<n { m.elements[i * n + i] = 1 }
        return m
    }

    /// `[rowCount, columnCount]`.
    public var shape: [Int] { [rowCount, columnCount] }

    /// Element (row, column).
    public subscript(row: Int, column: Int) -> Double {
        get { elements[row * columnCount + column] }
        set { elements[row * columnCount + column] = newValue }
    }

    /// Overwrites row `i` with `values` (`columnCount` of them).
    public mutating func setRow(_ i: Int, _ values: [Double]) {
        precondition(values.count == columnCount && (0..<rowCount).contains(i), "setRow: bad row or length")
        elements.replaceSubrange((i * columnCount)..<((i + 1) * columnCount), with: values)
    }

    /// A copy of row `i`.
    public func row(_ i: Int) -> [Double] {
        Array(elements[(i * columnCount)..<((i + 1) * columnCount)])
    }

    /// A copy of column `j`.
    public func column(_ j: Int) -> [Double] {
        (0..<rowCount).map { elements[$0 * columnCount + j] }
    }

    /// The rows at `indices`, in that order (indices may repeat).
    public func rows(_ indices: [Int]) -> Matrix {
        var out = Matrix(rowCount: indices.count, columnCount: columnCount)
        let c = columnCount
        guard c > 0 else {
            precondition(indices.allSatisfy { $0 >= 0 && $0 < rowCount }, "row index out of range")
            return out
        }
        elements.withUnsafeBufferPointer { src in
            out.elements.withUnsafeMutableBufferPointer { dst in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i < rowCount, "row index out of range")
                    (dst.baseAddress! + k * c).update(from: src.baseAddress! + i * c, count: c)
                }
            }
        }
        return out
    }

    /// The transpose.
    public func transposed() -> Matrix {
        let (r, c) = (rowCount, columnCount)
        // A row or column vector has the same elements in the same order either way: share them.
        if r <= 1 || c <= 1 { return try! Matrix(rowCount: c, columnCount: r, elements: elements) }
        var out = Matrix(rowCount: c, columnCount: r)
        elements.withUnsafeBufferPointer { src in
            out.elements.withUnsafeMutableBufferPointer { dst in
                for i in 0..<r {
                    for j in 0..<c { dst[j * r + i] = src[i * c + j] }
                }
            }
        }
        return out
    }

    /// True when every element is finite.
    public var isFinite: Bool {
        elements.withUnsafeBufferPointer { buf in
            for v in buf where !v.isFinite { return false }
            return true
        }
    }

    /// Mean of each column (length `columnCount`); zeros for an empty matrix.
    public func columnMeans() -> [Double] {
        var sums = [Double](repeating: 0, count: columnCount)
        guard rowCount > 0 else { return sums }
        let c = columnCount
        elements.withUnsafeBufferPointer { src in
            sums.withUnsafeMutableBufferPointer { s in
                for i in 0..<rowCount {
                    let base = i * c
                    for j in 0..<c { s[j] += src[base + j] }
                }
            }
        }
        let n = Double(rowCount)
        return sums.map { $0 / n }
    }

    /// Subtracts `offsets[j]` from every element of column `j`.
    public mutating func subtractFromColumns(_ offsets: [Double]) {
        precondition(offsets.count == columnCount, "one offset per column")
        let c = columnCount
        let r = rowCount
        offsets.withUnsafeBufferPointer { o in
            elements.withUnsafeMutableBufferPointer { dst in
                for i in 0..<r {
                    let base = i * c
                    for j in 0..<c { dst[base + j] -= o[j] }
                }
            }
        }
    }

    /// Divides every element of column `j` by `divisors[j]`.
    public mutating func divideColumns(by divisors: [Double]) {
        precondition(divisors.count == columnCount, "one divisor per column")
        let c = columnCount
        let r = rowCount
        divisors.withUnsafeBufferPointer { d in
            elements.withUnsafeMutableBufferPointer { dst in
                for i in 0..<r {
                    let base = i * c
                    for j in 0..<c { dst[base + j] /= d[j] }
                }
            }
        }
    }

    /// Read access to the row-major elements.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        try elements.withUnsafeBufferPointer(body)
    }

    /// Write access to the row-major elements.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Double>) throws -> R
    ) rethrows -> R {
        try elements.withUnsafeMutableBufferPointer(body)
    }
}
