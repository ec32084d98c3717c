import Foundation
@testable import Lathe
import Linalg
import TestSupport
import Testing

/// The features of a bundled numeric dataset (standardized on request, with Lathe's scaler) and
/// its labels as class indices.
func classificationData(_ name: String, standardize: Bool) async throws -> (FeatureMatrix, [Int], [String]) {
    let dataset = try Dataset.load(name)
    let assignments: [(key: String, value: String)] = standardize ? [("scaler", "standard")] : []
    let (_, x) = try await PipelineSpec(assignments: assignments).fitTransform(dataset.features)
    let classes = dataset.classes
    return (x, dataset.targets.map { classes.firstIndex(of: $0)! }, classes)
}

@Suite struct LogisticParityTests {
    struct Case: Decodable {
        var dataset: String
        var standardize: Bool
        var classes: [String]
        var coef: [[Double]]
        var intercept: [Double]
        var probabilities: [[Double]]
        var n_iter: Int
        var permutation_spread: [String: Double]
        var tight_coef: [[Double]]
        var tight_intercept: [Double]
    }
    struct Variant: Decodable { var settings: [String: String]; var coef: [[Double]]; var intercept: [Double] }
    struct File: Decodable { var cases: [Case]; var breast_cancer_variants: [Variant] }

    /// Class weights (balanced and per class) and the L1 penalty, each against scikit-learn's
    /// converged optimum (`tol=1e-10`; `saga` for L1): weights within 1e-4 of the largest, and
    /// the same zero pattern for L1.
    @Test func weightedAndL1FitsMatchScikitLearn() async throws {
        let variants = try loadFixture("logistic.json", as: File.self).breast_cancer_variants
        #expect(variants.count == 3)
        let (x, y, classes) = try await classificationData("breast_cancer", standardize: true)
        for v in variants {
            var settings = v.settings
            settings["tol"] = "1e-10"
            settings["max_iter"] = "100000"
            let estimator = try LogisticRegression(parameters: try Parameters(
                specs: LogisticRegression.parameterSpecs, assignments: assignments(settings), estimator: "logreg"))
            let model = try estimator.fit(x, y, classes: classes)
            let expected = v.coef.flatMap { $0 }
            let scale = expected.map(abs).max()!
            #expect(maxAbsoluteDifference(model.coefficients.weights.elements, expected) / scale < 1e-4, "\(v.settings)")
            #expect(abs(model.coefficients.intercepts[0] - v.intercept[0]) / scale < 1e-4, "\(v.settings)")
            if v.settings["penalty"] == "l1" {
                #expect(model.coefficients.weights.elements.map { $0 == 0 } == expected.map { $0 == 0 })
            }
        }
        #expect(throws: FitError.self) {
            try LogisticRegression(classWeight: .perClass(["nonexistent": 2])).fit(x, y, classes: classes)
        }
        #expect(throws: UsageError.self) { try ClassWeight(parsing: "spam:0") }
        #expect(throws: UsageError.self) { try ClassWeight(parsing: "spam") }
    }

    /// `LogisticRegression()` with its defaults (`tol=1e-4`, `max_iter=100`): the solver takes
    /// scikit-learn's steps, so it stops after the same number of iterations at the same iterate.
    /// Coefficients and intercepts within 1e-4 relative (to the largest), probabilities within
    /// 1e-5, or within 3× the spread scikit-learn itself shows when only the row order changes
    /// where that is larger: on unscaled iris it stops at `max_iter`, and 100 iterations amplify
    /// rounding to about 1e-3 in scikit-learn as here. Then against the converged optimum
    /// (`tol=1e-10`) within 1e-4.
    @Test(arguments: ["breast_cancer", "iris", "wine"])
    func coefficientsMatchScikitLearn(_ name: String) async throws {
        let c = try #require(try loadFixture("logistic.json", as: File.self).cases.first { $0.dataset == name })
        let (x, y, classes) = try await classificationData(name, standardize: c.standardize)
        #expect(classes == c.classes)
        let defaults = try LogisticRegression().fit(x, y, classCount: classes.count)
        #expect(defaults.iterations == c.n_iter)
        #expect(defaults.converged == (c.n_iter < 100))
        func tolerance(_ criterion: Double, _ key: String) -> Double { max(criterion, 3 * c.permutation_spread[key]!) }
        let scale = c.coef.flatMap { $0 }.map(abs).max()!
        #expect(maxAbsoluteDifference(defaults.coefficients.weights.elements, c.coef.flatMap { $0 }) / scale < tolerance(1e-4, "coef"))
        #expect(maxAbsoluteDifference(defaults.coefficients.intercepts, c.intercept) / scale < tolerance(1e-4, "intercept"))
        let p = try #require(try defaults.probabilities(x))
        #expect(maxAbsoluteDifference(p.elements, c.probabilities.flatMap { $0 }) < tolerance(1e-5, "probabilities"))

        let tight = try LogisticRegression(maxIterations: 10_000, tolerance: 1e-10).fit(x, y, classCount: classes.count)
        let tightScale = c.tight_coef.flatMap { $0 }.map(abs).max()!
        #expect(maxAbsoluteDifference(tight.coefficients.weights.elements, c.tight_coef.flatMap { $0 }) / tightScale < 1e-4)
        #expect(maxAbsoluteDifference(tight.coefficients.intercepts, c.tight_intercept) / tightScale < 1e-4)
    }

    @Test func tightProbabilitiesMatchWithinTolerance() async throws {
        // Probabilities of the converged model against the converged reference, computed by
        // scikit-learn's formula from its tight coefficients.
        for c in try loadFixture("logistic.json", as: File.self).cases {
            let (x, y, classes) = try await classificationData(c.dataset, standardize: c.standardize)
            let model = try LogisticRegression(maxIterations: 10_000, tolerance: 1e-10).fit(x, y, classCount: classes.count)
            let reference = FittedLogisticRegression(
                estimator: LogisticRegression(), classCount: classes.count,
                coefficients: try LinearClassifierCoefficients(
                    weights: try Matrix(rows: c.tight_coef), intercepts: c.tight_intercept),
                iterations: 0, converged: true)
            let a = try #require(try model.probabilities(x)), b = try #require(try reference.probabilities(x))
            #expect(maxAbsoluteDifference(a.elements, b.elements) < 1e-5, "\(c.dataset)")
        }
    }

    @Test func edgeCases() async throws {
        let (x, y, _) = try await classificationData("breast_cancer", standardize: true)
        // A single class: a clear error, not a model.
        #expect(throws: FitError.self) { try LogisticRegression().fit(x, y.map { _ in 0 }, classCount: 2) }
        // An all-zero feature column gets a zero weight.
        var columns = (0..<x.rowCount).map { i in (0..<x.columnCount).map { j in x.rows([i]).denseRow(j) } }
        for i in columns.indices { columns[i][3] = 0 }
        let zeroed = FeatureMatrix.dense(try Matrix(rows: columns))
        let model = try LogisticRegression().fit(zeroed, y, classCount: 2)
        #expect(model.coefficients.weights[0, 3] == 0)
        // Perfectly separable data: finite weights (the penalty bounds them), every row right.
        let separable = FeatureMatrix.dense(try Matrix(rows: [[-2], [-1], [1], [2]]))
        let fit = try LogisticRegression(c: 100).fit(separable, [0, 0, 1, 1], classCount: 2)
        #expect(fit.coefficients.weights.isFinite)
        #expect(try fit.predictClasses(separable) == [0, 0, 1, 1])
        // C <= 0 is a usage error.
        #expect(throws: UsageError.self) { try ModelSpec(name: "logreg", task: .classification, assignments: [("C", "0")]) }
        #expect(throws: UsageError.self) { try ModelSpec(name: "logreg", task: .classification, assignments: [("C", "-1")]) }
        // A C so small that 1/C overflows: an error, not a silent zero model.
        #expect(throws: FitError.self) { try LogisticRegression(c: 1e-320).fit(x, y, classCount: 2) }
        #expect(throws: FitError.self) { try LinearSVC(c: 1e-320).fit(x, y, classCount: 2) }
        // Too few iterations: reported, not hidden.
        #expect(try LogisticRegression(maxIterations: 1).fit(x, y, classCount: 2).converged == false)
    }

    @Test func sparseAndDenseFitsAgree() async throws {
        let documents = Array(try smsDocuments().prefix(400))
        let dataset = try Dataset.load("sms_spam").rows(Array(0..<400))
        let (_, x) = try await TfidfVectorizer().fitTransform(documents)
        let classes = dataset.classes
        let y = dataset.targets.map { classes.firstIndex(of: $0)! }
        let sparse = try LogisticRegression(tolerance: 1e-8).fit(.sparse(x), y, classCount: 2)
        let dense = try LogisticRegression(tolerance: 1e-8).fit(.dense(x.dense()), y, classCount: 2)
        #expect(maxAbsoluteDifference(sparse.coefficients.weights.elements, dense.coefficients.weights.elements) < 1e-6)
    }
}

