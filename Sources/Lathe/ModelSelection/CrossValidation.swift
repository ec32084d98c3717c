import Foundation
import Linalg

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

/// K-fold cross-validation: each fold fits a fresh model (pipeline included) on its training
/// rows and scores its test rows.
///
/// Fold fits run concurrently, `jobs` at a time, with OpenBLAS on one thread: the cores go to
/// whole fits (no spinning BLAS threads, no hand-offs inside small products). Lathe's own
/// parallel work (vectorizing, sparse products, per-class solvers, tree presorting, MLP steps)
/// may use `jobs` threads, so a lone last fold still uses every core, and `jobs: 1` uses one;
/// its results do not depend on the thread count, so the scores do not depend on `jobs`.
public enum CrossValidation {
    /// Runs `spec` over the folds of `splitter` on `dataset`.
    /// - Parameters:
    ///   - jobs: fold fits at once (default: one per core).
    ///   - progress: called after each fold with (folds done, folds in all).
    /// - Throws: `UsageError` when the rows cannot be split; `InputError`/`FitError` when a fold
    ///   cannot be fitted.
    public static func run(_ spec: ModelSpec, on dataset: Dataset, splitter: any Splitter, jobs: Int = Parallelism.coreCount,
                           progress: ((Int, Int) -> Void)? = nil) async throws -> CrossValidationReport {
        try await run([spec], on: dataset, splitter: splitter, jobs: jobs, progress: progress)[0]
    }

    /// Runs every spec over the same folds of `dataset`: one report per spec, in order. The
    /// fits of all models and folds share the `jobs` slots.
    /// - Throws: as the single-model `run`, and `UsageError` when the specs' tasks differ; the
    ///   first failing fit ends the run.
    public static func run(_ specs: [ModelSpec], on dataset: Dataset, splitter: any Splitter, jobs: Int = Parallelism.coreCount,
                           progress: ((Int, Int) -> Void)? = nil) async throws -> [CrossValidationReport] {
        guard let task = specs.first?.task else { return [] }
        guard specs.allSatisfy({ $0.task == task }) else {
            throw UsageError("models cross-validated together must do the same task")
        }
        // Class indices over the whole dataset, so every fold scores against the same label set
        // even when a training fold lacks a class.
        let classes = dataset.classes
        let classIndex = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let labels = task == .classification ? dataset.targets.map { classIndex[$0]! } : nil
        let values = task == .regression ? try dataset.regressionTargets() : nil
        let splits = try splitter.splits(rowCount: dataset.rowCount, labels: labels)
        let total = specs.count * splits.count
        let folds = try await BLAS.withThreadCounts(blas: 1, kernels: jobs) {
            try await mapConcurrently(count: total, maximumConcurrency: jobs, completed: { progress?($0, total) }) { job in
                try await evaluate(specs[job / splits.count], dataset, splits[job % splits.count],
                                   classes: classes, labels: labels, values: values)
            }
        }
        return specs.enumerated().map { m, spec in
            let results = folds[(m * splits.count)..<((m + 1) * splits.count)]
            let metricNames = results.first?.scores.map(\.0) ?? []
            var scores: [String: [Double]] = [:]
            for result in results { for (name, value) in result.scores { scores[name, default: []].append(value) } }
            return CrossValidationReport(
                dataset: dataset.name, task: spec.task, rows: dataset.rowCount, features: dataset.featureCount,
                model: spec.entry.name, parameters: spec.parameters, folds: splits.count, seed: splitter.seed,
                stratified: splitter.isStratified, metricNames: metricNames, scores: scores,
                fitSeconds: results.map(\.fitSeconds), predictSeconds: results.map(\.predictSeconds),
                unconvergedFolds: results.filter { $0.converged == false }.count)
        }
    }

    /// One fold's scores and timings.
    private struct FoldResult: Sendable {
        var scores: [(String, Double)]
        var fitSeconds: Double
        var predictSeconds: Double
        var converged: Bool?
    }

    /// Fits `spec` on the split's training rows and scores its test rows.
    private static func evaluate(_ spec: ModelSpec, _ dataset: Dataset, _ split: Split, classes: [String],
                                 labels: [Int]?, values: [Double]?) async throws -> FoldResult {
        let clock = ContinuousClock()
        let fitStart = clock.now
        let model = try await spec.fit(dataset, rows: split.train)
        let fitTime = clock.now - fitStart
        let test = dataset.rows(split.test)
        let predictStart = clock.now
        let scores: [(String, Double)]
        if let labels {
            let outputs = try await model.classify(test.features, classes: classes)
            scores = ClassificationMetrics.all(
                expected: split.test.map { labels[$0] }, predicted: outputs.predicted,
                probabilities: outputs.probabilities, decision: outputs.decision, classCount: classes.count)
        } else {
            let predicted = try await model.predict(test).map { p -> Double in
                if case let .value(v) = p { return v }
                return .nan
            }
            scores = RegressionMetrics.all(predicted: predicted, expected: split.test.map { values![$0] })
            // Errors this large overflow their squares: finite but useless predictions, not a score.
            guard scores.allSatisfy({ $0.0 != "rmse" && $0.0 != "mae" || $0.1.isFinite }) else {
                throw FitError.unsupportedInput("a test fold's errors overflow a double (are the features badly scaled?)")
            }
        }
        return FoldResult(scores: scores, fitSeconds: fitTime.seconds, predictSeconds: (clock.now - predictStart).seconds,
                          converged: model.converged)
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
