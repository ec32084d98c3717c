import Foundation

/// The result of cross-validating one model on one dataset: per-fold scores and timings, in the
/// shape of DESIGN.md's `cv --json` document.
public struct CrossValidationReport: Sendable {
    public var dataset: String
    public var task: Task
    public var rows: Int
    /// Numeric feature count (`nil` for text, whose width depends on the fold's vocabulary).
    public var features: Int?
    public var model: String
    public var parameters: Parameters
    public var folds: Int
    public var seed: UInt32
    public var stratified: Bool
    /// Metric names in report order.
    public var metricNames: [String]
    /// Per-fold scores by metric name.
    public var scores: [String: [Double]]
    /// Wall-clock seconds to fit each fold.
    public var fitSeconds: [Double]
    /// Wall-clock seconds to predict each fold's test rows.
    public var predictSeconds: [Double]
    /// Folds whose fit stopped at the iteration limit before converging.
    public var unconvergedFolds: Int = 0

    /// Mean of a metric over folds.
    public func mean(_ metric: String) -> Double {
        let values = scores[metric] ?? []
        return values.reduce(0, +) / Double(max(values.count, 1))
    }

    /// Population standard deviation of a metric over folds (NumPy's default, ddof = 0).
    public func standardDeviation(_ metric: String) -> Double {
        let values = scores[metric] ?? []
        guard !values.isEmpty else { return 0 }
        let m = mean(metric)
        return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)).squareRoot()
    }

    /// Mean of every metric.
    public var means: [String: Double] {
        Dictionary(uniqueKeysWithValues: metricNames.map { ($0, mean($0)) })
    }

    /// DESIGN.md's `cv --json` document.
    public var json: JSONValue {
        .object([
            "dataset": .string(dataset),
            "task": .string(task.rawValue),
            "rows": .integer(Int64(rows)),
            "features": features.map { .integer(Int64($0)) } ?? .null,
            "model": .string(model),
            "params": parameters.json,
            "folds": .integer(Int64(folds)),
            "seed": .integer(Int64(seed)),
            "stratified": .bool(stratified),
            "scores": .object(scores.mapValues { .array($0.map { .number($0) }) }),
            "mean": .object(Dictionary(uniqueKeysWithValues: metricNames.map { ($0, .number(mean($0))) })),
            "std": .object(Dictionary(uniqueKeysWithValues: metricNames.map { ($0, .number(standardDeviation($0))) })),
            "fit_seconds": .array(fitSeconds.map { .number($0) }),
            "predict_seconds": .array(predictSeconds.map { .number($0) }),
        ])
    }
}

/// K-fold cross-validation: each fold fits a fresh model on its training rows and scores its
/// test rows.
public enum CrossValidation {
    /// Runs `spec` over the folds of `splitter` on `dataset`.
    /// - Parameters:
    ///   - progress: called after each fold with (folds done, folds in all).
    /// - Throws: `UsageError` when the rows cannot be split; `InputError`/`FitError` when a fold
    ///   cannot be fitted.
    public static func run(_ spec: ModelSpec, on dataset: Dataset, splitter: any Splitter,
                           progress: ((Int, Int) -> Void)? = nil) async throws -> CrossValidationReport {
        // Class indices over the whole dataset, so every fold scores against the same label set
        // even when a training fold lacks a class.
        let classes = dataset.classes
        let classIndex = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let labels = spec.task == .classification ? dataset.targets.map { classIndex[$0]! } : nil
        let values = spec.task == .regression ? try dataset.regressionTargets() : nil
        let splits = try splitter.splits(rowCount: dataset.rowCount, labels: labels)
        var metricNames: [String] = []
        var scores: [String: [Double]] = [:]
        var fitSeconds: [Double] = []
        var predictSeconds: [Double] = []
        var unconverged = 0
        let clock = ContinuousClock()
        for (k, split) in splits.enumerated() {
            let fitStart = clock.now
            let model = try await spec.fit(dataset, rows: split.train)
            let fitTime = clock.now - fitStart
            if model.converged == false { unconverged += 1 }
            let test = dataset.rows(split.test)
            let predictStart = clock.now
            let foldScores: [(String, Double)]
            if let labels {
                let outputs = try await model.classify(test.features, classes: classes)
                foldScores = ClassificationMetrics.all(
                    expected: split.test.map { labels[$0] }, predicted: outputs.predicted,
                    probabilities: outputs.probabilities, decision: outputs.decision, classCount: classes.count)
            } else {
                let predicted = try await model.predict(test).map { p -> Double in
                    if case let .value(v) = p { return v }
                    return .nan
                }
                foldScores = RegressionMetrics.all(predicted: predicted, expected: split.test.map { values![$0] })
            }
            let predictTime = clock.now - predictStart
            if k == 0 { metricNames = foldScores.map(\.0) }
            for (name, value) in foldScores { scores[name, default: []].append(value) }
            fitSeconds.append(fitTime.seconds)
            predictSeconds.append(predictTime.seconds)
            progress?(k + 1, splits.count)
        }
        return CrossValidationReport(
            dataset: dataset.name, task: spec.task, rows: dataset.rowCount, features: dataset.featureCount,
            model: spec.entry.name, parameters: spec.parameters, folds: splits.count, seed: splitter.seed,
            stratified: splitter.isStratified, metricNames: metricNames, scores: scores,
            fitSeconds: fitSeconds, predictSeconds: predictSeconds, unconvergedFolds: unconverged)
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
