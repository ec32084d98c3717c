import Foundation

/// Lathe's version, written into every model file.
public let latheVersion = "0.1.0"

/// Reading and writing model files: a safetensors container whose metadata says what the
/// model is (DESIGN.md "Model files").
public enum ModelFile {
    /// The `format` metadata value.
    public static let format = "lathe-model"
    /// The `format_version` this build writes and reads.
    public static let formatVersion = "1"

    /// The container for `model`.
    /// - Parameter created: the time stamp to record (now by default).
    public static func container(for model: TrainedModel, created: Date = Date()) -> SafeTensors {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var metadata: [String: String] = [
            "format": format,
            "format_version": formatVersion,
            "estimator": model.estimator,
            "task": model.task.rawValue,
            "params": model.parameters.json.jsonText,
            "pipeline": model.pipeline.metadata.jsonText,
            "feature_names": JSONValue.array(model.featureNames.map { .string($0) }).jsonText,
            "lathe_version": latheVersion,
            "created": formatter.string(from: created),
            "training": model.training.json.jsonText,
        ]
        if let classes = model.fitted.classes { metadata["classes"] = JSONValue.array(classes.map { .string($0) }).jsonText }
        if let converged = model.converged { metadata["converged"] = converged ? "true" : "false" }
        return SafeTensors(metadata: metadata,
                           tensors: model.fitted.model.tensors().merging(model.pipeline.tensors()) { a, _ in a })
    }

    /// Writes `model` to `path` atomically (a partial file never replaces a good one), as
    /// `OutputFile.write` does.
    /// - Throws: `InputError` when the file cannot be written.
    public static func write(_ model: TrainedModel, to path: String) throws(InputError) {
        try OutputFile.write(container(for: model).serialized(), to: path)
    }

    /// Reads and checks the model file at `path`.
    /// - Throws: `InputError` for a missing, truncated, corrupted or foreign file.
    public static func read(_ path: String) throws(InputError) -> TrainedModel {
        try decode(try readFile(path), location: path)
    }

    /// Checks and decodes a model file's bytes.
    /// - Throws: `InputError` describing the first problem.
    public static func decode(_ bytes: [UInt8], location: String) throws(InputError) -> TrainedModel {
        try decode(try SafeTensors(bytes: bytes, location: location), location: location)
    }

    /// Checks and decodes a parsed container, for callers that also read its metadata.
    /// - Throws: `InputError` describing the first problem.
    public static func decode(_ container: SafeTensors, location: String) throws(InputError) -> TrainedModel {
        let meta = container.metadata
        func require(_ key: String) throws(InputError) -> String {
            guard let v = meta[key] else { throw InputError("not a Lathe model: metadata has no \"\(key)\"", at: location) }
            return v
        }
        func json(_ key: String) throws(InputError) -> JSONValue {
            let text = try require(key)
            do { return try JSONValue.parse(Data(text.utf8)) } catch {
                throw InputError("metadata \"\(key)\" is not valid JSON", at: location)
            }
        }
        guard try require("format") == format else { throw InputError("not a Lathe model (format is not \(format))", at: location) }
        let version = try require("format_version")
        guard version == formatVersion else {
            throw InputError("model format version \(quoted(version)) is not supported (this build reads \(formatVersion))", at: location)
        }
        let name = try require("estimator")
        guard let taskName = Task(rawValue: try require("task")) else {
            throw InputError("metadata \"task\" must be classification or regression", at: location)
        }
        guard taskName == .classification || meta["classes"] == nil else {
            throw InputError("metadata \"classes\" on a regression model (was the task changed?)", at: location)
        }
        let entry: EstimatorEntry
        let implementation: EstimatorImplementation
        do {
            entry = try EstimatorRegistry.entry(named: name)
            implementation = try entry.implementation(for: taskName)
        } catch {
            throw InputError(error.message, at: location)
        }
        let parameters = try Parameters(specs: implementation.parameterSpecs, json: try json("params"), location: location)
        let pipeline = try FittedPipeline(metadata: try json("pipeline"), tensors: container.tensors, location: location)
        guard let namesJSON = try json("feature_names").arrayValue else {
            throw InputError("metadata \"feature_names\" is not an array", at: location)
        }
        let featureNames = namesJSON.compactMap(\.stringValue)
        guard featureNames.count == namesJSON.count else {
            throw InputError("metadata \"feature_names\" must hold strings", at: location)
        }
        var classes: [String]? = nil
        if taskName == .classification {
            let list = try json("classes").arrayValue ?? []
            classes = list.compactMap(\.stringValue)
            guard classes!.count == list.count, Set(classes!).count == list.count else {
                throw InputError("metadata \"classes\" must be an array of distinct strings", at: location)
            }
        }
        let fitted = try implementation.load(container.tensors, parameters, classes, location)
        // A tensor nothing reads means the metadata no longer describes the file (a scaler step
        // deleted, say): loading it anyway would predict with a different model than was saved.
        let used = Set(fitted.model.tensors().keys).union(pipeline.tensors().keys)
        if let stray = container.tensors.keys.filter({ !used.contains($0) }).min() {
            throw InputError("tensor \(quoted(stray)) is not part of this model (its metadata does not use it)", at: location)
        }
        // Every stage must agree on the width it hands on.
        let inputWidth = pipeline.takesText ? nil : featureNames.count
        if pipeline.takesText, !featureNames.isEmpty {
            throw InputError("a text model has no feature names, but metadata lists \(featureNames.count)", at: location)
        }
        if let width = pipeline.outputFeatureCount ?? inputWidth, width != fitted.model.featureCount {
            throw InputError("the estimator takes \(fitted.model.featureCount) features but its input has \(width)", at: location)
        }
        if let inputWidth, let scalerWidth = pipeline.scaler?.featureCount, scalerWidth != inputWidth {
            throw InputError("the scaler takes \(scalerWidth) features but there are \(inputWidth) feature names", at: location)
        }
        let training = try json("training").objectValue
        let info = TrainingInfo(
            rows: training?["rows"]?.integerValue.flatMap { Int(exactly: $0) } ?? 0,
            dataName: training?["data"]?.stringValue ?? "",
            dataSHA256: training?["data_sha256"]?.stringValue ?? "",
            crossValidationMeans: training?["cv_mean"]?.objectValue?.compactMapValues(\.doubleValue))
        return TrainedModel(estimator: entry.name, task: taskName, parameters: parameters,
                            featureNames: featureNames, pipeline: pipeline, fitted: fitted, training: info)
    }
}
