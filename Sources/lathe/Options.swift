import ArgumentParser
import Foundation
import Lathe

/// Where the data comes from and which columns to use.
struct DataOptions: ParsableArguments {
    @Argument(help: "A data file (CSV, TSV, JSON lines, optionally .gz) or a bundled dataset's name.")
    var data: String

    @Option(help: "Numeric CSV: the target column.")
    var target: String = "target"

    @Option(help: "Text data: the label column.")
    var label: String = "label"

    @Option(help: "Text data: the text column (naming it makes a .csv file text data).")
    var text: String?

    @Option(help: "classification or regression (inferred from the targets by default).")
    var task: String?

    func load() throws -> (Dataset, Task) {
        let dataset = try Dataset.load(data, columns: ColumnOptions(target: target, label: label, text: text))
        guard let task else { return (dataset, dataset.inferredTask) }
        guard let chosen = Task(rawValue: task) else {
            throw UsageError("--task must be classification or regression, got \(quoted(task))")
        }
        return (dataset, chosen)
    }
}

/// Which estimator, with which hyper-parameters.
struct ModelOptions: ParsableArguments {
    @Option(help: "The estimator: \(EstimatorRegistry.names.joined(separator: ", ")).")
    var model: String

    @Option(name: .customLong("set"), help: ArgumentHelp("A hyper-parameter, KEY=VALUE (scikit-learn's names).", valueName: "KEY=VALUE"))
    var assignments: [String] = []

    func spec(task: Task) throws -> ModelSpec {
        try ModelSpec(name: model, task: task, assignments: try parseAssignments(assignments))
    }
}

/// `--set KEY=VALUE` arguments as pairs.
/// - Throws: `UsageError` for an argument without `=` or with an empty key.
func parseAssignments(_ assignments: [String]) throws(UsageError) -> [(key: String, value: String)] {
    var pairs: [(key: String, value: String)] = []
    for assignment in assignments {
        guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
            throw UsageError("--set expects KEY=VALUE, got \(quoted(assignment))")
        }
        pairs.append((String(assignment[..<eq]), String(assignment[assignment.index(after: eq)...])))
    }
    return pairs
}

/// Output and progress switches.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON document on stdout.")
    var json = false

    @Flag(help: "No progress on stderr, even on a terminal.")
    var quiet = false

    @Flag(help: "Progress and logs on stderr even when it is not a terminal.")
    var verbose = false

    /// A progress line on stderr, only on a terminal (or with --verbose), never with --quiet.
    var progress: Progress { Progress(enabled: !quiet && (verbose || isatty(STDERR_FILENO) == 1)) }
}

/// Cross-validation splitting.
struct SplitOptions: ParsableArguments {
    @Option(help: "Number of folds (at least 2).")
    var folds: Int = 5

    @Option(help: "Seed of the shuffle (0 to 4294967295), as scikit-learn's random_state.")
    var seed: Int = 0

    @Option(help: "Fits at once, each on one core (default: the number of cores). The scores do not depend on it.")
    var jobs: Int = Parallelism.coreCount

    /// Checks every setting at parse time, so commands that split only sometimes (`train`
    /// without `--grid`) refuse a bad one too rather than ignore it.
    func validate() throws {
        _ = try checkedJobs()
        _ = try splitter(for: .regression)
    }

    /// `--jobs`, checked.
    func checkedJobs() throws -> Int {
        guard jobs >= 1 else { throw UsageError("--jobs must be at least 1, got \(jobs)") }
        return jobs
    }

    /// Shuffled k-fold splits; stratified for classification, as DESIGN.md's defaults.
    func splitter(for task: Task) throws -> any Splitter {
        guard let s = UInt32(exactly: seed) else { throw UsageError("--seed must be between 0 and 4294967295") }
        guard folds >= 2 else { throw UsageError("--folds must be at least 2, got \(folds)") }
        switch task {
        case .regression: return KFold(foldCount: folds, shuffle: true, seed: s)
        case .classification: return StratifiedKFold(foldCount: folds, shuffle: true, seed: s)
        }
    }
}

/// A one-line progress display on stderr that redraws itself.
struct Progress: Sendable {
    let enabled: Bool
    private let start = ContinuousClock.now

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ label: String, done: Int, total: Int) {
        guard enabled else { return }
        let width = 24
        let filled = total > 0 ? width * done / total : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let elapsed = (ContinuousClock.now - start).components.seconds
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total)  \(elapsed)s".utf8))
        if done == total { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// One `warning: ` line on stderr (always: a warning is not progress).
func warn(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}

/// Writes text to stdout.
func emit(_ text: String) {
    FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

/// Left- or right-aligned table columns. A left-aligned last column is not padded, so one wide
/// cell costs its own length, not its width times the number of rows.
func table(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
    guard let width = rows.map(\.count).max() else { return "" }
    var widths = [Int](repeating: 0, count: width)
    for row in rows { for (j, cell) in row.enumerated() { widths[j] = max(widths[j], cell.count) } }
    return rows.map { row in
        var line = ""
        for (j, cell) in row.enumerated() {
            if j > 0 { line += "  " }
            let pad = String(repeating: " ", count: widths[j] - cell.count)
            if rightAligned.contains(j) {
                line += pad + cell
            } else {
                line += cell
                if j < row.count - 1 { line += pad }
            }
        }
        return line
    }.joined(separator: "\n")
}

func fixed(_ v: Double, _ digits: Int = 4) -> String {
    v.isFinite ? String(format: "%.\(digits)f", v) : "nan"
}
