import Foundation
@testable import Lathe
import Linalg
import TestSupport
import Testing

@Suite struct TreeParityTests {
    struct Toy: Decodable {
        var task: String
        var params: [String: String]
        var feature: [Int]
        var threshold: [Double]
        var left: [Int]
        var right: [Int]
        var value: [[Double]]
        var impurity: [Double]
        var n_node_samples: [Int]
        var feature_importances: [Double]
    }
    struct File: Decodable {
        var x: [[Double]]
        var y_class: [Int]
        var y_value: [Double]
        var toys: [Toy]
        var cv_accuracy: [String: Double]
        var diabetes_r2: [String: Double]
        var sms_spam_tree: SparseTree
    }
    struct SparseTree: Decodable { var node_count: Int; var depth: Int; var feature: [Int]; var threshold: [Double] }

    /// Tie-free toy data, depth- and leaf-limited trees of both kinds and every criterion:
    /// the same nodes as scikit-learn's, in the same order, with the same thresholds, values,
    /// impurities and sample counts, and the same feature importances.
    @Test func toyTreesEqualScikitLearnsNodeForNode() throws {
        let file = try loadFixture("tree.json", as: File.self)
        #expect(file.toys.count == 8)
        let x = FeatureMatrix.dense(try Matrix(rows: file.x))
        for toy in file.toys {
            let assignments = toy.params.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
            let tree: TreeStructure, importances: [Double]
            if toy.task == "classification" {
                let model = try DecisionTreeClassifier(parameters: try Parameters(
                    specs: DecisionTreeClassifier.parameterSpecs, assignments: assignments, estimator: "tree"))
                    .fit(x, file.y_class, classCount: 3)
                (tree, importances) = (model.tree, model.featureImportances)
            } else {
                let model = try DecisionTreeRegressor(parameters: try Parameters(
                    specs: DecisionTreeRegressor.parameterSpecs, assignments: assignments, estimator: "tree"))
                    .fit(x, file.y_value)
                (tree, importances) = (model.tree, model.featureImportances)
            }
            let label = "\(toy.task) \(toy.params)"
            #expect(tree.feature == toy.feature, "\(label)")
            #expect(tree.left == toy.left, "\(label)")
            #expect(tree.right == toy.right, "\(label)")
            #expect(tree.sampleCount == toy.n_node_samples, "\(label)")
            guard tree.nodeCount == toy.feature.count else { continue }
            #expect(maxAbsoluteDifference(tree.threshold, toy.threshold) < 1e-12, "\(label)")
            #expect(maxAbsoluteDifference(tree.value, toy.value.flatMap { $0 }) < 1e-12, "\(label)")
            #expect(maxAbsoluteDifference(tree.impurity, toy.impurity) < 1e-9, "\(label)")
            #expect(maxAbsoluteDifference(importances, toy.feature_importances) < 1e-9, "\(label)")
        }
    }

    /// The issue's bar: 5-fold stratified CV (seed 0) of `DecisionTreeClassifier(random_state=0)`
    /// within 2 pp of scikit-learn's on iris, wine, breast_cancer and digits, and on sparse
    /// TF-IDF sms_spam (vectorizer fitted per fold). The feature sampling replays scikit-learn's
    /// random stream, so the folds come out the same.
    @Test(arguments: ["iris", "wine", "breast_cancer", "digits", "sms_spam"])
    func crossValidatedAccuracyMatchesScikitLearn(_ name: String) async throws {
        let expected = try #require(try loadFixture("tree.json", as: File.self).cv_accuracy[name])
        let dataset = try Dataset.load(name)
        let spec = try ModelSpec(name: "tree", task: .classification, assignments: [])
        let report = try await CrossValidation.run(spec, on: dataset, splitter: StratifiedKFold(foldCount: 5, shuffle: true, seed: 0))
        #expect(abs(report.mean("accuracy") - expected) < 0.02, "\(name): \(report.mean("accuracy")) vs \(expected)")
    }

    /// Sparse input end to end: the tree grown on TF-IDF sms_spam (8,713 sparse columns, every
    /// row) is scikit-learn's, split for split.
    @Test func sparseTextTreeEqualsScikitLearns() async throws {
        let expected = try loadFixture("tree.json", as: File.self).sms_spam_tree
        let (x, y, classes) = try await classificationData("sms_spam", standardize: false)
        guard case .sparse = x else { Issue.record("text features should be sparse"); return }
        let model = try DecisionTreeClassifier().fit(x, y, classes: classes)
        #expect(model.tree.nodeCount == expected.node_count)
        #expect(model.tree.depth == expected.depth)
        #expect(model.tree.feature == expected.feature)
        if model.tree.nodeCount == expected.node_count {
            #expect(maxAbsoluteDifference(model.tree.threshold, expected.threshold) < 1e-6)
        }
    }

