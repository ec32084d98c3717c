import Foundation
import Lathe
import Linalg

/// A model file loaded for serving, under its name (the file name without its extension).
/// A class: every request looks its model up, and a reference is one retain where the struct
/// would copy a dozen.
public final class ServedModel: Sendable {
    /// What the model answers besides the label (the V2 protocol's second output tensor).
    public struct ScoreOutput: Sendable, Equatable {
        /// `probabilities`, `decision` or `value`.
        public let name: String
        /// Columns per prediction: the classes, 1 for a two-class decision or a regression value.
        public let width: Int
        /// The class of each column, in order (empty for a regression value).
        public let columns: [String]

        /// What `batch`'s model gives.
        init(_ batch: PredictionBatch) {
            switch batch.scores {
            case .values: (name, columns) = ("value", [])
            case .probabilities: (name, columns) = ("probabilities", batch.scoreColumns)
            case .decision: (name, columns) = ("decision", batch.scoreColumns)
            }
            width = max(1, columns.count)
        }
    }

    public let name: String
    public let model: TrainedModel
    /// The file's metadata, its JSON-valued entries parsed (`GET /v1/models/{name}`).
    public let metadata: [String: JSONValue]
    public let scoreOutput: ScoreOutput

    init(name: String, model: TrainedModel, metadata: [String: JSONValue], scoreOutput: ScoreOutput) {
        self.name = name
        self.model = model
        self.metadata = metadata
        self.scoreOutput = scoreOutput
    }

    /// Reads, checks and warms up the model file at `path`: one prediction on an empty input
    /// proves the model can predict before the server accepts requests for it.
    /// - Throws: `InputError` for a missing, unreadable or invalid file, or a file name that
    ///   cannot be a URL path segment.
    public static func load(path: String) async throws -> ServedModel {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        guard Self.isValidName(name) else {
            throw InputError("a served model's file name (without extension) must be 1 to 64 letters, digits, '.', '_' or '-', got \(quoted(name, limit: 80))", at: path)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError("no such file or not readable", at: path)
        }
        let bytes = [UInt8](data)
        let container = try SafeTensors(bytes: bytes, location: path)
        let model = try ModelFile.decode(container, location: path)
        let metadata = container.metadata.mapValues { text in
            text.first == "[" || text.first == "{" ? (try? JSONValue.parse(Data(text.utf8))) ?? .string(text) : .string(text)
        }
        let probe: Dataset.Features = model.takesText
            ? .text([""])
            : .numeric(Matrix(rowCount: 1, columnCount: model.featureNames.count), names: model.featureNames)
        let probed: PredictionBatch
        do {
            probed = try await model.predictBatch(probe)
        } catch {
            throw InputError("the model cannot predict: \(error)", at: path)
        }
        return ServedModel(name: name, model: model, metadata: metadata, scoreOutput: ScoreOutput(probed))
    }

    /// Names that are safe as a URL path segment without escaping.
    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default: return false
            }
        }
    }

    /// True when the model takes raw text (the input tensor `text`), false for numeric features.
    public var takesText: Bool { model.takesText }

    /// The features a numeric model takes per row (0 for text).
    public var inputWidth: Int { model.takesText ? 0 : model.featureNames.count }

    /// A line per model for `GET /v1/models`.
    var summary: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name),
            "estimator": .string(model.estimator),
            "task": .string(model.task.rawValue),
            "input": .string(takesText ? "text" : "features"),
        ]
        if !takesText { object["features"] = .array(model.featureNames.map { .string($0) }) }
        if let classes = model.fitted.classes { object["classes"] = .array(classes.map { .string($0) }) }
        return .object(object)
    }

    /// `GET /v1/models/{name}`: the summary and the file's metadata.
    var details: JSONValue {
        guard case var .object(object) = summary else { return summary }
        object["metadata"] = .object(metadata)
        return .object(object)
    }

    /// `GET /v2/models/{name}` (Open Inference Protocol model metadata); -1 is the batch dimension.
    var inferenceMetadata: JSONValue {
        func tensor(_ name: String, _ datatype: String, _ shape: [Int]) -> JSONValue {
            .object(["name": .string(name), "datatype": .string(datatype), "shape": .array(shape.map { .integer(Int64($0)) })])
        }
        let input = takesText ? tensor("text", "BYTES", [-1]) : tensor("features", "FP64", [-1, inputWidth])
        var outputs: [JSONValue] = []
        if model.task == .classification { outputs.append(tensor("label", "BYTES", [-1])) }
        outputs.append(tensor(scoreOutput.name, "FP64", [-1, scoreOutput.width]))
        var object: [String: JSONValue] = [
            "name": .string(name), "versions": .array([.string("1")]), "platform": .string("lathe"),
            "inputs": .array([input]), "outputs": .array(outputs),
        ]
        if !scoreOutput.columns.isEmpty {
            object["parameters"] = .object(["columns": .string(JSONValue.array(scoreOutput.columns.map { .string($0) }).jsonText)])
        }
        return .object(object)
    }
}

/// The served models by name.
public struct ModelTable: Sendable {
    public let models: [String: ServedModel]
    /// Names in the order the files were given.
    public let names: [String]

    /// Loads every file.
    /// - Throws: `InputError` for the first file that cannot be served, or two files with the
    ///   same name.
    public init(paths: [String]) async throws {
        var models: [String: ServedModel] = [:]
        var names: [String] = []
        for path in paths {
            let served = try await ServedModel.load(path: path)
            guard models[served.name] == nil else {
                throw InputError("two model files are named \(served.name); each is served under its file name", at: path)
            }
            models[served.name] = served
            names.append(served.name)
        }
        self.models = models
        self.names = names
    }
}
