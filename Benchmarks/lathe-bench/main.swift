// The Swift half of the benchmark runner (`Benchmarks/run.py` drives it and times scikit-learn
// on the same inputs in the same run). Each mode prints one JSON object per measurement on
// stdout: {"name": ..., "seconds": best wall time over the repeats, ...}.
import Foundation
import Lathe
import Linalg

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("lathe-bench: \(message)\n".utf8))
    exit(2)
}

func readDoubles(_ path: String, count: Int) -> [Double] {
    guard let data = FileManager.default.contents(atPath: path), data.count == count * 8 else {
        fail("\(path): expected \(count) little-endian float64 values")
    }
    return data.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) } }
}

/// Best wall time of `repeats` runs of `body`, in seconds.
func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    var fastest = Double.infinity
    for _ in 0..<max(1, repeats) {
        let d = try clock.measure(body)
        fastest = min(fastest, Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
    }
    return fastest
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

/// This process's peak resident memory (VmHWM from /proc/self/status), in MiB.
func peakMemoryMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM") }),
          let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return .nan }
    return kib / 1024
}

/// `KEY=VALUE` arguments as pairs (the CLI's parser lives in the executable).
func keyValues(_ items: ArraySlice<String>) -> [(key: String, value: String)] {
    items.map { item in
        let parts = item.split(separator: "=", maxSplits: 1)
        return (String(parts[0]), String(parts.count > 1 ? parts[1] : ""))
    }
}

func report(_ fields: [String: JSONValue]) {
    print(JSONValue.object(fields).jsonText)
}

let arguments = CommandLine.arguments.dropFirst()
guard let mode = arguments.first else { fail("usage: lathe-bench linear|gemm ...") }
let rest = Array(arguments.dropFirst())

