import Foundation
import Lathe
import TestSupport
import Testing

private struct SelectionFixture: Decodable {
    struct IndexSplit: Decodable {
        let train: [Int]
        let test: [Int]
    }
    /// Per dataset, per model: scikit-learn's fold scores (accuracy or r2).
    let compare: [String: [String: [Double]]]
    let shuffle_split: [IndexSplit]
    let repeated_stratified_test: [[Int]]
}

private func labels(of dataset: Dataset) -> [Int] {
    let classes = dataset.classes
    return dataset.targets.map { classes.firstIndex(of: $0)! }
}

@Suite struct ModelSelectionTests {
    private let fixture: SelectionFixture

    init() throws { fixture = try loadFixture("selection.json") }

    /// `compare` on iris: every classifier, a standard scaler in front of logreg, svm and mlp
    /// (scikit-learn's pipelines), the same folds. The bar is 3 pp on the mean; the
    /// folds in fact agree to rounding.
    @Test func compareOnIrisMatchesScikitLearn() async throws {
        let dataset = try Dataset.load("iris")
        let specs = try ModelComparison.specs(for: dataset, task: .classification, models: nil)
        #expect(specs.map(\.entry.name) == ["logreg", "svm", "tree", "mlp"])
        #expect(specs.map { $0.pipeline.scaling.string("scaler") } == ["standard", "standard", "none", "standard"])
        let reports = try await CrossValidation.run(specs, on: dataset, splitter: StratifiedKFold(foldCount: 5, seed: 0))
        for report in reports {
            let expected = try #require(fixture.compare["iris"]?[report.model])
            #expect(abs(report.mean("accuracy") - expected.reduce(0, +) / 5) < 0.03, "\(report.model)")
            #expect(maxAbsoluteDifference(report.scores["accuracy"]!, expected) < 1e-9, "\(report.model)")
        }
    }

    /// `compare` on diabetes ranks the regressors by r2 as scikit-learn's scores do.
    @Test func compareOnDiabetesRanksByR2() async throws {
        let dataset = try Dataset.load("diabetes")
        let specs = try ModelComparison.specs(for: dataset, task: .regression, models: nil)
        let reports = RankingMetric.primary(for: .regression).ranked(
            try await CrossValidation.run(specs, on: dataset, splitter: KFold(foldCount: 5, seed: 0)))
        let expected = try #require(fixture.compare["diabetes"])
        let expectedOrder = expected.keys.sorted { expected[$0]!.reduce(0, +) > expected[$1]!.reduce(0, +) }
        #expect(reports.map(\.model) == expectedOrder)
        #expect(reports.map(\.model) == ["linreg", "ridge", "tree", "mlp"])
        for report in reports {
            #expect(abs(report.mean("r2") - expected[report.model]!.reduce(0, +) / 5) < 0.05, "\(report.model)")
        }
    }

    /// The scores do not depend on how many fits run at once, for numeric and text data.
    @Test(arguments: ["wine", "sms_spam"])
    func scoresDoNotDependOnJobs(_ name: String) async throws {
        var dataset = try Dataset.load(name)
        if dataset.isText { dataset = dataset.rows(Array(0..<1500)) }
        let specs = try ModelComparison.specs(for: dataset, task: .classification, models: ["logreg", "svm", "tree", "mlp"])
            .map { try ModelSpec(name: $0.entry.name, task: .classification,
                                 assignments: $0.entry.name == "mlp" ? [("max_iter", "15"), ("hidden_layer_sizes", "20")] : []) }
        let splitter = StratifiedKFold(foldCount: 4, seed: 3)
        let one = try await CrossValidation.run(specs, on: dataset, splitter: splitter, jobs: 1)
        let many = try await CrossValidation.run(specs, on: dataset, splitter: splitter, jobs: 3)
        for (a, b) in zip(one, many) {
            #expect(a.model == b.model)
            #expect(a.scores == b.scores, "\(a.model)")
        }
    }

