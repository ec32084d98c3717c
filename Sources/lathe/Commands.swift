import ArgumentParser
import Foundation
import Lathe
import Linalg

struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "datasets", abstract: "List the bundled datasets.")

    @Flag(help: "Print one JSON document on stdout.")
    var json = false

    func run() throws {
        let entries = BundledDatasets.entries
        guard !entries.isEmpty else { throw InputError("no datasets folder found (set LATHE_DATASETS)") }
        var rows = [["name", "task", "rows", "features", "classes"]]
        var documents: [JSONValue] = []
        for entry in entries {
            let (row, document) = try Self.describe(entry)
            rows.append(row)
            documents.append(document)
        }
        emit(json ? JSONValue.object(["datasets": .array(documents)]).jsonText : table(rows, rightAligned: [2, 3, 4]))
    }

    /// One table row and one JSON object for a bundled dataset.
    private static func describe(_ entry: BundledDatasets.Entry) throws -> ([String], JSONValue) {
        let dataset = try Dataset.load(entry.path)
        let task = dataset.inferredTask
        let features = dataset.featureCount.map(String.init) ?? "text"
        let classes = task == .classification ? dataset.classes.count : nil
        let row = [entry.name, task.rawValue, String(dataset.rowCount), features, classes.map(String.init) ?? "-"]
        let document = JSONValue.object([
            "name": .string(entry.name), "task": .string(task.rawValue), "rows": .integer(Int64(dataset.rowCount)),
            "features": dataset.featureCount.map { .integer(Int64($0)) } ?? .string("text"),
            "classes": classes.map { .integer(Int64($0)) } ?? .null,
            "path": .string(entry.path),
        ])
        return (row, document)
    }
}

struct CrossValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cv", abstract: "K-fold cross-validate one model.")

    @OptionGroup var data: DataOptions
    @OptionGroup var model: ModelOptions
    @OptionGroup var split: SplitOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (dataset, task) = try data.load()
        let splitter = try split.splitter(for: task)
        let spec = try model.spec(task: task)
        let progress = output.progress
        let report = try await CrossValidation.run(spec, on: dataset, splitter: splitter) { done, total in
            progress.update("cv \(spec.entry.name)", done: done, total: total)
        }
        if report.unconvergedFolds > 0 {
            warn("\(spec.entry.name) did not converge in \(report.unconvergedFolds) of \(report.folds) folds; raise max_iter (--set max_iter=...) or scale the features")
        }
        if output.json {
            emit(report.json.jsonText)
            return
        }
        var header = ["metric", "mean", "std"]
        header += (1...report.folds).map { "fold \($0)" }
        var rows = [header]
        for metric in report.metricNames {
            rows.append([metric, fixed(report.mean(metric)), fixed(report.standardDeviation(metric))]
                        + report.scores[metric]!.map { fixed($0) })
        }
        for (name, times) in [("fit ms", report.fitSeconds), ("predict ms", report.predictSeconds)] {
            let ms = times.map { $0 * 1000 }
            let mean = ms.reduce(0, +) / Double(ms.count)
            let std = (ms.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(ms.count)).squareRoot()
            rows.append([name, fixed(mean, 2), fixed(std, 2)] + ms.map { fixed($0, 2) })
        }
        let features = report.features.map { "\($0) features" } ?? "text"
        let params = spec.parameters.names.map { "\($0)=\(spec.parameters[$0])" }.joined(separator: " ")
        emit("""
        \(report.model) on \(report.dataset): \(report.task.rawValue), \(report.rows) rows, \(features)
        \(report.folds)-fold \(report.stratified ? "stratified " : "")cross-validation, shuffled with seed \(report.seed); \(params)

        \(table(rows, rightAligned: Set(1..<header.count)))
        """)
    }
}

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Fit a model on all rows and write a model file.")

    @OptionGroup var data: DataOptions
    @OptionGroup var model: ModelOptions

    @Option(help: "The model file to write (safetensors).")
    var out: String

    @Flag(help: "Print one JSON document on stdout.")
    var json = false

    func run() async throws {
        let (dataset, task) = try data.load()
        let spec = try model.spec(task: task)
        let trained = try await spec.fit(dataset)
        if trained.converged == false {
            warn("\(trained.estimator) did not converge; the model file records converged=false (raise max_iter with --set max_iter=...)")
        }
        let features = trained.featureCount
        try ModelFile.write(trained, to: out)
        if json {
            emit(JSONValue.object([
                "model": .string(trained.estimator), "task": .string(task.rawValue), "out": .string(out),
                "rows": .integer(Int64(dataset.rowCount)), "features": .integer(Int64(features)),
                "params": trained.parameters.json,
            ]).jsonText)
        } else {
            emit("wrote \(out): \(trained.estimator) (\(task.rawValue)), \(features) features\(trained.takesText ? " from text" : ""), trained on \(dataset.rowCount) rows of \(dataset.name)")
        }
    }
}

struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict from a model file, one input per line (a text, or comma-separated feature values).")

    @Argument(help: "The model file.")
    var model: String

    @Argument(help: "The input file, or - (the default) for stdin.")
    var input: String = "-"

    @Flag(help: "Print one JSON object per line.")
    var json = false

    func run() async throws {
        let trained = try ModelFile.read(model)
        let location = input == "-" ? "stdin" : input
        let bytes = input == "-" ? [UInt8](FileHandle.standardInput.readDataToEndOfFile()) : try readInput(input)
        let lines = try inputLines(bytes, location: location)
        let x = try trained.features(fromLines: lines, location: location)
        let predictions = try await trained.predict(x)
        emit(predictions.map { json ? $0.json.jsonText : $0.text }.joined(separator: "\n"))
    }

    private func readInput(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError("cannot read the input file", at: path)
        }
        return [UInt8](data)
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show a model file's metadata and tensors.")

    @Argument(help: "The model file.")
    var model: String

    @Flag(help: "Print one JSON document on stdout.")
    var json = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: model) else {
            throw InputError("no such file or not readable", at: model)
        }
        let bytes = [UInt8](data)
        _ = try ModelFile.decode(bytes, location: model)  // the full check, so inspect never shows a bad model
        let container = try SafeTensors(bytes: bytes, location: model)
        let names = container.tensors.keys.sorted()
        if json {
            emit(JSONValue.object([
                "metadata": .object(container.metadata.mapValues { .string($0) }),
                "tensors": .object(Dictionary(uniqueKeysWithValues: names.map { name in
                    let t = container.tensors[name]!
                    return (name, JSONValue.object(["dtype": .string(t.dtype.rawValue),
                                                    "shape": .array(t.shape.map { .integer(Int64($0)) })]))
                })),
            ]).jsonText)
            return
        }
        var lines = ["\(model)"]
        lines += table(container.metadata.keys.sorted().map { [$0, container.metadata[$0]!] }).split(separator: "\n").map { "  " + $0 }
        lines.append("tensors")
        lines += table(names.map { name in
            let t = container.tensors[name]!
            return [name, t.dtype.rawValue, "[" + t.shape.map(String.init).joined(separator: ", ") + "]"]
        }).split(separator: "\n").map { "  " + $0 }
        emit(lines.joined(separator: "\n"))
    }
}

struct VectorizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectorize",
        abstract: "Fit the vectorizer (and scaler) on a dataset; write them and the feature matrix (CSR) to a safetensors file.")

    @OptionGroup var data: DataOptions

    @Option(name: .customLong("set"), help: ArgumentHelp("A vectorizer or scaler setting, KEY=VALUE (scikit-learn's names).", valueName: "KEY=VALUE"))
    var assignments: [String] = []

    @Option(help: "The file to write (safetensors).")
    var out: String

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let pipeline = try PipelineSpec(assignments: try parseAssignments(assignments))
        let progress = output.progress
        progress.update("loading", done: 0, total: 2)
        let (dataset, _) = try data.load()
        progress.update("vectorizing \(dataset.rowCount) rows", done: 1, total: 2)
        let container = try await FeatureFile.vectorize(dataset, pipeline: pipeline)
        progress.update("vectorized", done: 2, total: 2)
        do {
            try Data(container.serialized()).write(to: URL(fileURLWithPath: out), options: .atomic)
        } catch {
            throw InputError("cannot write: \(error.localizedDescription)", at: out)
        }
        let shape = container.metadata["shape"] ?? "[]"
        let stored = container.tensors["X.data"]?.elementCount ?? 0
        if output.json {
            emit(JSONValue.object(["out": .string(out), "shape": (try? JSONValue.parse(Data(shape.utf8))) ?? .null,
                                   "stored": .integer(Int64(stored)),
                                   "pipeline": (try? JSONValue.parse(Data((container.metadata["pipeline"] ?? "[]").utf8))) ?? .null]).jsonText)
        } else {
            emit("wrote \(out): \(dataset.name) as a \(shape) matrix with \(stored) stored values")
        }
    }
}