    /// `DecisionTreeRegressor(random_state=0)` on diabetes, 5-fold CV r2 within 0.05.
    @Test(arguments: ["squared_error", "absolute_error"])
    func regressionMatchesScikitLearn(_ criterion: String) async throws {
        let expected = try #require(try loadFixture("tree.json", as: File.self).diabetes_r2[criterion])
        let dataset = try Dataset.load("diabetes")
        let spec = try ModelSpec(name: "tree", task: .regression, assignments: [("criterion", criterion)])
        let report = try await CrossValidation.run(spec, on: dataset, splitter: KFold(foldCount: 5, shuffle: true, seed: 0))
        #expect(abs(report.mean("r2") - expected) < 0.05, "\(criterion): \(report.mean("r2")) vs \(expected)")
    }
}

@Suite struct TreeBehaviourTests {
    /// The same data as CSR grows the same tree as dense: node for node for classification
    /// (every criterion, best-first growth, sampled features), the same partition for
    /// regression. Zeros (a third of the entries) form one block between negative and positive
    /// values.
    @Test func sparseInputGrowsTheDenseTree() throws {
        let file = try loadFixture("tree.json", as: TreeParityTests.File.self)
        let rows = file.x.map { $0.map { abs($0) < 0.7 ? 0 : $0 } }
        let dense = try Matrix(rows: rows)
        let sparse = FeatureMatrix.sparse(SparseMatrix(dense))
        let settings: [[(key: String, value: String)]] = [
            [], [("criterion", "entropy")], [("max_leaf_nodes", "6")], [("max_features", "sqrt"), ("random_state", "3")],
            [("min_samples_leaf", "4")],
        ]
        for assignments in settings {
            let classifier = try DecisionTreeClassifier(parameters: try Parameters(
                specs: DecisionTreeClassifier.parameterSpecs, assignments: assignments, estimator: "tree"))
            let fromDense = try classifier.fit(.dense(dense), file.y_class, classCount: 3)
            let fromSparse = try classifier.fit(sparse, file.y_class, classCount: 3)
            #expect(fromDense.tree.nodeCount > 5)
            #expect(fromSparse == fromDense, "\(assignments)")
            #expect(try fromSparse.predictClasses(sparse) == fromDense.predictClasses(.dense(dense)))
        }
        for criterion in ["squared_error", "absolute_error"] {
            let regressor = DecisionTreeRegressor(criterion: criterion, growth: TreeGrowth(maxDepth: 6))
            let fromDense = try regressor.fit(.dense(dense), file.y_value)
            let fromSparse = try regressor.fit(sparse, file.y_value)
            // Sums over the samples run in another order, so an exact tie between two splits of
            // the same samples (one sample off, to either side) may break the other way; the fit
            // is the same.
            #expect(fromDense.tree.nodeCount > 20)
            #expect(fromSparse.tree.nodeCount == fromDense.tree.nodeCount, "\(criterion)")
            #expect(maxAbsoluteDifference(try fromSparse.predict(sparse), try fromDense.predict(.dense(dense))) < 1e-12, "\(criterion)")
        }
    }

    @Test func constantFeaturesGiveALeaf() throws {
        let x = FeatureMatrix.dense(try Matrix(rows: [[1, 5], [1, 5], [1, 5], [1, 5]]))
        let model = try DecisionTreeClassifier().fit(x, [0, 1, 1, 1], classCount: 2)
        #expect(model.tree.nodeCount == 1)
        #expect(try model.predictClasses(x) == [1, 1, 1, 1])
        #expect(model.featureImportances == [0, 0])
        let regression = try DecisionTreeRegressor().fit(x, [1, 2, 3, 4])
        #expect(try regression.predict(x) == [2.5, 2.5, 2.5, 2.5])
    }

    @Test func oneSamplePerClassIsLearnt() throws {
        let x = FeatureMatrix.dense(try Matrix(rows: [[0.0], [1], [2]]))
        let model = try DecisionTreeClassifier().fit(x, [0, 1, 2], classCount: 3)
        #expect(try model.predictClasses(x) == [0, 1, 2])
        #expect(model.tree.leafCount == 3)
    }

