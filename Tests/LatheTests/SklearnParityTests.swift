import Foundation
@testable import Lathe
import Linalg
import TestSupport
import Testing

/// Lathe against scikit-learn's numbers (fixtures from `scripts/make_fixtures.py`).
@Suite struct LinearParityTests {
    struct Case: Decodable, CustomTestStringConvertible {
        struct Params: Decodable { var alpha: Double?; var fit_intercept: Bool; var tol: Double? }
        var label: String
        var estimator: String
        var params: Params
        var rows: [Int]?
        var duplicate_column: Int?
        var coef: [Double]
        var intercept: Double
        var testDescription: String { label }
    }
    struct File: Decodable { var cases: [Case] }

    static let cases: [Case] = (try? loadFixture("linear_diabetes.json", as: File.self).cases) ?? []

    @Test func fixtureIsPresent() { #expect(Self.cases.count >= 9) }

    /// Coefficients within 1e-8 relative of scikit-learn's (the bar). Coefficients of
    /// size below 1e-6 of the largest are compared absolutely against that scale instead, since a
    /// relative error of a value that is zero up to rounding says nothing.
    @Test(arguments: cases) func coefficientsMatchScikitLearn(_ c: Case) throws {
        var (x, y) = try loadNumeric("diabetes")
        if let column = c.duplicate_column {
            x = try Matrix(rows: (0..<x.rowCount).map { x.row($0) + [x[$0, column]] })
        }
        if let rows = c.rows {
            x = x.rows(rows)
            y = rows.map { y[$0] }
        }
        let coefficients: LinearCoefficients
        switch c.estimator {
        case "linreg":
            coefficients = try LinearRegression(fitIntercept: c.params.fit_intercept, tol: c.params.tol ?? 1e-6)
                .fit(x, y).coefficients
        default:
            coefficients = try Ridge(alpha: c.params.alpha ?? 1, fitIntercept: c.params.fit_intercept)
                .fit(x, y).coefficients
        }
        let scale = c.coef.map(abs).max() ?? 1
        #expect(maxRelativeDifference(coefficients.weights, c.coef, floor: 1e-6 * scale) < 1e-8)
        #expect(maxRelativeDifference([coefficients.intercept], [c.intercept], floor: 1e-6 * scale) < 1e-8)
    }
}

@Suite struct CrossValidationParityTests {
    struct FoldResult: Decodable { var test: [Int]; var r2: Double; var rmse: Double; var mae: Double }
    struct File: Decodable {
        var folds: Int
        var seed: UInt32
        var fold_results: [FoldResult]
        var permutations: [String: [Int]]
    }

    @Test func permutationsMatchNumpy() throws {
        let file = try loadFixture("kfold_diabetes.json", as: File.self)
        #expect(file.permutations.count == 3)
        for (seed, expected) in file.permutations {
            var twister = MersenneTwister(seed: try #require(UInt32(seed)))
            #expect(twister.permutation(expected.count) == expected, "seed \(seed)")
        }
    }

    @Test func kFoldSplitsAndScoresMatchScikitLearn() async throws {
        let file = try loadFixture("kfold_diabetes.json", as: File.self)
        let dataset = try Dataset.load(repositoryRoot.appendingPathComponent("datasets/diabetes/diabetes.csv").path)
        let splitter = KFold(foldCount: file.folds, shuffle: true, seed: file.seed)
        let splits = try splitter.splits(rowCount: dataset.rowCount)
        #expect(splits.map(\.test) == file.fold_results.map(\.test))
        for split in splits {
            #expect(Set(split.train).isDisjoint(with: split.test))
            #expect(split.train.count + split.test.count == dataset.rowCount)
        }
        let spec = try ModelSpec(name: "linreg", task: .regression, assignments: [])
        let report = try await CrossValidation.run(spec, on: dataset, splitter: splitter)
        for metric in ["r2", "rmse", "mae"] {
            let expected = file.fold_results.map { r in metric == "r2" ? r.r2 : metric == "rmse" ? r.rmse : r.mae }
            #expect(maxRelativeDifference(report.scores[metric] ?? [], expected) < 1e-9, "\(metric)")
        }
    }
}

@Suite struct RegressionMetricParityTests {
    struct Case: Decodable { var expected: [Double]; var predicted: [Double]; var r2: Double?; var rmse: Double; var mae: Double }
    struct File: Decodable { var cases: [Case] }

    @Test func metricsMatchScikitLearn() throws {
        let cases = try loadFixture("regression_metrics.json", as: File.self).cases
        #expect(cases.count >= 6)
        for c in cases {
            if let r2 = c.r2 {
                #expect(abs(RegressionMetrics.r2(predicted: c.predicted, expected: c.expected) - r2) < 1e-12)
            }
            #expect(abs(RegressionMetrics.rootMeanSquaredError(predicted: c.predicted, expected: c.expected) - c.rmse) < 1e-9)
            #expect(abs(RegressionMetrics.meanAbsoluteError(predicted: c.predicted, expected: c.expected) - c.mae) < 1e-9)
        }
    }
}
