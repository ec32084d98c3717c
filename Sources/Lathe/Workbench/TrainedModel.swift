import Foundation
import Linalg

/// One prediction, shaped as `lathe predict --json` prints it.
public enum Prediction: Sendable, Equatable {
    /// A regression value.
    case value(Double)
    /// A class label with the probability of each class, or (for models without probabilities)
    /// decision values: one per class, or for two classes the positive class's only.
    case label(String, probabilities: [String: Double]?, decision: [String: Double]?)

    /// `{"value": 151.2}` or `{"label": "spam", "probabilities": {"ham": 0.02, "spam": 0.98}}`.
    public var json: JSONValue {
        switch self {
        case let .value(v): return .object(["value": .number(v)])
        case let .label(label, probabilities, decision):
            var object: [String: JSONValue] = ["label": .string(label)]
            if let probabilities { object["probabilities"] = .object(probabilities.mapValues { .number($0) }) }
            if let decision { object["decision"] = .object(decision.mapValues { .number($0) }) }
            return .object(object)
        }
    }

    /// The plain-text form: the value or the label.
    public var text: String {
        switch self {
        case let .value(v): return formatNumber(v)
        case let .label(label, _, _): return label
        }
    }
}

/// Predictions for a batch of rows, kept as the model computed them: class indices and one
/// matrix of scores. `prediction(at:)` and `writeJSON(row:to:)` give exactly what `Prediction`
/// and its `json` give.
public struct PredictionBatch: Sendable {
    /// What the model gives besides the class.
    public enum Scores: Sendable {
        /// Regression values, one per row.
        case values([Double])
        /// `rows × classes` probabilities.
        case probabilities(Matrix)
        /// Decision values: `rows × classes`, or `rows × 1` (the positive class's) for two classes.
        case decision(Matrix)
    }

    /// The class labels (empty for a regressor).
    public let classes: [String]
    /// The predicted class index of each row (empty for a regressor).
    public let predicted: [Int]
    public let scores: Scores
    /// The score columns' indices in the order of their labels as JSON keys (sorted), so each
    /// row is written without sorting.
    private let keyOrder: [Int]
    /// Each class as a JSON string (quoted, escaped), written once per batch rather than per row.
    private let quotedClasses: [[UInt8]]

    init(classes: [String], predicted: [Int], scores: Scores) {
        self.classes = classes
        self.predicted = predicted
        self.scores = scores
        keyOrder = classes.indices.sorted { classes[$0] < classes[$1] }
        quotedClasses = classes.map { label in
            var bytes: [UInt8] = []
            JSONValue.writeString(label, to: &bytes)
            return bytes
        }
    }

    public var count: Int {
        if case let .values(v) = scores { return v.count }
        return predicted.count
    }

    /// The label of each score column: every class, or for a two-class decision the positive one.
    public var scoreColumns: [String] {
        if case let .decision(d) = scores, d.columnCount == 1 { return [classes[1]] }
        return classes
    }