    @Test func badSettingsAndDataAreErrors() throws {
        for bad in ["0", "-1", "1.5"] {
            #expect(throws: UsageError.self) { try ModelSpec(name: "tree", task: .classification, assignments: [("max_depth", bad)]) }
        }
        #expect(throws: UsageError.self) { try ModelSpec(name: "tree", task: .classification, assignments: [("min_samples_leaf", "0")]) }
        #expect(throws: UsageError.self) { try ModelSpec(name: "tree", task: .classification, assignments: [("max_features", "2.0.1")]) }
        #expect(throws: UsageError.self) { try ModelSpec(name: "tree", task: .regression, assignments: [("criterion", "gini")]) }
        let x = FeatureMatrix.dense(try Matrix(rows: [[0.0, 1], [1, .nan]]))
        #expect(throws: FitError.nonFiniteFeatures) { try DecisionTreeClassifier().fit(x, [0, 1], classCount: 2) }
        let huge = FeatureMatrix.dense(try Matrix(rows: [[0.0], [1e300]]))
        #expect(throws: FitError.self) { try DecisionTreeRegressor().fit(huge, [0, 1]) }
        let small = FeatureMatrix.dense(try Matrix(rows: [[0.0], [1]]))
        #expect(throws: FitError.self) { try DecisionTreeClassifier(growth: TreeGrowth(maxFeatures: .int(3))).fit(small, [0, 1], classCount: 2) }
        #expect(throws: FitError.self) { try DecisionTreeClassifier().fit(small, [1, 1], classCount: 2) }
    }

    /// Depth, leaf and sampling limits hold; the same seed gives the same tree.
    @Test func limitsHoldAndSeedsRepeat() async throws {
        let (x, y, classes) = try await classificationData("digits", standardize: false)
        let shallow = try DecisionTreeClassifier(growth: TreeGrowth(maxDepth: 3)).fit(x, y, classes: classes)
        #expect(shallow.tree.depth == 3)
        let leaves = try DecisionTreeClassifier(growth: TreeGrowth(maxLeafNodes: 10)).fit(x, y, classes: classes)
        #expect(leaves.tree.leafCount == 10)
        let sampled = TreeGrowth(maxFeatures: .string("sqrt"), randomState: 7)
        let a = try DecisionTreeClassifier(growth: sampled).fit(x, y, classes: classes)
        let b = try DecisionTreeClassifier(growth: sampled).fit(x, y, classes: classes)
        #expect(a == b)
        #expect(abs(a.featureImportances.reduce(0, +) - 1) < 1e-12)
        let p = try #require(try a.probabilities(x))
        for i in 0..<p.rowCount { #expect(abs((0..<p.columnCount).reduce(0) { $0 + p[i, $1] } - 1) < 1e-12) }
    }

    /// A fitted tree survives its tensors, and a tampered node array is an error, not a hang.
    @Test func tensorsRoundTripAndHostileArraysAreRejected() async throws {
        let (x, y, classes) = try await classificationData("iris", standardize: false)
        let model = try DecisionTreeClassifier().fit(x, y, classes: classes)
        let tensors = model.tensors()
        let back = try FittedDecisionTreeClassifier(tensors: tensors, parameters: model.estimator.parameters,
                                                    classCount: 3, location: "m")
        #expect(back.tree == model.tree)
        #expect(try back.predictClasses(x) == (try model.predictClasses(x)))
        func tampered(_ name: String, _ change: (inout [Int64]) -> Void) -> [String: Tensor] {
            var copy = tensors
            var v = copy[name]!.int64s!
            change(&v)
            copy[name] = Tensor(v, shape: [v.count])
            return copy
        }
        let hostile = [
            tampered("tree.left") { $0[0] = 0 },           // a cycle to itself
            tampered("tree.right") { $0[0] = Int64($0.count) },  // beyond the arrays
            tampered("tree.feature") { $0[0] = 99 },         // no such feature
            tampered("tree.left") { $0[0] = $0[0] + 1 },     // a node with two parents
        ]
        for t in hostile {
            #expect(throws: InputError.self) {
                try FittedDecisionTreeClassifier(tensors: t, parameters: model.estimator.parameters, classCount: 3, location: "m")
            }
        }
    }
}
