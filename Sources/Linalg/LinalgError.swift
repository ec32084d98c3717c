/// Errors raised by the linear-algebra layer.
///
/// LAPACK reports failures through an `info` code; the wrappers in this module turn each
/// code into one of these cases so that callers never see a raw integer or a trap.
public enum LinalgError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Two operands whose shapes do not fit the operation.
    case shapeMismatch(operation: String, left: [Int], right: [Int])
    /// A dimension exceeds what the 32-bit BLAS/LAPACK interface can address.
    case dimensionTooLarge(operation: String, value: Int)
    /// Cholesky factorisation failed: the leading minor of this order (1-based) is not positive definite.
    case notPositiveDefinite(order: Int)
    /// An iterative LAPACK routine (SVD, eigen) did not converge; `info` is LAPACK's count.
    case didNotConverge(routine: String, info: Int)
    /// LAPACK rejected argument number `position`: a bug in this module, reported rather than trapped.
    case illegalArgument(routine: String, position: Int)
    /// An input contains NaN or an infinity where finite numbers are required.
    case nonFiniteInput(operation: String)
    /// A CSR structure is inconsistent (offsets, indices or lengths).
    case invalidSparseStructure(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(operation, left, right):
            return "\(operation): shapes \(left) and \(right) do not fit"
        case let .dimensionTooLarge(operation, value):
            return "\(operation): dimension \(value) exceeds the 32-bit BLAS/LAPACK limit"
        case let .notPositiveDefinite(order):
            return "matrix is not positive definite (leading minor of order \(order))"
        case let .didNotConverge(routine, info):
            return "\(routine) did not converge (\(info) off-diagonal elements did not reach zero)"
        case let .illegalArgument(routine, position):
            return "\(routine): illegal value in argument \(position)"
        case let .nonFiniteInput(operation):
            return "\(operation): input contains NaN or infinity"
        case let .invalidSparseStructure(message):
            return "invalid sparse matrix: \(message)"
        }
    }
}

/// Converts a Swift `Int` dimension to LAPACK's 32-bit integer, or throws.
@inline(__always)
func lapackInt(_ value: Int, _ operation: String) throws(LinalgError) -> Int32 {
    guard let v = Int32(exactly: value) else {
        throw .dimensionTooLarge(operation: operation, value: value)
    }
    return v
}