extension FeatureMatrix {
    /// Element `j` of a one-row matrix (test helper).
    func denseRow(_ j: Int) -> Double {
        switch self {
        case let .dense(m): return m[0, j]
        case let .sparse(s): return s.dense()[0, j]
        }
    }
}

@Suite struct ClassificationParityTests {
    struct MetricCase: Decodable {
        var classes: Int
        var expected: [Int]
        var predicted: [Int]
        var probabilities: [[Double]]
        var accuracy, balanced_accuracy, log_loss, roc_auc: Double
        var precision_macro, recall_macro, f1_macro, precision_micro, recall_micro, f1_micro: Double
        var precision_weighted, recall_weighted, f1_weighted: Double
    }
    struct File: Decodable { var stratified_folds: [String: [[Int]]]; var metrics: [MetricCase] }

    @Test func stratifiedFoldsMatchScikitLearn() throws {
        let file = try loadFixture("classification.json", as: File.self)
        #expect(file.stratified_folds.count == 7)
        for (key, expected) in file.stratified_folds {
            let parts = key.split(separator: "/")
            let dataset = try Dataset.load(String(parts[0]))
            let classes = dataset.classes
            let labels = dataset.targets.map { classes.firstIndex(of: $0)! }
            let splits = try StratifiedKFold(foldCount: 5, shuffle: true, seed: UInt32(parts[1])!)
                .splits(rowCount: dataset.rowCount, labels: labels)
            #expect(splits.map(\.test) == expected, "\(key)")
        }
    }

