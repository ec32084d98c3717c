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
    static let configuration = CommandConfiguration(
        commandName: "cv", abstract: "K-fold cross-validate one model, or grid-search its settings.")

    @OptionGroup var data: DataOptions
    @OptionGroup var model: ModelOptions
    @OptionGroup var split: SplitOptions
    @OptionGroup var search: GridOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (dataset, task) = try data.load()
        let splitter = try split.splitter(for: task)
        let jobs = try split.checkedJobs()
        if !search.grid.isEmpty {
            let result = try await search.run(model: model, on: dataset, task: task, splitter: splitter, jobs: jobs, output: output)
            emit(output.json ? result.json.jsonText : result.text)
            return
        }
        let spec = try model.spec(task: task)
        let progress = output.progress
        let report = try await CrossValidation.run(spec, on: dataset, splitter: splitter, jobs: jobs) { done, total in
            progress.update("cv \(spec.entry.name)", done: done, total: total)
        }
        warnIfUnconverged(report)
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
        let params = spec.parameters.names.map { "\($0)=\(spec.parameters[$0])" }.joined(separator: " ")
        emit("""
        \(report.model) on \(describe(report)); \(params)

        \(table(rows, rightAligned: Set(1..<header.count)))
        """)
    }
}

struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Cross-validate every model that fits the task on the same folds, and rank them.")

    @OptionGroup var data: DataOptions

    @Option(help: "Comma-separated model names (default: every model that does the task).")
    var models: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("A pipeline setting for every model, KEY=VALUE (vectorizer=..., min_df=...).", valueName: "KEY=VALUE"))
    var assignments: [String] = []

    @OptionGroup var split: SplitOptions

    @Option(help: "The metric that ranks the models (default: accuracy, or r2 for regression).")
    var metric: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (dataset, task) = try data.load()
        let splitter = try split.splitter(for: task)
        let jobs = try split.checkedJobs()
        let ranking = try metric.map { name throws(UsageError) in try RankingMetric(name, task: task) } ?? .primary(for: task)
        let names = models.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        let specs = try ModelComparison.specs(for: dataset, task: task, models: names, assignments: try parseAssignments(assignments))
        let progress = output.progress
        let label = "compare: \(specs.count) models × \(splitter.foldCount) folds"
        let reports = ranking.ranked(try await CrossValidation.run(specs, on: dataset, splitter: splitter, jobs: jobs) { done, total in
            progress.update(label, done: done, total: total)
        })
        for report in reports { warnIfUnconverged(report) }
        if output.json {
            emit(JSONValue.object(["dataset": .string(dataset.name), "results": .array(reports.map(\.json))]).jsonText)
            return
        }
        let vectorizer = dataset.isText ? specs[0].pipeline.text.string("vectorizer") : nil
        let pipelines = Dictionary(specs.map { spec in
            let steps = [vectorizer, spec.pipeline.scaling.string("scaler")].compactMap { $0 }.filter { $0 != "none" }
            return (spec.entry.name, steps.isEmpty ? "-" : steps.joined(separator: " + "))
        }, uniquingKeysWith: { a, _ in a })
        emit("""
        models on \(describe(reports[0])); ranked by \(ranking.name)

        \(leaderboard(reports, ranking: ranking, header: ["model", "pipeline"]) { [reports[$0].model, pipelines[reports[$0].model] ?? ""] })
        """)
    }
}

