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

    /// The implementation backed by a `Classifier`.
    public static func classifier<C: Classifier>(_ type: C.Type) -> EstimatorImplementation {
        EstimatorImplementation(
            parameterSpecs: C.parameterSpecs,
            check: { parameters throws(UsageError) in _ = try C(parameters: parameters) },
            fit: { parameters, x, targets in
                guard case let .classes(y, classes) = targets else { preconditionFailure("classifier given numeric targets") }
                return .classifier(try C(parameters: parameters).fit(x, y, classes: classes), classes: classes)
            },
            load: { tensors, parameters, classes, location throws(InputError) in
                guard let classes, classes.count >= 2 else {
                    throw InputError("a classifier's metadata \"classes\" must list at least two classes", at: location)
                }
                return .classifier(try C.Fitted(tensors: tensors, parameters: parameters, classCount: classes.count, location: location),
                                   classes: classes)
            })
    }
}

/// What an estimator learns from: numbers for regression, class indices into `classes` for
/// classification.
public enum TrainingTargets: Sendable {
    case values([Double])
    case classes([Int], classes: [String])
}

/// A fitted model of any registered estimator.
public enum FittedPredictor: Sendable {
    case regressor(any FittedRegressor)
    /// A classifier and its class labels, as given in the training data (index = class index).
    case classifier(any FittedClassifier, classes: [String])

    var model: any FittedModel {
        switch self {
        case let .regressor(r): return r
        case let .classifier(c, _): return c
        }
    }

    /// The class labels of a classifier.
    public var classes: [String]? {
        if case let .classifier(_, classes) = self { return classes }
        return nil
    }
}

/// A registered estimator: its command-line name and its implementations by task.
public struct EstimatorEntry: Sendable {
    /// `linreg`, `ridge`, …
    public let name: String
    public let summary: String
    /// The implementation for each task it supports.
    public let implementations: [Task: EstimatorImplementation]
    /// True for estimators whose fit depends on the features' scales (gradient steps, margins,
    /// penalties): `compare` puts a standard scaler in front of them on numeric data, as a
    /// scikit-learn user's pipeline would.
    public let prefersStandardizedFeatures: Bool

    public init(name: String, summary: String, implementations: [Task: EstimatorImplementation],
                prefersStandardizedFeatures: Bool = false) {
        self.name = name
        self.summary = summary
        self.implementations = implementations
        self.prefersStandardizedFeatures = prefersStandardizedFeatures
    }

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
        EstimatorEntry(name: LogisticRegression.name, summary: "logistic regression, binary or multinomial (L-BFGS)",
                       implementations: [.classification: .classifier(LogisticRegression.self)],
                       prefersStandardizedFeatures: true),
        EstimatorEntry(name: LinearSVC.name, summary: "linear support-vector classifier (liblinear's dual coordinate descent)",
                       implementations: [.classification: .classifier(LinearSVC.self)],
                       prefersStandardizedFeatures: true),
        EstimatorEntry(name: DecisionTreeClassifier.name, summary: "CART decision tree (presorted exact splits)",
                       implementations: [.classification: .classifier(DecisionTreeClassifier.self),
                                         .regression: .regressor(DecisionTreeRegressor.self)]),
        EstimatorEntry(name: MLPClassifier.name, summary: "multilayer perceptron (Adam or SGD, BLAS gemm, CSR first layer)",
                       implementations: [.classification: .classifier(MLPClassifier.self),
                                         .regression: .regressor(MLPRegressor.self)],
                       prefersStandardizedFeatures: true),
    ]

    /// The registered names, in registration order.
    public static var names: [String] { entries.map(\.name) }

    /// The estimator called `name`.
    /// - Throws: `UsageError` listing the known names.
    public static func entry(named name: String) throws(UsageError) -> EstimatorEntry {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw UsageError("unknown model \(quoted(name)) (known: \(names.joined(separator: ", ")))")
        }
        return entry
    }
}
