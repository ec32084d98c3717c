/// How to fit and reload one estimator family for one task, with the concrete types erased so
/// the command line and model files can pick an estimator by name.
public struct EstimatorImplementation: Sendable {
    public let parameterSpecs: [ParameterSpec]
    let check: @Sendable (Parameters) throws(UsageError) -> Void
    let fit: @Sendable (Parameters, FeatureMatrix, TrainingTargets) throws -> FittedPredictor
    let load: @Sendable ([String: Tensor], Parameters, [String]?, String) throws(InputError) -> FittedPredictor

    /// The implementation backed by a `Regressor`.
    public static func regressor<R: Regressor>(_ type: R.Type) -> EstimatorImplementation {
        EstimatorImplementation(
            parameterSpecs: R.parameterSpecs,
            check: { parameters throws(UsageError) in _ = try R(parameters: parameters) },
            fit: { parameters, x, targets in
                guard case let .values(y) = targets else { preconditionFailure("regressor given class labels") }
                return .regressor(try R(parameters: parameters).fit(x, y))
            },
            load: { tensors, parameters, _, location throws(InputError) in
                .regressor(try R.Fitted(tensors: tensors, parameters: parameters, location: location))
            })
    }
}

/// What an estimator learns from: numbers for regression.
public enum TrainingTargets: Sendable {
    case values([Double])
}

/// A fitted model of any registered estimator.
public enum FittedPredictor: Sendable {
    case regressor(any FittedRegressor)

    var model: any FittedModel {
        switch self {
        case let .regressor(r): return r
        }
    }
}

/// A registered estimator: its command-line name and its implementations by task.
public struct EstimatorEntry: Sendable {
    /// `linreg`, `ridge`, …
    public let name: String
    public let summary: String
    /// The implementation for each task it supports.
    public let implementations: [Task: EstimatorImplementation]

    /// The implementation for `task`.
    /// - Throws: `UsageError` when the estimator does not do that task.
    public func implementation(for task: Task) throws(UsageError) -> EstimatorImplementation {
        guard let implementation = implementations[task] else {
            let tasks = implementations.keys.map(\.rawValue).sorted().joined(separator: " or ")
            throw UsageError("\(name) does \(tasks), not \(task.rawValue)")
        }
        return implementation
    }
}

/// Every estimator Lathe knows, by command-line name.
public enum EstimatorRegistry {
    public static let entries: [EstimatorEntry] = [
        EstimatorEntry(name: LinearRegression.name, summary: "ordinary least squares (LAPACK dgelsd)",
                       implementations: [.regression: .regressor(LinearRegression.self)]),
        EstimatorEntry(name: Ridge.name, summary: "L2-regularised least squares (Cholesky)",
                       implementations: [.regression: .regressor(Ridge.self)]),
    ]

    /// The registered names, in registration order.
    public static var names: [String] { entries.map(\.name) }

    /// The estimator called `name`.
    /// - Throws: `UsageError` listing the known names.
    public static func entry(named name: String) throws(UsageError) -> EstimatorEntry {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw UsageError("unknown model \"\(name)\" (known: \(names.joined(separator: ", ")))")
        }
        return entry
    }
}
