import Linalg

/// Standardization (scikit-learn's `StandardScaler`): subtract each column's mean, divide by its
/// population standard deviation. Columns that are constant (up to rounding) keep scale 1.
public struct StandardScaler: Sendable, Equatable {
    public var withMean: Bool
    public var withStd: Bool

    public init(withMean: Bool = true, withStd: Bool = true) {
        self.withMean = withMean
        self.withStd = withStd
    }

    /// Learns column statistics of `x`.
    /// - Throws: `FitError.unsupportedInput` for sparse input with `withMean` (centring would
    ///   make it dense), `.tooFewSamples` for no rows, `.nonFiniteFeatures`.
    public func fit(_ x: FeatureMatrix) throws(FitError) -> FittedStandardScaler {
        guard x.rowCount > 0 else { throw .tooFewSamples(needed: 1, got: 0) }
        guard x.isFinite else { throw .nonFiniteFeatures }
        let (mean, variance): ([Double], [Double])
        switch x {
        case let .dense(m):
            (mean, variance) = denseMeanAndVariance(m)
        case let .sparse(s):
            guard !withMean else {
                throw .unsupportedInput("StandardScaler cannot centre sparse features; use --set with_mean=false")
            }
            (mean, variance) = sparseMeanAndVariance(s)
        }
        let n = Double(x.rowCount)
        let scale = zip(mean, variance).map { m, v -> Double in
            // scikit-learn's _is_constant_feature: variance within rounding error of zero.
            let bound = n * Double.ulpOfOne * v + (n * m * Double.ulpOfOne) * (n * m * Double.ulpOfOne)
            return v <= bound ? 1 : v.squareRoot()
        }
        return FittedStandardScaler(settings: self, mean: withMean ? mean : nil, scale: withStd ? scale : nil)
    }
}

/// A fitted standard scaler.
public struct FittedStandardScaler: Sendable, Equatable {
    public let settings: StandardScaler
    /// Column means (tensor `scaler.mean`), nil without centring.
    public let mean: [Double]?
    /// Column standard deviations (tensor `scaler.scale`), nil without scaling.
    public let scale: [Double]?

    public init(settings: StandardScaler, mean: [Double]?, scale: [Double]?) {
        self.settings = settings
        self.mean = mean
        self.scale = scale
    }

    /// The fitted width; nil when neither mean nor scale is kept (the scaler passes data through).
    public var featureCount: Int? { mean?.count ?? scale?.count }

    /// `(x − mean) / scale` column by column.
    /// - Throws: `FitError.featureCountMismatch`, `.unsupportedInput` for sparse input with a mean.
    public func transform(_ x: FeatureMatrix) throws(FitError) -> FeatureMatrix {
        try validatePredictInputs(x, featureCount: featureCount ?? x.columnCount)
        switch x {
        case var .dense(m):
            if let mean { m.subtractFromColumns(mean) }
            if let scale { m.divideColumns(by: scale) }
            return .dense(m)
        case var .sparse(s):
            guard mean == nil else { throw .unsupportedInput("StandardScaler cannot centre sparse features") }
            if let scale { s.divideColumns(by: scale) }
            return .sparse(s)
        }
    }
}

/// Scaling to [0, 1] per column (scikit-learn's `MinMaxScaler`, default `feature_range`).
public struct MinMaxScaler: Sendable, Equatable {
    public init() {}

    /// Learns each column's minimum and range.
    /// - Throws: `FitError.unsupportedInput` for sparse input (shifting would densify it, as
    ///   scikit-learn refuses too), `.tooFewSamples`, `.nonFiniteFeatures`.
    public func fit(_ x: FeatureMatrix) throws(FitError) -> FittedMinMaxScaler {
        guard case let .dense(m) = x else {
            throw .unsupportedInput("MinMaxScaler does not take sparse features (it would make them dense)")
        }
        guard m.rowCount > 0 else { throw .tooFewSamples(needed: 1, got: 0) }
        guard m.isFinite else { throw .nonFiniteFeatures }
        var low = m.row(0), high = m.row(0)
        for i in 1..<m.rowCount {
            for j in 0..<m.columnCount {
                low[j] = Swift.min(low[j], m[i, j])
                high[j] = Swift.max(high[j], m[i, j])
            }
        }
        let scale = zip(low, high).map { lo, hi in hi - lo < 10 * Double.ulpOfOne ? 1 : 1 / (hi - lo) }
        let offset = zip(low, scale).map { lo, s in -lo * s }
        return FittedMinMaxScaler(scale: scale, offset: offset)
    }
}

/// A fitted min-max scaler: `x · scale + offset` per column (scikit-learn's `scale_`, `min_`).
public struct FittedMinMaxScaler: Sendable, Equatable {
    /// Tensor `scaler.scale`.
    public let scale: [Double]
    /// Tensor `scaler.min`.
    public let offset: [Double]

    public init(scale: [Double], offset: [Double]) {
        self.scale = scale
        self.offset = offset
    }

    public func transform(_ x: FeatureMatrix) throws(FitError) -> FeatureMatrix {
        try validatePredictInputs(x, featureCount: scale.count)
        guard case var .dense(m) = x else { throw .unsupportedInput("MinMaxScaler does not take sparse features") }
        let c = m.columnCount
        m.withUnsafeMutableBufferPointer { v in
            for p in v.indices { v[p] = v[p] * scale[p % c] + offset[p % c] }
        }
        return .dense(m)
    }
}

/// Column means and population variances, two-pass with scikit-learn's correction term.
private func denseMeanAndVariance(_ m: Matrix) -> ([Double], [Double]) {
    let mean = m.columnMeans()
    let (r, c) = (m.rowCount, m.columnCount)
    var squares = [Double](repeating: 0, count: c)
    var sums = [Double](repeating: 0, count: c)
    m.withUnsafeBufferPointer { x in
        for i in 0..<r {
            for j in 0..<c {
                let d = x[i * c + j] - mean[j]
                squares[j] += d * d
                sums[j] += d
            }
        }
    }
    let n = Double(r)
    return (mean, (0..<c).map { j in (squares[j] - sums[j] * sums[j] / n) / n })
}

/// Column means and population variances of CSR data, implicit zeros included.
private func sparseMeanAndVariance(_ s: SparseMatrix) -> ([Double], [Double]) {
    let c = s.columnCount
    var sums = [Double](repeating: 0, count: c)
    var stored = [Int](repeating: 0, count: c)
    for (p, j) in s.columnIndices.enumerated() {
        sums[Int(j)] += s.values[p]
        stored[Int(j)] += 1
    }
    let n = Double(s.rowCount)
    let mean = sums.map { $0 / n }
    var squares = [Double](repeating: 0, count: c)
    for (p, j) in s.columnIndices.enumerated() {
        let d = s.values[p] - mean[Int(j)]
        squares[Int(j)] += d * d
    }
    let variance = (0..<c).map { j in (squares[j] + Double(s.rowCount - stored[j]) * mean[j] * mean[j]) / n }
    return (mean, variance)
}
