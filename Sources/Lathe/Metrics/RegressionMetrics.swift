/// Regression scores, with scikit-learn's definitions.
public enum RegressionMetrics {
    /// The metric names in report order.
    public static let names = ["r2", "rmse", "mae"]

    /// Coefficient of determination `1 − SS_res / SS_tot`. When the targets are constant it is
    /// 1 for a perfect prediction and 0 otherwise (scikit-learn's `force_finite`).
    /// - Precondition: equal, non-zero lengths.
    public static func r2(predicted: [Double], expected: [Double]) -> Double {
        precondition(predicted.count == expected.count && !expected.isEmpty, "r2 needs equal, non-empty inputs")
        let mean = expected.reduce(0, +) / Double(expected.count)
        var residual = 0.0, total = 0.0
        for i in expected.indices {
            let e = expected[i] - predicted[i]
            residual += e * e
            let d = expected[i] - mean
            total += d * d
        }
        if total == 0 { return residual == 0 ? 1 : 0 }
        return 1 - residual / total
    }

    /// Root mean squared error, in the target's units.
    public static func rootMeanSquaredError(predicted: [Double], expected: [Double]) -> Double {
        precondition(predicted.count == expected.count && !expected.isEmpty, "rmse needs equal, non-empty inputs")
        var s = 0.0
        for i in expected.indices { let e = expected[i] - predicted[i]; s += e * e }
        return (s / Double(expected.count)).squareRoot()
    }

    /// Mean absolute error, in the target's units.
    public static func meanAbsoluteError(predicted: [Double], expected: [Double]) -> Double {
        precondition(predicted.count == expected.count && !expected.isEmpty, "mae needs equal, non-empty inputs")
        var s = 0.0
        for i in expected.indices { s += abs(expected[i] - predicted[i]) }
        return s / Double(expected.count)
    }

    /// Every regression metric, by name.
    public static func all(predicted: [Double], expected: [Double]) -> [(String, Double)] {
        [("r2", r2(predicted: predicted, expected: expected)),
         ("rmse", rootMeanSquaredError(predicted: predicted, expected: expected)),
         ("mae", meanAbsoluteError(predicted: predicted, expected: expected))]
    }
}