    public func prediction(at i: Int) -> Prediction {
        switch scores {
        case let .values(v): return .value(v[i])
        case let .probabilities(p):
            return .label(classes[predicted[i]], probabilities: Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, p[i, $0]) }),
                          decision: nil)
        case let .decision(d):
            let decision = d.columnCount == 1 ? [classes[1]: d[i, 0]]
                : Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, d[i, $0]) })
            return .label(classes[predicted[i]], probabilities: nil, decision: decision)
        }
    }

    public var predictions: [Prediction] { (0..<count).map(prediction(at:)) }

    /// Appends row `i` as `prediction(at: i).json.jsonBytes` would be, without building it.
    public func writeJSON(row i: Int, to out: inout [UInt8]) {
        func scores(_ name: String, _ m: Matrix) {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: "\":{".utf8)
            if m.columnCount == 1 {
                out.append(contentsOf: quotedClasses[1])
                out.append(UInt8(ascii: ":"))
                JSONValue.writeNumber(m[i, 0], to: &out)
            } else {
                for (k, c) in keyOrder.enumerated() {
                    if k > 0 { out.append(UInt8(ascii: ",")) }
                    out.append(contentsOf: quotedClasses[c])
                    out.append(UInt8(ascii: ":"))
                    JSONValue.writeNumber(m[i, c], to: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
        // Keys in sorted order, as `jsonText` writes them: decision, label, probabilities.
        switch self.scores {
        case let .values(v):
            out.append(contentsOf: "{\"value\":".utf8)
            JSONValue.writeNumber(v[i], to: &out)
        case let .probabilities(p):
            out.append(contentsOf: "{\"label\":".utf8)
            out.append(contentsOf: quotedClasses[predicted[i]])
            out.append(UInt8(ascii: ","))
            scores("probabilities", p)
        case let .decision(d):
            out.append(UInt8(ascii: "{"))
            scores("decision", d)
            out.append(contentsOf: ",\"label\":".utf8)
            out.append(contentsOf: quotedClasses[predicted[i]])
        }
        out.append(UInt8(ascii: "}"))
    }
}

/// A fitted model with everything needed to use and store it: the estimator's name and
/// settings, the feature names, the fitted numbers and where the training data came from.
public struct TrainedModel: Sendable {
    public let estimator: String
    public let task: Task
    public let parameters: Parameters
    /// Names of the numeric input columns, in order (empty for a text model).
    public let featureNames: [String]
    /// The fitted transformers applied to raw input before the estimator.
    public let pipeline: FittedPipeline
    public let fitted: FittedPredictor
    public var training: TrainingInfo

    public init(estimator: String, task: Task, parameters: Parameters, featureNames: [String],
                pipeline: FittedPipeline = FittedPipeline(), fitted: FittedPredictor, training: TrainingInfo) {
        self.estimator = estimator
        self.task = task
        self.parameters = parameters
        self.featureNames = featureNames
        self.pipeline = pipeline
        self.fitted = fitted
        self.training = training
    }

    /// The number of features the estimator takes (after the pipeline: for text, the vocabulary size).
    public var featureCount: Int { fitted.model.featureCount }

    /// False when fitting stopped at its iteration limit before converging; nil when unknown or
    /// not applicable.
    public var converged: Bool? { fitted.model.converged }

    /// True when the model takes raw text lines.
    public var takesText: Bool { pipeline.takesText }

    /// Predicts every row of `x`, features as the estimator takes them (after the pipeline).
    /// - Throws: `FitError` for a wrong feature count or non-finite values.
    public func predict(transformed x: FeatureMatrix) throws -> [Prediction] {
        try predictBatch(transformed: x).predictions
    }

    /// The predictions for every row of `x` as matrices (no dictionary per row), for callers
    /// that write many of them, such as a prediction service.
    /// - Throws: `FitError` for a wrong feature count or non-finite values.
    public func predictBatch(transformed x: FeatureMatrix) throws -> PredictionBatch {
        switch fitted {
        case let .regressor(r): return PredictionBatch(classes: [], predicted: [], scores: .values(try finite(r.predict(x))))
        case let .classifier(c, classes):
            let predicted = try c.predictClasses(x)
            if let p = try c.probabilities(x) {
                return PredictionBatch(classes: classes, predicted: predicted, scores: .probabilities(try finite(p)))
            }
            return PredictionBatch(classes: classes, predicted: predicted, scores: .decision(try finite(c.decisionFunction(x))))
        }
    }

    /// `predictBatch` for raw features (text or numeric), through the pipeline.
    /// - Throws: `InputError` when the kind of features does not suit the model; `FitError`.
    public func predictBatch(_ features: Dataset.Features) async throws -> PredictionBatch {
        try predictBatch(transformed: try await pipeline.transform(features))
    }

    /// `predictBatch` on the calling thread, vectorizing included: for the small batches of a
    /// served request, answered on the thread that read it.
    /// - Throws: as `predictBatch`.
    public func predictBatchSerially(_ features: Dataset.Features) throws -> PredictionBatch {
        try predictBatch(transformed: try pipeline.transformSerially(features))
    }

    /// Predictions for raw features (text or numeric), through the pipeline.
    /// - Throws: `InputError` when the kind of features does not suit the model; `FitError`.
    public func predict(_ features: Dataset.Features) async throws -> [Prediction] {
        try predict(transformed: try await pipeline.transform(features))
    }

    /// A classifier's raw outputs for `features`, with classes re-indexed into `classes` (a
    /// superset of the model's own, as in cross-validation where a training fold may lack a
    /// class): predicted indices, probabilities (`rows × classes.count`, zero for classes the
    /// model never saw) and decision values as the model gives them.
    /// - Throws: `InputError` for a regressor or a model class missing from `classes`; `FitError`.
    public func classify(_ features: Dataset.Features, classes: [String]) async throws
        -> (predicted: [Int], probabilities: Matrix?, decision: Matrix) {
        guard case let .classifier(c, own) = fitted else { throw InputError("\(estimator) is not a classifier") }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let map = try own.map { label throws(InputError) -> Int in
            guard let i = index[label] else { throw InputError("model class \(label) is not among the data's classes") }
            return i
        }
        let x = try await pipeline.transform(features)
        let predicted = try c.predictClasses(x).map { map[$0] }
        var probabilities: Matrix? = nil
        if let p = try c.probabilities(x).map(finite) {
            var expanded = Matrix(rowCount: p.rowCount, columnCount: classes.count)
            for i in 0..<p.rowCount { for k in 0..<p.columnCount { expanded[i, map[k]] = p[i, k] } }
            probabilities = expanded
        }
        var decision = try finite(c.decisionFunction(x))
        if decision.columnCount > 1, own != classes {
            var expanded = Matrix(rowCount: decision.rowCount, columnCount: classes.count, repeating: -.infinity)
            for i in 0..<decision.rowCount { for k in 0..<decision.columnCount { expanded[i, map[k]] = decision[i, k] } }
            decision = expanded
        }
        return (predicted, probabilities, decision)
    }

    /// Predictions for the rows of `dataset` (its targets are ignored).
    public func predict(_ dataset: Dataset) async throws -> [Prediction] {
        do {
            return try await predict(dataset.features)
        } catch let error as InputError {
            throw InputError(error.message, at: dataset.name)
        }
    }

    /// Parses prediction inputs, one per line: a text for a text model, comma-separated feature
    /// values otherwise.
    /// - Parameters:
    ///   - lines: the input lines (blank lines are errors for numeric models).
    ///   - location: the input's name for messages (`stdin`, a path).
    /// - Throws: `InputError` naming the line of a malformed input.
    public func features(fromLines lines: [String], location: String) throws(InputError) -> Dataset.Features {
        if takesText { return .text(lines) }
        let width = featureNames.count
        var elements: [Double] = []
        elements.reserveCapacity(lines.count * width)
        for (i, line) in lines.enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == width else {
                throw InputError("expected \(width) comma-separated values, found \(cells.count)", at: "\(location):\(i + 1)")
            }
            for (j, cell) in cells.enumerated() {
                let trimmed = cell.trimmingCharacters(in: .whitespaces)
                guard let v = decimalNumber(trimmed), v.isFinite else {
                    throw InputError("value \(j + 1) (\(quoted(trimmed, limit: 40))) is not a finite number", at: "\(location):\(i + 1)")
                }
                elements.append(v)
            }
        }
        return .numeric(try! Matrix(rowCount: lines.count, columnCount: width, elements: elements), names: featureNames)
    }
}

/// Splits prediction input into lines: LF or CRLF line ends, and a final line end optional.
/// - Throws: `InputError` naming the line that is not valid UTF-8.
public func inputLines(_ bytes: [UInt8], location: String) throws(InputError) -> [String] {
    try bytes.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(InputError) -> [String] in
        if let bad = firstInvalidUTF8Offset(buffer) {
            throw InputError("invalid UTF-8", at: "\(location):\(lineAndColumn(of: bad, in: buffer).line)")
        }
        var lines: [String] = []
        var start = 0
        while start < buffer.count {
            var end = start
            while end < buffer.count, buffer[end] != UInt8(ascii: "\n") { end += 1 }
            let stop = end > start && buffer[end - 1] == UInt8(ascii: "\r") ? end - 1 : end
            lines.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<stop]), as: UTF8.self))
            start = end + 1
        }
        return lines
    }
}

/// Shortest text that reads back as the same Double.
func formatNumber(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}

/// `values` when all are finite: inputs that are finite but far outside the training data can
/// overflow a model's outputs, and a NaN probability or score must not pass for an answer.
/// - Throws: `FitError.nonFiniteOutput`.
private func finite(_ values: [Double]) throws(FitError) -> [Double] {
    guard values.allSatisfy(\.isFinite) else { throw .nonFiniteOutput }
    return values
}

private func finite(_ values: Matrix) throws(FitError) -> Matrix {
    guard values.isFinite else { throw .nonFiniteOutput }
    return values
}