/// `--grid`: grid search over settings of one model.
struct GridOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Candidate values of a setting, KEY=V1,V2,... (values holding commas: separate them with ;). Every combination is cross-validated.", valueName: "KEY=VALUES"))
    var grid: [String] = []

    @Option(help: "The metric that picks the best combination (default: accuracy, or r2 for regression).")
    var metric: String?

    func validate() throws {
        if grid.isEmpty, metric != nil { throw UsageError("--metric ranks the combinations of a --grid search; give --grid too") }
    }

    /// The outcome of a grid search: each combination's report, best first.
    struct Result {
        let dataset: String
        let model: String
        let ranking: RankingMetric
        let combinations: [[(key: String, value: String)]]
        let reports: [CrossValidationReport]
        /// The best combination's spec, to refit on every row.
        let best: ModelSpec

        var json: JSONValue {
            func object(_ combination: [(key: String, value: String)]) -> JSONValue {
                .object(Dictionary(uniqueKeysWithValues: combination.map { ($0.key, .string($0.value)) }))
            }
            return .object([
                "dataset": .string(dataset), "model": .string(model), "metric": .string(ranking.name),
                "best": object(combinations[0]),
                "results": .array(zip(reports, combinations).map { report, combination in
                    guard case var .object(document) = report.json else { return report.json }
                    document["grid"] = object(combination)
                    return .object(document)
                }),
            ])
        }

        var text: String {
            let keys = combinations[0].map(\.key)
            let board = leaderboard(reports, ranking: ranking, header: keys) { combinations[$0].map(\.value) }
            let best = combinations[0].map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return """
            \(model) on \(describe(reports[0])); \(reports.count) combinations ranked by \(ranking.name)

            \(board)

            best: \(best) (\(ranking.name) \(fixed(reports[0].mean(ranking.name))) ± \(fixed(reports[0].standardDeviation(ranking.name))))
            """
        }
    }

    /// Cross-validates every combination on the same folds; the result ranked best first.
    func run(model: ModelOptions, on dataset: Dataset, task: Task, splitter: any Splitter, jobs: Int,
             output: OutputOptions) async throws -> Result {
        let parameterGrid = try ParameterGrid(grid)
        let ranking = try metric.map { name throws(UsageError) in try RankingMetric(name, task: task) } ?? .primary(for: task)
        let specs = try parameterGrid.specs(model: model.model, task: task, assignments: try parseAssignments(model.assignments))
        let progress = output.progress
        let label = "grid \(model.model): \(specs.count) combinations × \(splitter.foldCount) folds"
        let reports = try await CrossValidation.run(specs, on: dataset, splitter: splitter, jobs: jobs) { done, total in
            progress.update(label, done: done, total: total)
        }
        let order = ranking.order(reports)
        guard reports[order[0]].scores[ranking.name] != nil else {
            throw UsageError("\(model.model) gives no \(ranking.name) here (log_loss needs probabilities, roc_auc two "
                             + "classes or probabilities); rank by another --metric")
        }
        for index in order where reports[index].unconvergedFolds > 0 {
            let combination = parameterGrid.combinations[index].map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            warn("\(model.model) with \(combination) did not converge in \(reports[index].unconvergedFolds) of \(reports[index].folds) folds")
        }
        return Result(dataset: dataset.name, model: model.model, ranking: ranking,
                      combinations: order.map { parameterGrid.combinations[$0] }, reports: order.map { reports[$0] },
                      best: specs[order[0]])
    }
}

/// "iris: classification, 150 rows, 4 features; 5-fold stratified cross-validation, shuffled with seed 0".
func describe(_ report: CrossValidationReport) -> String {
    let features = report.features.map { "\($0) features" } ?? "text"
    return "\(report.dataset): \(report.task.rawValue), \(report.rows) rows, \(features); "
        + "\(report.folds)-fold \(report.stratified ? "stratified " : "")cross-validation, shuffled with seed \(report.seed)"
}

/// A ranked table: the label columns, then each metric's mean ± std over folds, then the mean
/// fit and predict seconds per fold.
func leaderboard(_ reports: [CrossValidationReport], ranking: RankingMetric, header: [String],
                 labels: (Int) -> [String]) -> String {
    // The ranking metric first, then the others in report order.
    let all = reports.max { $0.metricNames.count < $1.metricNames.count }?.metricNames ?? []
    let metrics = [ranking.name] + all.filter { $0 != ranking.name }
    var rows = [["rank"] + header + metrics + ["fit s", "predict s"]]
    for (position, report) in reports.enumerated() {
        let cells = metrics.map { metric in
            report.scores[metric] == nil ? "-" : "\(fixed(report.mean(metric))) ± \(fixed(report.standardDeviation(metric)))"
        }
        let timings = [report.fitSeconds, report.predictSeconds].map { fixed($0.reduce(0, +) / Double(max($0.count, 1)), 3) }
        rows.append([String(position + 1)] + labels(position) + cells + timings)
    }
    let first = 1 + header.count
    return table(rows, rightAligned: Set([0] + Array(first..<rows[0].count)))
}

