/// Which metric ranks models, and which way.
public struct RankingMetric: Sendable, Equatable {
    public let name: String

    /// The metric `name` for `task`.
    /// - Throws: `UsageError` naming the task's metrics when `name` is not one of them.
    public init(_ name: String, task: Task) throws(UsageError) {
        let known = task == .classification ? ClassificationMetrics.names + ["log_loss", "roc_auc"] : RegressionMetrics.names
        guard known.contains(name) else {
            throw UsageError("unknown metric \(quoted(name)) for \(task.rawValue) (known: \(known.joined(separator: ", ")))")
        }
        self.name = name
    }

    /// The task's primary metric: accuracy, or r2.
    public static func primary(for task: Task) -> RankingMetric {
        try! RankingMetric(task == .classification ? "accuracy" : "r2", task: task)
    }

    /// True for losses and errors, where smaller is better.
    public var smallerIsBetter: Bool { ["log_loss", "rmse", "mae"].contains(name) }

    /// The reports best first by their mean of this metric; a report without it (log loss of
    /// a model without probabilities) goes last. Ties keep their order.
    public func ranked(_ reports: [CrossValidationReport]) -> [CrossValidationReport] {
        order(reports).map { reports[$0] }
    }

    /// The indices of `reports`, best first (as `ranked`).
    public func order(_ reports: [CrossValidationReport]) -> [Int] {
        let keyed = reports.enumerated().map { i, report -> (Int, Double?) in
            (i, report.scores[name] == nil ? nil : report.mean(name))
        }
        return keyed.sorted { a, b in
            switch (a.1, b.1) {
            case let (x?, y?) where x != y: return smallerIsBetter ? x < y : x > y
            case (nil, _?): return false
            case (_?, nil): return true
            default: return a.0 < b.0
            }
        }.map(\.0)
    }
}

/// `lathe compare`: every estimator that does the task, each in the pipeline a scikit-learn
/// user would give it, cross-validated on the same folds.
public enum ModelComparison {
    /// The specs to compare on `dataset`.
    /// - Parameters:
    ///   - models: estimator names; nil for every registered estimator that does `task`.
    ///   - assignments: pipeline settings (`vectorizer=...`, `min_df=...`) for every model.
    /// - Throws: `UsageError` for an unknown or unsuitable model, an estimator setting (they
    ///   differ between models: use `cv` for one model) or a bad value.
    public static func specs(for dataset: Dataset, task: Task, models: [String]?,
                             assignments: [(key: String, value: String)] = []) throws(UsageError) -> [ModelSpec] {
        let pipelineKeys = Set(PipelineSpec.allSpecs.map(\.name))
        if let key = assignments.first(where: { !pipelineKeys.contains($0.key) })?.key {
            throw UsageError("compare takes pipeline settings only, not \(quoted(key)) (use lathe cv --model NAME --set \(key)=... for one model)")
        }
        let entries: [EstimatorEntry]
        if let models {
            guard !models.isEmpty else { throw UsageError("--models needs at least one model name") }
            var named: [EstimatorEntry] = []
            for name in models { named.append(try EstimatorRegistry.entry(named: name)) }
            entries = named
        } else {
            entries = EstimatorRegistry.entries.filter { $0.implementations[task] != nil }
        }
        var specs: [ModelSpec] = []
        for entry in entries {
            var settings = assignments
            if entry.prefersStandardizedFeatures, !dataset.isText, !settings.contains(where: { $0.key == "scaler" }) {
                settings.append(("scaler", "standard"))
            }
            specs.append(try ModelSpec(name: entry.name, task: task, assignments: settings))
        }
        return specs
    }
}

/// Grid search: every combination of a few values per setting, cross-validated on the same
/// folds (scikit-learn's `GridSearchCV`).
public struct ParameterGrid: Sendable {
    /// The most combinations one search may make.
    public static let maximumCombinations = 10_000

    /// Each setting with its candidate values, in command-line order.
    public let axes: [(key: String, values: [String])]

    /// Parses `KEY=V1,V2,...` arguments. Values that themselves hold commas (a layer list, an
    /// n-gram range) are separated by `;` instead: `hidden_layer_sizes=50;100,50`.
    /// - Throws: `UsageError` for an argument without `=`, an empty or repeated value, a repeated
    ///   key, or more than `maximumCombinations` combinations.
    public init(_ arguments: [String]) throws(UsageError) {
        var axes: [(key: String, values: [String])] = []
        for argument in arguments {
            guard let eq = argument.firstIndex(of: "="), eq != argument.startIndex else {
                throw UsageError("--grid expects KEY=V1,V2,..., got \(quoted(argument))")
            }
            let key = String(argument[..<eq]), list = argument[argument.index(after: eq)...]
            let values = list.split(separator: list.contains(";") ? ";" : ",", omittingEmptySubsequences: false).map(String.init)
            guard !values.contains(where: \.isEmpty) else { throw UsageError("--grid \(key) has an empty value in \(quoted(list))") }
            guard !axes.contains(where: { $0.key == key }) else { throw UsageError("--grid \(key) is given twice") }
            guard Set(values).count == values.count else { throw UsageError("--grid \(key) lists a value twice in \(quoted(list))") }
            axes.append((key, values))
        }
        // Every combination is a cross-validation: a slip of the keyboard must not start a week of them.
        let count = axes.reduce(1.0) { $0 * Double($1.values.count) }
        guard count <= Double(Self.maximumCombinations) else {
            throw UsageError("--grid makes \(Int(exactly: count).map(String.init) ?? "too many") combinations; at most \(Self.maximumCombinations)")
        }
        self.axes = axes
    }

    /// Every combination as assignments, the last key varying fastest (scikit-learn's order
    /// for one grid with keys in this order).
    public var combinations: [[(key: String, value: String)]] {
        axes.reduce([[]]) { partial, axis in
            partial.flatMap { prefix in axis.values.map { prefix + [(axis.key, $0)] } }
        }
    }

    /// One spec per combination, the fixed `assignments` first.
    /// - Throws: `UsageError` when a combination names an unknown key, a bad value, or a key
    ///   also given with `--set`.
    public func specs(model: String, task: Task, assignments: [(key: String, value: String)]) throws(UsageError) -> [ModelSpec] {
        if let key = axes.first(where: { axis in assignments.contains { $0.key == axis.key } })?.key {
            throw UsageError("\(key) is given with both --set and --grid")
        }
        var specs: [ModelSpec] = []
        for combination in combinations {
            specs.append(try ModelSpec(name: model, task: task, assignments: assignments + combination))
        }
        return specs
    }
}