do {
    switch mode {
    case "linear":
        // linear X.f64 y.f64 ROWS COLS REPEATS
        guard rest.count == 5, let rows = Int(rest[2]), let cols = Int(rest[3]), let repeats = Int(rest[4]) else {
            fail("usage: lathe-bench linear X.f64 y.f64 ROWS COLS REPEATS")
        }
        let x = try Matrix(rowCount: rows, columnCount: cols, elements: readDoubles(rest[0], count: rows * cols))
        let y = readDoubles(rest[1], count: rows)
        var checksum = 0.0
        let ols = try best(repeats) { checksum = try LinearRegression().fit(x, y).coefficients.weights[0] }
        report(["name": .string("linreg fit"), "seconds": .number(ols), "coef0": .number(checksum)])
        let ridge = try best(repeats) { checksum = try Ridge(alpha: 1).fit(x, y).coefficients.weights[0] }
        report(["name": .string("ridge fit"), "seconds": .number(ridge), "coef0": .number(checksum)])
    case "tfidf":
        // tfidf TRAIN TEST REPEATS: TfidfVectorizer() fit_transform on TRAIN, transform on TEST.
        guard rest.count == 3, let repeats = Int(rest[2]) else { fail("usage: lathe-bench tfidf TRAIN TEST REPEATS") }
        guard case let .text(train) = try Dataset.load(rest[0]).features,
              case let .text(test) = try Dataset.load(rest[1]).features else { fail("tfidf needs text data") }
        let clock = ContinuousClock()
        var fastestFit = Double.infinity, fastestTransform = Double.infinity
        var shape = [0, 0], stored = 0
        for _ in 0..<max(1, repeats) {
            let start = clock.now
            let (fitted, x) = try await TfidfVectorizer().fitTransform(train)
            let fitDone = clock.now
            let y = try await fitted.transform(test)
            let end = clock.now
            fastestFit = min(fastestFit, seconds(fitDone - start))
            fastestTransform = min(fastestTransform, seconds(end - fitDone))
            shape = x.shape
            stored = x.storedCount + y.storedCount
        }
        report(["name": .string("tfidf fit_transform"), "seconds": .number(fastestFit),
                "shape": .array(shape.map { .integer(Int64($0)) }), "stored": .integer(Int64(stored))])
        report(["name": .string("tfidf transform"), "seconds": .number(fastestTransform)])
        report(["name": .string("peak memory"), "mib": .number(peakMemoryMiB())])
    case "classify":
        // classify TRAIN TEST MODEL [KEY=VALUE ...]: TF-IDF on TRAIN, fit MODEL, accuracy on TEST.
        guard rest.count >= 3 else { fail("usage: lathe-bench classify TRAIN TEST MODEL [KEY=VALUE ...]") }
        let train = try Dataset.load(rest[0]), test = try Dataset.load(rest[1])
        guard case let .text(trainText) = train.features, case let .text(testText) = test.features else { fail("needs text data") }
        let (vectorizer, x) = try await TfidfVectorizer().fitTransform(trainText)
        let xTest = try await vectorizer.transform(testText)
        let classes = train.classes
        let y = train.targets.map { classes.firstIndex(of: $0)! }
        let assignments = keyValues(rest.dropFirst(3))
        let spec = try ModelSpec(name: rest[2], task: .classification, assignments: assignments)
        let clock = ContinuousClock()
        let start = clock.now
        let fitted = try spec.fitEstimator(.sparse(x), .classes(y, classes: classes))
        let fitSeconds = seconds(clock.now - start)
        guard case let .classifier(model, _) = fitted else { fail("not a classifier") }
        let predicted = try model.predictClasses(.sparse(xTest))
        let correct = zip(predicted, test.targets).filter { classes[$0] == $1 }.count
        report(["name": .string("\(rest[2]) fit"), "seconds": .number(fitSeconds),
                "accuracy": .number(Double(correct) / Double(predicted.count)), "converged": model.converged.map { .bool($0) } ?? .null,
                "n_iter": (model as? FittedLogisticRegression).map { .integer(Int64($0.iterations)) } ?? .null])
    case "tree":
        // tree X.f64 y.f64 ROWS COLS REPEATS: DecisionTreeClassifier fit (defaults), training accuracy.
        guard rest.count == 5, let rows = Int(rest[2]), let cols = Int(rest[3]), let repeats = Int(rest[4]) else {
            fail("usage: lathe-bench tree X.f64 y.f64 ROWS COLS REPEATS")
        }
        let x = FeatureMatrix.dense(try Matrix(rowCount: rows, columnCount: cols, elements: readDoubles(rest[0], count: rows * cols)))
        let y = readDoubles(rest[1], count: rows).map { Int($0) }
        let classCount = (y.max() ?? 0) + 1
        var fitted: FittedDecisionTreeClassifier?
        let fit = try best(repeats) { fitted = try DecisionTreeClassifier().fit(x, y, classCount: classCount) }
        let nodes = fitted!.tree.nodeCount
        report(["name": .string("tree fit"), "seconds": .number(fit), "nodes": .integer(Int64(nodes)),
                "depth": .integer(Int64(fitted!.tree.depth))])
    case "mlp":
        // mlp DATASET [KEY=VALUE ...]: 5-fold stratified CV (seed 0) of `mlp` through the usual
        // pipeline; fit seconds, epochs and test accuracy summed over the folds.
        guard rest.count >= 1 else { fail("usage: lathe-bench mlp DATASET [KEY=VALUE ...]") }
        let dataset = try Dataset.load(rest[0])
        let assignments = keyValues(rest.dropFirst())
        let spec = try ModelSpec(name: "mlp", task: .classification, assignments: assignments)
        let classes = dataset.classes
        let labels = dataset.targets.map { classes.firstIndex(of: $0)! }
        let clock = ContinuousClock()
        var fitSeconds = 0.0, epochs = 0, correct = 0
        for split in try StratifiedKFold(foldCount: 5, shuffle: true, seed: 0).splits(rowCount: dataset.rowCount, labels: labels) {
            let start = clock.now
            let model = try await spec.fit(dataset, rows: split.train)
            fitSeconds += seconds(clock.now - start)
            guard case let .classifier(c, _) = model.fitted, let mlp = c as? FittedMLPClassifier else { fail("not an MLP") }
            epochs += mlp.epochs
            let predicted = try await model.classify(dataset.rows(split.test).features, classes: classes).predicted
            correct += zip(predicted, split.test).filter { $0 == labels[$1] }.count
        }
        report(["name": .string("mlp cv"), "seconds": .number(fitSeconds), "epochs": .integer(Int64(epochs)),
                "accuracy": .number(Double(correct) / Double(dataset.rowCount))])
    case "gemm":
        // gemm N REPEATS: the BLAS ceiling the linear fits are measured against.
        guard rest.count == 2, let n = Int(rest[0]), let repeats = Int(rest[1]) else { fail("usage: lathe-bench gemm N REPEATS") }
        var generator = SystemRandomNumberGenerator()
        let a = try Matrix(rowCount: n, columnCount: n, elements: (0..<(n * n)).map { _ in Double.random(in: -1...1, using: &generator) })
        let seconds = try best(repeats) { _ = try Matrix.gemm(a, a) }
        report(["name": .string("dgemm \(n)"), "seconds": .number(seconds), "gflops": .number(2 * pow(Double(n), 3) / seconds / 1e9)])
    default:
        fail("unknown mode \(mode)")
    }
} catch {
    fail("\(error)")
}