/// The warning for a report with folds that stopped at their iteration limit.
func warnIfUnconverged(_ report: CrossValidationReport) {
    guard report.unconvergedFolds > 0 else { return }
    warn("\(report.model) did not converge in \(report.unconvergedFolds) of \(report.folds) folds; raise max_iter (--set max_iter=...) or scale the features")
}

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Fit a model on all rows (the best of a grid search, with --grid) and write a model file.")

    @OptionGroup var data: DataOptions
    @OptionGroup var model: ModelOptions
    @OptionGroup var search: GridOptions
    @OptionGroup var split: SplitOptions

    @Option(help: "The model file to write (safetensors).")
    var out: String

    @OptionGroup var output: OutputOptions

    func run() async throws {
        try OutputFile.check(out, notSameAs: [data.data])
        let (dataset, task) = try data.load()
        var spec = try model.spec(task: task)
        var searched: GridOptions.Result?
        if !search.grid.isEmpty {
            let result = try await search.run(model: model, on: dataset, task: task, splitter: try split.splitter(for: task),
                                              jobs: try split.checkedJobs(), output: output)
            spec = result.best
            searched = result
        }
        var trained = try await spec.fit(dataset)
        if let searched { trained.training.crossValidationMeans = searched.reports[0].means }
        if trained.converged == false {
            warn("\(trained.estimator) did not converge; the model file records converged=false (raise max_iter with --set max_iter=...)")
        }
        let features = trained.featureCount
        try ModelFile.write(trained, to: out)
        if output.json {
            var document: [String: JSONValue] = [
                "model": .string(trained.estimator), "task": .string(task.rawValue), "out": .string(out),
                "rows": .integer(Int64(dataset.rowCount)), "features": .integer(Int64(features)),
                "params": trained.parameters.json,
            ]
            if let searched { document["grid_search"] = searched.json }
            emit(JSONValue.object(document).jsonText)
        } else {
            var text = "wrote \(out): \(trained.estimator) (\(task.rawValue)), \(features) features\(trained.takesText ? " from text" : ""), trained on \(dataset.rowCount) rows of \(dataset.name)"
            if let searched { text = searched.text + "\n\n" + text }
            emit(text)
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
        let container = try SafeTensors(bytes: bytes, location: model)
        _ = try ModelFile.decode(container, location: model)  // the full check, so inspect never shows a bad model
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
        // Long values (a vocabulary's settings, many feature names) are cut here; --json has them whole.
        lines += table(container.metadata.keys.sorted().map { key in
            [singleLine(key, limit: 64), singleLine(container.metadata[key]!, limit: 1_000)]
        }).split(separator: "\n").map { "  " + $0 }
        lines.append("tensors")
        lines += table(names.map { name in
            let t = container.tensors[name]!
            return [singleLine(name, limit: 64), t.dtype.rawValue, "[" + t.shape.map(String.init).joined(separator: ", ") + "]"]
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
        try OutputFile.check(out, notSameAs: [data.data])
        let progress = output.progress
        progress.update("loading", done: 0, total: 2)
        let (dataset, _) = try data.load()
        progress.update("vectorizing \(dataset.rowCount) rows", done: 1, total: 2)
        let container = try await FeatureFile.vectorize(dataset, pipeline: pipeline)
        progress.update("vectorized", done: 2, total: 2)
        try OutputFile.write(container.serialized(), to: out)
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
