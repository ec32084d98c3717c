import Foundation
import Linalg

/// A named estimator with its hyper-parameters, ready to fit on a dataset: what `--model` and
/// `--set` describe.
public struct ModelSpec: Sendable {
    public let entry: EstimatorEntry
    public let task: Task
    public let parameters: Parameters

    /// Resolves a model name and `KEY=VALUE` assignments for a task.
    /// - Throws: `UsageError` for an unknown model, a task it does not do, an unknown key
    ///   (listing the valid ones) or a bad value.
    public init(name: String, task: Task, assignments: [(key: String, value: String)] = []) throws(UsageError) {
        entry = try EstimatorRegistry.entry(named: name)
        self.task = task
        let implementation = try entry.implementation(for: task)
        parameters = try Parameters(specs: implementation.parameterSpecs, assignments: assignments, estimator: name)
        // Conflicts between values surface here rather than at the first fold.
        try implementation.check(parameters)
    }

    /// Fits on the rows of `dataset` (all of them, or `rows`).
    /// - Throws: `InputError` or `FitError` when the data does not suit the model.
    public func fit(_ dataset: Dataset, rows: [Int]? = nil) throws -> TrainedModel {
        let data = rows.map { dataset.rows($0) } ?? dataset
        let (x, featureNames) = try features(of: data)
        let targets = try self.targets(of: data)
        let fitted = try entry.implementation(for: task).fit(parameters, x, targets)
        return TrainedModel(estimator: entry.name, task: task, parameters: parameters, featureNames: featureNames,
                            fitted: fitted,
                            training: TrainingInfo(rows: data.rowCount, dataName: dataset.name,
                                                   dataSHA256: dataset.sha256, crossValidationMeans: nil))
    }

    func features(of dataset: Dataset) throws(InputError) -> (FeatureMatrix, [String]) {
        switch dataset.features {
        case let .numeric(m, names): return (.dense(m), names)
        case .text: throw InputError("text data needs a vectorizer, which is not available yet", at: dataset.name)
        }
    }

    func targets(of dataset: Dataset) throws(InputError) -> TrainingTargets {
        switch task {
        case .regression: return .values(try dataset.regressionTargets())
        case .classification:
            throw InputError("\(entry.name) cannot classify", at: dataset.name)
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