    @Test func shuffleSplitMatchesScikitLearn() throws {
        let splits = try ShuffleSplit(splits: 3, testFraction: 0.25, seed: 4).splits(rowCount: 178)
        #expect(splits.map(\.train) == fixture.shuffle_split.map(\.train))
        #expect(splits.map(\.test) == fixture.shuffle_split.map(\.test))
        #expect(throws: UsageError.self) { try ShuffleSplit(splits: 1, testFraction: 1, seed: 0).splits(rowCount: 10) }
        #expect(throws: UsageError.self) { try ShuffleSplit(splits: 0, testFraction: 0.5, seed: 0).splits(rowCount: 10) }
    }

    @Test func repeatedStratifiedKFoldMatchesScikitLearn() throws {
        let dataset = try Dataset.load("wine")
        let splitter = RepeatedStratifiedKFold(foldsPerRepeat: 3, repeats: 2, seed: 9)
        let splits = try splitter.splits(rowCount: dataset.rowCount, labels: labels(of: dataset))
        #expect(splitter.foldCount == 6)
        #expect(splits.map(\.test) == fixture.repeated_stratified_test)
        // Every repeat covers every row once.
        for repeatIndex in 0..<2 {
            let tests = splits[(3 * repeatIndex)..<(3 * repeatIndex + 3)].flatMap(\.test).sorted()
            #expect(tests == Array(0..<dataset.rowCount))
        }
    }

    @Test func gridCombinationsInScikitLearnsOrder() throws {
        let grid = try ParameterGrid(["C=0.1,1", "hidden_layer_sizes=50;100,50", "tol=1e-3"])
        #expect(grid.combinations.map { $0.map(\.value) } == [
            ["0.1", "50", "1e-3"], ["0.1", "100,50", "1e-3"], ["1", "50", "1e-3"], ["1", "100,50", "1e-3"],
        ])
        #expect(throws: UsageError.self) { try ParameterGrid(["C"]) }
        #expect(throws: UsageError.self) { try ParameterGrid(["C=1,,2"]) }
        #expect(throws: UsageError.self) { try ParameterGrid(["C=1", "C=2"]) }
        #expect(throws: UsageError.self) { try ParameterGrid(["C=1"]).specs(model: "svm", task: .classification, assignments: [("C", "2")]) }
        #expect(throws: UsageError.self) { try ParameterGrid(["C=abc"]).specs(model: "svm", task: .classification, assignments: []) }
        let specs = try ParameterGrid(["C=0.5,2"]).specs(model: "svm", task: .classification, assignments: [("tol", "0.01")])
        #expect(specs.map { $0.parameters.double("C") } == [0.5, 2])
        #expect(specs.allSatisfy { $0.parameters.double("tol") == 0.01 })
    }

    /// Losses rank smallest first; a model without the metric goes last.
    @Test func rankingDirections() async throws {
        let dataset = try Dataset.load("iris")
        let specs = try ModelComparison.specs(for: dataset, task: .classification, models: ["svm", "tree", "logreg"])
        let reports = try await CrossValidation.run(specs, on: dataset, splitter: StratifiedKFold(foldCount: 3, seed: 0))
        let byLoss = try RankingMetric("log_loss", task: .classification).ranked(reports).map(\.model)
        #expect(byLoss == ["logreg", "tree", "svm"])
        let byAccuracy = RankingMetric.primary(for: .classification).ranked(reports).map { $0.mean("accuracy") }
        #expect(byAccuracy == byAccuracy.sorted(by: >))
        #expect(throws: UsageError.self) { try RankingMetric("r2", task: .classification) }
        #expect(throws: UsageError.self) { try ModelComparison.specs(for: dataset, task: .classification, models: ["linreg"]) }
        #expect(throws: UsageError.self) { try ModelComparison.specs(for: dataset, task: .classification, models: ["bogus"]) }
        #expect(throws: UsageError.self) {
            try ModelComparison.specs(for: dataset, task: .classification, models: nil, assignments: [("C", "1")])
        }
    }
}
