import Foundation
import Hummingbird
import HummingbirdTesting
import Lathe
@testable import LatheServer
import Linalg
import TestSupport
import Testing

/// Every route of DESIGN.md's HTTP service, in process: shapes, and predictions equal to the
/// library's (which `lathe predict` prints).
@Suite struct RouteTests {
    @Test func probesAnswer() async throws {
        try await withService { client in
            #expect(try await client.call(.get, "/healthz").json == .object(["status": .string("ok")]))
            let ready = try await client.call(.get, "/readyz")
            #expect(ready.status == .ok)
            #expect(ready.json?.objectValue?["models"] == .array(["spam", "spamsvm", "iris", "diabetes"].map { .string($0) }))
            #expect(try await client.call(.get, "/v2/health/live").json == .object(["live": .bool(true)]))
            #expect(try await client.call(.get, "/v2/health/ready").json == .object(["ready": .bool(true)]))
            #expect(try await client.call(.get, "/v2").json?.objectValue?["name"] == .string("lathe"))
            #expect(try await client.call(.get, "/v2/models/iris/ready").json == .object(["name": .string("iris"), "ready": .bool(true)]))
        }
    }

    @Test func modelListAndMetadata() async throws {
        try await withService { client in
            let list = try #require(try await client.call(.get, "/v1/models").json?.objectValue?["models"]?.arrayValue)
            #expect(list.compactMap { $0.objectValue?["name"] } == ["spam", "spamsvm", "iris", "diabetes"].map { .string($0) })
            let spam = try #require(list[0].objectValue)
            #expect(spam["input"] == .string("text"))
            #expect(spam["classes"] == .array([.string("ham"), .string("spam")]))

            let iris = try #require(try await client.call(.get, "/v1/models/iris").json?.objectValue)
            #expect(iris["estimator"] == .string("logreg"))
            #expect(iris["features"]?.arrayValue?.count == 4)
            let metadata = try #require(iris["metadata"]?.objectValue)
            #expect(metadata["format"] == .string("lathe-model"))
            #expect(metadata["params"]?.objectValue?["max_iter"] == .integer(1000))

            // Open Inference Protocol metadata: tensors with -1 for the batch dimension.
            let v2 = try #require(try await client.call(.get, "/v2/models/spam").json?.objectValue)
            #expect(v2["inputs"] == .array([.object(["name": .string("text"), "datatype": .string("BYTES"), "shape": .array([.integer(-1)])])]))
            #expect(v2["outputs"] == .array([
                .object(["name": .string("label"), "datatype": .string("BYTES"), "shape": .array([.integer(-1)])]),
                .object(["name": .string("probabilities"), "datatype": .string("FP64"), "shape": .array([.integer(-1), .integer(2)])]),
            ]))
            let svm = try #require(try await client.call(.get, "/v2/models/spamsvm").json?.objectValue)
            #expect(svm["outputs"]?.arrayValue?.last?.objectValue?["name"] == .string("decision"))
            #expect(svm["outputs"]?.arrayValue?.last?.objectValue?["shape"] == .array([.integer(-1), .integer(1)]))
            let diabetes = try #require(try await client.call(.get, "/v2/models/diabetes").json?.objectValue)
            #expect(diabetes["inputs"]?.arrayValue?.first?.objectValue?["shape"] == .array([.integer(-1), .integer(10)]))
            #expect(diabetes["outputs"]?.arrayValue?.count == 1)
        }
    }

    @Test func v1PredictionsEqualTheLibrarys() async throws {
        let models = try await ServedModels.shared.table()
        let expectedText = try await models.models["spam"]!.model.predict(.text(sampleTexts)).map(\.json)
        let expectedSVM = try await models.models["spamsvm"]!.model.predict(.text(sampleTexts)).map(\.json)
        let rows: [[Double]] = [[5.1, 3.5, 1.4, 0.2], [6.0, 3.0, 5.0, 2.0], [5.9, 3.0, 4.2, 1.5]]
        let irisInput = Dataset.Features.numeric(try Matrix(rowCount: 3, columnCount: 4, elements: rows.flatMap { $0 }), names: [])
        let expectedIris = try await models.models["iris"]!.model.predict(irisInput).map(\.json)
        try await withService { client in
            let texts = instancesBody(sampleTexts.map { .string($0) })
            let spam = try await client.call(.post, "/v1/models/spam:predict", body: texts)
            #expect(spam.status == .ok)
            #expect(spam.json == .object(["predictions": .array(expectedText)]))
            #expect(try await client.call(.post, "/v1/models/spamsvm:predict", body: texts).json == .object(["predictions": .array(expectedSVM)]))
            // Integers are numbers too.
            let numbers = instancesBody(rows.map { .array($0.map { $0 == $0.rounded() ? .integer(Int64($0)) : .number($0) }) })
            #expect(try await client.call(.post, "/v1/models/iris:predict", body: numbers).json == .object(["predictions": .array(expectedIris)]))
            let value = try await client.call(.post, "/v1/models/diabetes:predict", body: instancesBody([.array(Array(repeating: .number(0.01), count: 10))]))
            #expect(value.json?.objectValue?["predictions"]?.arrayValue?.first?.objectValue?["value"]?.doubleValue != nil)
        }
    }

    @Test func v2InferenceEqualsTheLibrary() async throws {
        let models = try await ServedModels.shared.table()
        let expected = try await models.models["spam"]!.model.predict(.text(sampleTexts))
        try await withService { client in
            let request = JSONValue.object([
                "id": .string("req-7"),
                "inputs": .array([.object(["name": .string("text"), "datatype": .string("BYTES"),
                                           "shape": .array([.integer(Int64(sampleTexts.count))]),
                                           "data": .array(sampleTexts.map { .string($0) })])]),
            ]).jsonText
            let response = try #require(try await client.call(.post, "/v2/models/spam/infer", body: request).json?.objectValue)
            #expect(response["id"] == .string("req-7"))
            #expect(response["model_name"] == .string("spam"))
            let outputs = try #require(response["outputs"]?.arrayValue).compactMap(\.objectValue)
            #expect(outputs.map { $0["name"] } == [.string("label"), .string("probabilities")])
            #expect(outputs[0]["data"] == .array(expected.map { .string($0.text) }))
            #expect(outputs[1]["shape"] == .array([.integer(Int64(sampleTexts.count)), .integer(2)]))
            let probabilities = expected.flatMap { prediction -> [JSONValue] in
                guard case let .label(_, p?, _) = prediction else { return [] }
                return [.number(p["ham"]!), .number(p["spam"]!)]
            }
            #expect(outputs[1]["data"] == .array(probabilities))

            // Numeric input, nested one list per row, and only the output asked for.
            let numeric = JSONValue.object([
                "inputs": .array([.object(["name": .string("features"), "datatype": .string("FP64"), "shape": .array([.integer(2), .integer(4)]),
                                           "data": .array([.array([5.1, 3.5, 1.4, 0.2].map { .number($0) }), .array([6.0, 3.0, 5.0, 2.0].map { .number($0) })])])]),
                "outputs": .array([.object(["name": .string("label"), "parameters": .object(["binary_data": .bool(false)])])]),
            ]).jsonText
            let iris = try #require(try await client.call(.post, "/v2/models/iris/infer", body: numeric).json?.objectValue)
            #expect(iris["outputs"] == .array([.object(["name": .string("label"), "datatype": .string("BYTES"), "shape": .array([.integer(2)]),
                                                          "data": .array([.string("setosa"), .string("virginica")])])]))

            // A regressor answers `value`, [n, 1], with no label.
            let flat = JSONValue.object(["inputs": .array([.object(["name": .string("features"), "datatype": .string("FP32"),
                                                                       "shape": .array([.integer(1), .integer(10)]),
                                                                       "data": .array(Array(repeating: .integer(0), count: 10))])])]).jsonText
            let diabetes = try #require(try await client.call(.post, "/v2/models/diabetes/infer", body: flat).json?.objectValue)
            let value = try #require(diabetes["outputs"]?.arrayValue?.first?.objectValue)
            #expect(value["name"] == .string("value"))
            #expect(value["shape"] == .array([.integer(1), .integer(1)]))
        }
    }

    @Test func requestIDsAreEchoedOrMade() async throws {
        try await withService { client in
            let given = try await client.call(.get, "/healthz", headers: [.requestID: "abc-123"])
            #expect(given.headers[.requestID] == "abc-123")
            let hostile = try await client.call(.get, "/healthz", headers: [.requestID: "a b\u{7F}c"])
            #expect(hostile.headers[.requestID] != nil && hostile.headers[.requestID] != "a b\u{7F}c")
            let first = try await client.call(.get, "/healthz").headers[.requestID]
            let second = try await client.call(.get, "/healthz").headers[.requestID]
            #expect(first != nil && first != second)
        }
    }
}
