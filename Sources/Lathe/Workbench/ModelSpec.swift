import Foundation
import Linalg

/// A named estimator with its hyper-parameters, ready to fit on a dataset: what `--model` and
/// `--set` describe.
public struct ModelSpec: Sendable {
    public let entry: EstimatorEntry
    public let task: Task
    public let parameters: Parameters
    /// The transformers fitted in front of the estimator.
    public let pipeline: PipelineSpec

    /// Resolves a model name and `KEY=VALUE` assignments for a task. Keys of the estimator go
    /// to it; vectorizer and scaler keys (`PipelineSpec`) to the pipeline.
    /// - Throws: `UsageError` for an unknown model, a task it does not do, an unknown key
    ///   (listing the valid ones) or a bad value.
    public init(name: String, task: Task, assignments: [(key: String, value: String)] = []) throws(UsageError) {
        entry = try EstimatorRegistry.entry(named: name)
        self.task = task
        let implementation = try entry.implementation(for: task)
        let estimatorKeys = implementation.parameterSpecs.map(\.name)
        let pipelineKeys = PipelineSpec.allSpecs.map(\.name)
        if let unknown = assignments.first(where: { !estimatorKeys.contains($0.key) && !pipelineKeys.contains($0.key) }) {
            throw UsageError("unknown parameter \(quoted(unknown.key)) for \(name) (valid: "
                + (estimatorKeys.isEmpty ? "" : estimatorKeys.joined(separator: ", ") + "; ")
                + "pipeline: " + pipelineKeys.joined(separator: ", ") + ")")
        }
        parameters = try Parameters(specs: implementation.parameterSpecs,
                                    assignments: assignments.filter { estimatorKeys.contains($0.key) }, estimator: name)
        pipeline = try PipelineSpec(assignments: assignments.filter { pipelineKeys.contains($0.key) && !estimatorKeys.contains($0.key) })
        // Conflicts between values surface here rather than at the first fold.
        try implementation.check(parameters)
    }

    /// Fits the pipeline and then the estimator on the rows of `dataset` (all of them, or
    /// `rows`); nothing learned from other rows reaches the model.
    /// - Throws: `InputError`, `UsageError` or `FitError` when the data does not suit the model.
    public func fit(_ dataset: Dataset, rows: [Int]? = nil) async throws -> TrainedModel {
        let data = rows.map { dataset.rows($0) } ?? dataset
        let targets = try self.targets(of: data)
        let (fittedPipeline, x) = try await pipeline.fitTransform(data.features)
        let fitted = try entry.implementation(for: task).fit(parameters, x, targets)
        var featureNames: [String] = []
        if case let .numeric(_, names) = data.features { featureNames = names }
        return TrainedModel(estimator: entry.name, task: task, parameters: parameters, featureNames: featureNames,
                            pipeline: fittedPipeline, fitted: fitted,
                            training: TrainingInfo(rows: data.rowCount, dataName: dataset.name,
                                                   dataSHA256: dataset.sha256, crossValidationMeans: nil))
    }

    /// Fits only the estimator, on features already transformed (benchmarks, custom pipelines).
    /// - Throws: `FitError` for unusable data.
    public func fitEstimator(_ x: FeatureMatrix, _ targets: TrainingTargets) throws -> FittedPredictor {
        try entry.implementation(for: task).fit(parameters, x, targets)
    }

    func targets(of dataset: Dataset) throws(InputError) -> TrainingTargets {
        switch task {
        case .regression: return .values(try dataset.regressionTargets())
        case .classification:
            let classes = dataset.classes
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
            return .classes(dataset.targets.map { index[$0]! }, classes: classes)
        }
    }
}

/// Where a trained model came from, for the model file's `training` metadata.
public struct TrainingInfo: Sendable, Equatable {
    public var rows: Int
    public var dataName: String
    public var dataSHA256: String
    /// Mean cross-validation score per metric, when known.
    public var crossValidationMeans: [String: Double]?

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "rows": .integer(Int64(rows)), "data": .string(dataName), "data_sha256": .string(dataSHA256),
        ]
        if let means = crossValidationMeans { object["cv_mean"] = .object(means.mapValues { .number($0) }) }
        return .object(object)
    }
}