    @Test func tooManyFoldsForTheSmallestClassIsAUsageError() {
        #expect(throws: UsageError.self) { try StratifiedKFold(foldCount: 3).splits(rowCount: 5, labels: [0, 0, 0, 1, 1]) }
    }

    @Test func metricsMatchScikitLearn() throws {
        for c in try loadFixture("classification.json", as: File.self).metrics {
            let k = c.classes
            let p = try Matrix(rows: c.probabilities)
            #expect(abs(ClassificationMetrics.accuracy(expected: c.expected, predicted: c.predicted) - c.accuracy) < 1e-12)
            #expect(abs(ClassificationMetrics.balancedAccuracy(expected: c.expected, predicted: c.predicted, classCount: k) - c.balanced_accuracy) < 1e-12)
            #expect(abs(ClassificationMetrics.logLoss(expected: c.expected, probabilities: p) - c.log_loss) < 1e-12)
            #expect(abs(ClassificationMetrics.rocAUC(expected: c.expected, scores: p, classCount: k) - c.roc_auc) < 1e-12)
            let expectedByAverage: [ClassificationMetrics.Average: (Double, Double, Double)] = [
                .macro: (c.precision_macro, c.recall_macro, c.f1_macro), .micro: (c.precision_micro, c.recall_micro, c.f1_micro),
                .weighted: (c.precision_weighted, c.recall_weighted, c.f1_weighted)]
            for (average, e) in expectedByAverage {
                let a = ClassificationMetrics.averaged(average, expected: c.expected, predicted: c.predicted, classCount: k)
                #expect(abs(a.precision - e.0) < 1e-12 && abs(a.recall - e.1) < 1e-12 && abs(a.f1 - e.2) < 1e-12, "\(average) k=\(k)")
            }
        }
    }
}

@Suite struct LinearSVCParityTests {
    struct Case: Decodable {
        var dataset: String
        var params: [String: String]
        var coef: [[Double]]
        var intercept: [Double]
        var predicted: [String]
    }
    struct File: Decodable { var cases: [Case] }

    /// scikit-learn's `LinearSVC(tol=1e-8)`: coefficients within 1e-3 relative (to the largest
    /// weight of each class) and predictions equal on at least 99.9% of rows.
    @Test func matchesScikitLearn() async throws {
        let cases = try loadFixture("svm.json", as: File.self).cases
        #expect(cases.count == 7)
        for c in cases {
            let dataset = try Dataset.load(c.dataset)
            let assignments: [(key: String, value: String)] = dataset.isText ? [] : [("scaler", "standard")]
            let (_, x) = try await PipelineSpec(assignments: assignments).fitTransform(dataset.features)
            let classes = dataset.classes
            let y = dataset.targets.map { classes.firstIndex(of: $0)! }
            let svm = LinearSVC(squaredHinge: c.params["loss"] != "hinge", tolerance: 1e-8, maxIterations: 100_000,
                                classWeight: try ClassWeight(parsing: c.params["class_weight"] ?? "none"))
            let model = try svm.fit(x, y, classes: classes)
            #expect(model.converged == true)
            for (k, row) in c.coef.enumerated() {
                let scale = row.map(abs).max()!
                let ours = (0..<row.count).map { model.coefficients.weights[k, $0] }
                #expect(maxAbsoluteDifference(ours, row) / scale < 1e-3, "\(c.dataset) \(c.params) class \(k)")
                #expect(abs(model.coefficients.intercepts[k] - c.intercept[k]) / scale < 1e-3)
            }
            let predicted = try model.predictClasses(x).map { classes[$0] }
            let agreement = Double(zip(predicted, c.predicted).filter { $0 == $1 }.count) / Double(predicted.count)
            #expect(agreement >= 0.999, "\(c.dataset): \(agreement)")
        }
    }

    @Test func edgeCases() throws {
        let x = FeatureMatrix.dense(try Matrix(rows: [[-2, 0], [-1, 0], [1, 0], [2, 0]]))
        #expect(throws: FitError.self) { try LinearSVC().fit(x, [1, 1, 1, 1], classCount: 2) }
        let model = try LinearSVC(c: 10).fit(x, [0, 0, 1, 1], classCount: 2)
        #expect(model.coefficients.weights[0, 1] == 0)
        #expect(try model.predictClasses(x) == [0, 0, 1, 1])
        #expect(try model.probabilities(x) == nil)
        #expect(throws: UsageError.self) { try ModelSpec(name: "svm", task: .classification, assignments: [("C", "0")]) }
    }
}
