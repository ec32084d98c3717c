import Foundation
import Linalg

/// The features an estimator fits on or predicts from: dense or sparse (CSR), `rows × features`.
public enum FeatureMatrix: Sendable, Equatable {
    case dense(Matrix)
    case sparse(SparseMatrix)

    public var rowCount: Int {
        switch self {
        case let .dense(m): return m.rowCount
        case let .sparse(s): return s.rowCount
        }
    }

    public var columnCount: Int {
        switch self {
        case let .dense(m): return m.columnCount
        case let .sparse(s): return s.columnCount
        }
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> FeatureMatrix {
        switch self {
        case let .dense(m): return .dense(m.rows(indices))
        case let .sparse(s): return .sparse(s.rows(indices))
        }
    }

    /// True when every stored value is finite.
    public var isFinite: Bool {
        switch self {
        case let .dense(m): return m.isFinite
        case let .sparse(s): return s.isFinite
        }
    }
}

/// A configured learning algorithm: a value holding hyper-parameters, with a name users type.
///
/// Estimators never change when fitted: `fit` returns a separate, immutable fitted model.
public protocol Estimator: Sendable {
    /// The name on the command line and in model files (`linreg`).
    static var name: String { get }
    /// The hyper-parameters, with scikit-learn's names, types, ranges and defaults.
    static var parameterSpecs: [ParameterSpec] { get }
    /// The estimator configured from checked values.
    /// - Throws: `UsageError` when values conflict.
    init(parameters: Parameters) throws(UsageError)
    /// The hyper-parameters as checked values.
    var parameters: Parameters { get }
}

extension Estimator {
    /// The estimator configured from a model file's `params`: values that conflict are the
    /// file's fault, reported at `location`.
    init(parameters: Parameters, readFrom location: String) throws(InputError) {
        do { try self.init(parameters: parameters) } catch { throw InputError(error.message, at: location) }
    }
}

/// What every fitted model can do: say its input width and turn itself into tensors.
public protocol FittedModel: Sendable {
    /// The number of features the model was fitted on.
    var featureCount: Int { get }
    /// The learned numbers, by model-file tensor name.
    func tensors() -> [String: Tensor]
    /// Whether fitting converged within its iteration limit (nil when the question does not
    /// arise, or for a model read from a file).
    var converged: Bool? { get }
}

extension FittedModel {
    public var converged: Bool? { nil }
}

/// An estimator that predicts a number.
public protocol Regressor: Estimator {
    associatedtype Fitted: FittedRegressor
    /// Fits on `x` (`rows × features`) and `y` (one target per row).
    /// - Throws: `FitError` for unusable data.
    func fit(_ x: FeatureMatrix, _ y: [Double]) throws -> Fitted
}

/// A fitted model that predicts a number.
public protocol FittedRegressor: FittedModel {
    /// Rebuilds the model from a model file's tensors.
    /// - Throws: `InputError` when a tensor is missing or has the wrong shape or values.
    init(tensors: [String: Tensor], parameters: Parameters, location: String) throws(InputError)
    /// One prediction per row of `x`.
    /// - Throws: `FitError.featureCountMismatch`, `.nonFiniteFeatures`.
    func predict(_ x: FeatureMatrix) throws -> [Double]
}

// MARK: - Default implementations

extension Regressor {
    /// Every parameter at its default, as `init(parameters:)` sees them.
    public static var defaultParameters: Parameters { Parameters(defaults: parameterSpecs) }

    /// Fits on a dense matrix.
    public func fit(_ x: Matrix, _ y: [Double]) throws -> Fitted { try fit(.dense(x), y) }
}

extension FittedRegressor {
    /// Predicts from a dense matrix.
    public func predict(_ x: Matrix) throws -> [Double] { try predict(.dense(x)) }
}

/// Checks the inputs every `fit` shares: matching lengths, enough rows, finite values.
func validateFitInputs(_ x: FeatureMatrix, _ y: [Double], minimumSamples: Int = 1) throws(FitError) {
    guard x.rowCount == y.count else { throw .targetCountMismatch(rows: x.rowCount, targets: y.count) }
    guard x.rowCount >= minimumSamples else { throw .tooFewSamples(needed: minimumSamples, got: x.rowCount) }
    guard x.isFinite else { throw .nonFiniteFeatures }
    guard y.allSatisfy(\.isFinite) else { throw .nonFiniteTargets }
}

/// Refuses, before allocating, a fit whose learned numbers and their working copies would take
/// more than half of this machine's memory: a slip such as `hidden_layer_sizes=100000000` or
/// `n_features=2147483647` must be a one-line error, not an hour of swapping, an allocation
/// failure or a trap on overflow.
/// - Parameters:
///   - blocks: the parameter blocks, each given by its dimensions (their product is its size).
///   - copies: how many arrays of the total size the fit holds at once (the parameters, their
///     gradient, an optimizer's state).
///   - what: the estimator, for the message.
/// - Throws: `FitError.unsupportedInput` saying how large the model would be.
func checkParameterMemory(_ blocks: [[Int]], copies: Int, what: String) throws(FitError) {
    let available = Double(ProcessInfo.processInfo.physicalMemory)
    var total = 0
    var overflow = false
    for block in blocks {
        var size = 1
        for dimension in block {
            let (product, o) = size.multipliedReportingOverflow(by: dimension)
            size = product
            overflow = overflow || o
        }
        let (sum, o) = total.addingReportingOverflow(size)
        total = sum
        overflow = overflow || o
    }
    guard !overflow else { throw .unsupportedInput("\(what) would hold more learned numbers than can be counted") }
    let bytes = Double(total) * Double(copies * MemoryLayout<Double>.size)
    guard bytes > available / 2 else { return }
    let gigabytes = { (b: Double) in String(format: "%.1f GB", b / 1e9) }
    throw .unsupportedInput("\(what) would take \(gigabytes(bytes)) (\(total) learned numbers, with the fit's working copies), "
                            + "more than half of this machine's \(gigabytes(available)) of memory")
}

/// Checks prediction inputs against the fitted width.
func validatePredictInputs(_ x: FeatureMatrix, featureCount: Int) throws(FitError) {
    guard x.columnCount == featureCount else { throw .featureCountMismatch(expected: featureCount, got: x.columnCount) }
    guard x.isFinite else { throw .nonFiniteFeatures }
}
