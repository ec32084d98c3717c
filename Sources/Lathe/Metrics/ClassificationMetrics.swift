import Foundation
import Linalg

/// Classification metrics with scikit-learn's definitions. Labels are class indices; the label
/// set of the macro averages is every class that occurs in `expected` or `predicted` (as
/// scikit-learn's `unique_labels`), and a precision or recall with nothing to divide by counts
/// as 0 (`zero_division=0`).
public enum ClassificationMetrics {
    /// The metrics every classifier reports, in report order.
    public static let names = ["accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro"]

    /// `k × k` confusion matrix: row = expected class, column = predicted class.
    public static func confusionMatrix(expected: [Int], predicted: [Int], classCount: Int) -> [[Int]] {
        var m = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        for (e, p) in zip(expected, predicted) { m[e][p] += 1 }
        return m
    }

    public static func accuracy(expected: [Int], predicted: [Int]) -> Double {
        guard !expected.isEmpty else { return .nan }
        return Double(zip(expected, predicted).filter { $0 == $1 }.count) / Double(expected.count)
    }

    /// Mean recall over the classes present in `expected`.
    public static func balancedAccuracy(expected: [Int], predicted: [Int], classCount: Int) -> Double {
        let m = confusionMatrix(expected: expected, predicted: predicted, classCount: classCount)
        let recalls = (0..<classCount).compactMap { c -> Double? in
            let total = m[c].reduce(0, +)
            return total == 0 ? nil : Double(m[c][c]) / Double(total)
        }
        return recalls.isEmpty ? .nan : recalls.reduce(0, +) / Double(recalls.count)
    }

    /// Per-class precision, recall, F1 and support (expected count), for every class index.
    public static func perClass(expected: [Int], predicted: [Int], classCount: Int)
        -> (precision: [Double], recall: [Double], f1: [Double], support: [Int]) {
        let m = confusionMatrix(expected: expected, predicted: predicted, classCount: classCount)
        var precision = [Double](), recall = [Double](), f1 = [Double](), support = [Int]()
        for c in 0..<classCount {
            let truePositive = Double(m[c][c])
            let predictedCount = (0..<classCount).reduce(0) { $0 + m[$1][c] }
            let expectedCount = m[c].reduce(0, +)
            let p = predictedCount == 0 ? 0 : truePositive / Double(predictedCount)
            let r = expectedCount == 0 ? 0 : truePositive / Double(expectedCount)
            precision.append(p)
            recall.append(r)
            f1.append(p + r == 0 ? 0 : 2 * p * r / (p + r))
            support.append(expectedCount)
        }
        return (precision, recall, f1, support)
    }

    /// Macro, micro or weighted average of precision, recall and F1.
    public enum Average: String, Sendable { case macro, micro, weighted }

    public static func averaged(_ average: Average, expected: [Int], predicted: [Int], classCount: Int)
        -> (precision: Double, recall: Double, f1: Double) {
        let s = perClass(expected: expected, predicted: predicted, classCount: classCount)
        let present = Set(expected).union(predicted).sorted()
        switch average {
        case .micro:
            // Single-label data: micro precision = micro recall = micro F1 = accuracy.
            let a = accuracy(expected: expected, predicted: predicted)
            return (a, a, a)
        case .macro:
            let n = Double(present.count)
            return (present.reduce(0) { $0 + s.precision[$1] } / n, present.reduce(0) { $0 + s.recall[$1] } / n,
                    present.reduce(0) { $0 + s.f1[$1] } / n)
        case .weighted:
            let total = Double(expected.count)
            func weighted(_ v: [Double]) -> Double { present.reduce(0) { $0 + v[$1] * Double(s.support[$1]) } / total }
            return (weighted(s.precision), weighted(s.recall), weighted(s.f1))
        }
    }

    /// Mean negative log-probability of the expected class, probabilities clipped to
    /// `[ε, 1 − ε]` after each row is renormalized (scikit-learn's `log_loss`).
    public static func logLoss(expected: [Int], probabilities p: Matrix) -> Double {
        var total = 0.0
        for (i, e) in expected.enumerated() {
            var rowSum = 0.0
            for c in 0..<p.columnCount { rowSum += p[i, c] }
            let q = min(max(p[i, e] / rowSum, Double.ulpOfOne), 1 - Double.ulpOfOne)
            total -= log(q)
        }
        return total / Double(expected.count)
    }

    /// Area under the ROC curve of `scores` for `positive` (`expected[i] == true`), ties counted
    /// half (the Mann–Whitney statistic); NaN when only one kind is present.
    public static func rocAUC(positive: [Bool], scores: [Double]) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSumPositive = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j) / 2 + 1
            for k in i...j where positive[order[k]] { rankSumPositive += averageRank }
            i = j + 1
        }
        let nPositive = Double(positive.filter { $0 }.count), nNegative = Double(positive.count) - nPositive
        guard nPositive > 0, nNegative > 0 else { return .nan }
        return (rankSumPositive - nPositive * (nPositive + 1) / 2) / (nPositive * nNegative)
    }

    /// ROC AUC of a classifier's scores: binary from the positive class's score column, else
    /// one-vs-rest macro average over classes present.
    public static func rocAUC(expected: [Int], scores: Matrix, classCount: Int) -> Double {
        if classCount == 2 {
            let column = scores.columnCount == 1 ? 0 : 1
            return rocAUC(positive: expected.map { $0 == 1 }, scores: (0..<scores.rowCount).map { scores[$0, column] })
        }
        let values = (0..<classCount).map { c in rocAUC(positive: expected.map { $0 == c }, scores: (0..<scores.rowCount).map { scores[$0, c] }) }
        return values.contains(where: \.isNaN) ? .nan : values.reduce(0, +) / Double(classCount)
    }

    /// The cross-validation metrics: the five of `names`, plus `log_loss` with probabilities and
    /// `roc_auc` for two classes (from probabilities or decision values) or for more with
    /// probabilities.
    static func all(expected: [Int], predicted: [Int], probabilities: Matrix?, decision: Matrix, classCount: Int) -> [(String, Double)] {
        let macro = averaged(.macro, expected: expected, predicted: predicted, classCount: classCount)
        var out: [(String, Double)] = [
            ("accuracy", accuracy(expected: expected, predicted: predicted)),
            ("balanced_accuracy", balancedAccuracy(expected: expected, predicted: predicted, classCount: classCount)),
            ("precision_macro", macro.precision), ("recall_macro", macro.recall), ("f1_macro", macro.f1),
        ]
        if let probabilities { out.append(("log_loss", logLoss(expected: expected, probabilities: probabilities))) }
        if let scores = probabilities ?? (classCount == 2 ? decision : nil) {
            out.append(("roc_auc", rocAUC(expected: expected, scores: scores, classCount: classCount)))
        }
        return out
    }
}
