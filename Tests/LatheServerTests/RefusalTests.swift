import Foundation
import Hummingbird
import HummingbirdTesting
import Lathe
@testable import LatheServer
import TestSupport
import Testing

/// Bad requests get a 4xx and a JSON `{"error": ...}`, never a 500; limits, the token,
/// metrics and the access log.
@Suite struct RefusalTests {
    /// Asserts the status and a JSON error mentioning `fragment`.
    static func expectRefusal(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, body: String? = nil,
                              headers: HTTPFields = [:], status: HTTPResponse.Status, containing fragment: String,
                              sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let response = try await client.call(method, uri, body: body, headers: headers)
        #expect(response.status == status, "\(uri): \(response.text)", sourceLocation: sourceLocation)
        let message = response.json?.objectValue?["error"]?.stringValue
        #expect(message != nil && (fragment.isEmpty || message!.contains(fragment)), "\(uri): \(response.text)", sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
    }

    @Test func routesAndMethods() async throws {
        try await withService { client in
            try await Self.expectRefusal(client, .get, "/nope", status: .notFound, containing: "no such route")
            try await Self.expectRefusal(client, .get, "/v1/models/", status: .notFound, containing: "no such route")
            try await Self.expectRefusal(client, .get, "/v1/models/ghost", status: .notFound, containing: "no model named ghost")
            try await Self.expectRefusal(client, .post, "/v1/models/ghost:predict", body: "{}", status: .notFound, containing: "ghost")
            try await Self.expectRefusal(client, .post, "/v2/models/ghost/infer", body: "{}", status: .notFound, containing: "ghost")
            try await Self.expectRefusal(client, .get, "/v2/models/ghost/ready", status: .notFound, containing: "ghost")
            try await Self.expectRefusal(client, .get, "/v1/models/spam:predict", status: .methodNotAllowed, containing: "POST")
            try await Self.expectRefusal(client, .post, "/healthz", status: .methodNotAllowed, containing: "GET")
            try await Self.expectRefusal(client, .delete, "/v2/models/spam/infer", status: .methodNotAllowed, containing: "POST")
            let allow = try await client.call(.put, "/metrics").headers[.allow]
            #expect(allow == "GET")
        }
    }

    @Test func malformedV1Requests() async throws {
        try await withService { client in
            let spam = "/v1/models/spam:predict", iris = "/v1/models/iris:predict"
            for body in ["", "not json", "{\"instances\": [\"a\"", "[\"a\"]", "{}", "{\"instances\": \"a\"}", "\u{FF}\u{FE}"] {
                try await Self.expectRefusal(client, .post, spam, body: body, status: .badRequest, containing: "")
            }
            try await Self.expectRefusal(client, .post, spam, body: "{\"instances\": []}", status: .badRequest, containing: "no instances")
            try await Self.expectRefusal(client, .post, spam, body: "{\"instances\": [\"ok\", 3]}", status: .badRequest, containing: "instance 1: expected a string")
            try await Self.expectRefusal(client, .post, spam, body: "{\"instances\": [null]}", status: .badRequest, containing: "expected a string")
            try await Self.expectRefusal(client, .post, iris, body: "{\"instances\": [\"text\"]}", status: .badRequest, containing: "numeric features")
            try await Self.expectRefusal(client, .post, iris, body: "{\"instances\": [[1, 2, 3]]}", status: .badRequest, containing: "expected 4 features, got 3")
            try await Self.expectRefusal(client, .post, iris, body: "{\"instances\": [[1, 2, 3, \"4\"]]}", status: .badRequest, containing: "feature 3: expected a number")
            try await Self.expectRefusal(client, .post, iris, body: "{\"instances\": [[1, 2, 3, 1e999]]}", status: .badRequest, containing: "not a finite number")
            try await Self.expectRefusal(client, .post, iris, body: "{\"instances\": [[1, 2, 3, NaN]]}", status: .badRequest, containing: "not valid JSON")
            let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
            try await Self.expectRefusal(client, .post, spam, body: deep, status: .badRequest, containing: "not valid JSON")
        }
    }

    @Test func malformedV2Requests() async throws {
        @Sendable func infer(_ tensor: [String: JSONValue], extra: [String: JSONValue] = [:]) -> String {
            JSONValue.object(extra.merging(["inputs": .array([.object(tensor)])]) { a, _ in a }).jsonText
        }
        let text: [String: JSONValue] = ["name": .string("text"), "datatype": .string("BYTES"), "shape": .array([.integer(1)]), "data": .array([.string("hi")])]
        let features: [String: JSONValue] = ["name": .string("features"), "datatype": .string("FP64"), "shape": .array([.integer(1), .integer(4)]),
                                             "data": .array([1, 2, 3, 4].map { .integer($0) })]
        try await withService { client in
            let spam = "/v2/models/spam/infer", iris = "/v2/models/iris/infer"
            #expect(try await client.call(.post, spam, body: infer(text)).status == .ok)
            #expect(try await client.call(.post, iris, body: infer(features)).status == .ok)
            try await Self.expectRefusal(client, .post, spam, body: "{\"inputs\": []}", status: .badRequest, containing: "exactly one tensor")
            try await Self.expectRefusal(client, .post, spam, body: infer(text.merging(["name": .string("input0")]) { $1 }), status: .badRequest, containing: "named \"text\"")
            try await Self.expectRefusal(client, .post, spam, body: infer(text.merging(["datatype": .string("FP64")]) { $1 }), status: .badRequest, containing: "BYTES")
            try await Self.expectRefusal(client, .post, spam, body: infer(text.merging(["shape": .array([.integer(2)])]) { $1 }), status: .badRequest, containing: "1 values")
            try await Self.expectRefusal(client, .post, spam, body: infer(text.merging(["shape": .array([.integer(-1)])]) { $1 }), status: .badRequest, containing: "non-negative")
            try await Self.expectRefusal(client, .post, spam, body: infer(text.merging(["data": .array([.integer(1)])]) { $1 }), status: .badRequest, containing: "expected a string")
            try await Self.expectRefusal(client, .post, spam, body: infer(text, extra: ["id": .integer(3)]), status: .badRequest, containing: "\"id\"")
            try await Self.expectRefusal(client, .post, spam, body: infer(text, extra: ["outputs": .array([.object(["name": .string("logits")])])]),
                                         status: .badRequest, containing: "no output \"logits\"")
            try await Self.expectRefusal(client, .post, spam, body: infer(text.merging(["parameters": .object(["binary_data_size": .integer(8)])]) { $1 }),
                                         status: .badRequest, containing: "binary")
            try await Self.expectRefusal(client, .post, spam, body: infer(text), headers: [.inferenceHeaderContentLength: "10"],
                                         status: .badRequest, containing: "binary")
            try await Self.expectRefusal(client, .post, iris, body: infer(features.merging(["shape": .array([.integer(1), .integer(3)])]) { $1 }),
                                         status: .badRequest, containing: "[n, 4]")
            try await Self.expectRefusal(client, .post, iris, body: infer(features.merging(["datatype": .string("BYTES")]) { $1 }), status: .badRequest, containing: "FP64")
            try await Self.expectRefusal(client, .post, iris, body: infer(features.merging(["data": .array([1, 2, 3].map { .integer($0) })]) { $1 }),
                                         status: .badRequest, containing: "3 values")
            try await Self.expectRefusal(client, .post, iris, body: infer(features).replacingOccurrences(of: "[1,2,3,4]", with: "[1,2,3,-1e999]"),
                                         status: .badRequest, containing: "not a finite number")
            try await Self.expectRefusal(client, .post, iris, body: infer(features.merging(["data": .array([.array([.array([.integer(1)])])])]) { $1 }),
                                         status: .badRequest, containing: "nested")
        }
    }

    @Test func limits() async throws {
        let limits = RequestLimits(maxBodyBytes: 4096, maxInstances: 10)
        try await withService(limits: limits) { client in
            let big = instancesBody([.string(String(repeating: "spam ", count: 1000))])
            try await Self.expectRefusal(client, .post, "/v1/models/spam:predict", body: big, status: .contentTooLarge, containing: "over 4096 bytes")
            let many = instancesBody(Array(repeating: .string("hi"), count: 11))
            try await Self.expectRefusal(client, .post, "/v1/models/spam:predict", body: many, status: .contentTooLarge, containing: "11 instances")
            #expect(try await client.call(.post, "/v1/models/spam:predict", body: instancesBody(Array(repeating: .string("hi"), count: 10))).status == .ok)
            let rows = JSONValue.object(["inputs": .array([.object(["name": .string("text"), "datatype": .string("BYTES"), "shape": .array([.integer(11)]),
                                                                     "data": .array(Array(repeating: .string("hi"), count: 11))])])]).jsonText
            try await Self.expectRefusal(client, .post, "/v2/models/spam/infer", body: rows, status: .contentTooLarge, containing: "11 rows")
        }
    }

    @Test func bearerToken() async throws {
        try await withService(token: "s3cret-token") { client in
            #expect(try await client.call(.get, "/healthz").status == .ok)  // probes need no secret
            for uri in ["/readyz", "/metrics", "/v1/models", "/v2/health/ready", "/v2/models/spam"] {
                let missing = try await client.call(.get, uri)
                #expect(missing.status == .unauthorized, "\(uri)")
                #expect(missing.headers[.wwwAuthenticate] == "Bearer")
            }
            let body = instancesBody([.string("hi")])
            try await Self.expectRefusal(client, .post, "/v1/models/spam:predict", body: body, status: .unauthorized, containing: "bearer token")
            for wrong in ["Bearer s3cret-toke", "Bearer s3cret-token2", "Basic s3cret-token", "s3cret-token", "Bearer ", "Bearer"] {
                #expect(try await client.call(.post, "/v1/models/spam:predict", body: body, headers: [.authorization: wrong]).status == .unauthorized, "\(wrong)")
            }
            // Unknown models are not revealed to a client without the token.
            #expect(try await client.call(.get, "/v1/models/ghost").status == .unauthorized)
            #expect(try await client.call(.post, "/v1/models/spam:predict", body: body, headers: [.authorization: "Bearer s3cret-token"]).status == .ok)
            #expect(try await client.call(.get, "/v1/models", headers: [.authorization: "bearer s3cret-token"]).status == .ok)
        }
        #expect(throws: InputError.self) { try BearerToken("") }
        #expect(throws: InputError.self) { try BearerToken("two words") }
    }

    /// A file name that cannot be a path segment, or two files with one name, stop the server
    /// before it starts.
    @Test func modelNamesAreChecked() async throws {
        let folder = try makeTemporaryDirectory()
        let iris = try Dataset.load(repositoryRoot.appendingPathComponent("datasets/iris/iris.csv").path)
        let model = try await ModelSpec(name: "tree", task: .classification).fit(iris)
        for name in ["a b.lathe", "x%2F.lathe", "ok.lathe"] { try ModelFile.write(model, to: folder.appendingPathComponent(name).path) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("other"), withIntermediateDirectories: true)
        try ModelFile.write(model, to: folder.appendingPathComponent("other/ok.lathe").path)
        for paths in [["a b.lathe"], ["x%2F.lathe"], ["ok.lathe", "other/ok.lathe"]] {
            await #expect(throws: InputError.self, "\(paths)") { try await ModelTable(paths: paths.map { folder.appendingPathComponent($0).path }) }
        }
        #expect(try await ModelTable(paths: [folder.appendingPathComponent("ok.lathe").path]).names == ["ok"])
    }

    @Test func metricsCountRequestsAndPredictions() async throws {
        try await withService { client in
            try await client.call(.post, "/v1/models/spam:predict", body: instancesBody(sampleTexts.map { .string($0) }))
            try await client.call(.post, "/v1/models/spam:predict", body: "junk")
            try await client.call(.get, "/no/such/route/\(UUID())")
            let exposition = try await client.call(.get, "/metrics")
            #expect(exposition.status == .ok)
            #expect(exposition.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = exposition.text
            #expect(text.contains(#"lathe_http_requests_total{route="/v1/models/{name}:predict",status="200"} 1"#))
            #expect(text.contains(#"lathe_http_requests_total{route="/v1/models/{name}:predict",status="400"} 1"#))
            #expect(text.contains(#"lathe_http_requests_total{route="unmatched",status="404"} 1"#))
            #expect(text.contains(#"lathe_http_request_duration_seconds_count{route="/v1/models/{name}:predict"} 2"#))
            #expect(text.contains(#"lathe_http_request_duration_seconds_bucket{route="/v1/models/{name}:predict",le="+Inf"} 2"#))
            let models = try await ServedModels.shared.table()
            let labels = try await models.models["spam"]!.model.predict(.text(sampleTexts)).map(\.text)
            for label in Set(labels) {
                let count = labels.filter { $0 == label }.count
                #expect(text.contains("lathe_predictions_total{model=\"spam\",label=\"\(label)\"} \(count)"), "\(text)")
            }
            #expect(!text.contains("/no/such/route"))
        }
    }

    @Test(arguments: serviceModes)
    func accessLogHasOneLinePerRequestWithoutBodies(mode: TestingSetup) async throws {
        let log = CapturedLog()
        let secret = "the body is private 1234"
        try await withService(log: log, modes: [mode]) { client in
            try await client.call(.post, "/v1/models/spam:predict", body: instancesBody([.string(secret), .string("hi")]), headers: [.requestID: "trace-1"])
            try await client.call(.post, "/v1/models/iris:predict", body: "{\"instances\": [\"\(secret)\"]}")
            try await client.call(.get, "/healthz")
        }
        let lines = log.entries.filter { $0["message"] == .string("request") }
        #expect(lines.count == 3)
        #expect(lines[0]["request_id"] == .string("trace-1"))
        #expect(lines[0]["status"] == .string("200"))
        #expect(lines[0]["model"] == .string("spam"))
        #expect(lines[0]["instances"] == .string("2"))
        #expect(lines[0]["route"] == .string("/v1/models/{name}:predict"))
        #expect(Double(lines[0]["latency_ms"]?.stringValue ?? "") != nil)
        #expect(lines[1]["status"] == .string("400") && lines[1]["model"] == .string("iris"))
        #expect(lines[2]["model"] == nil)
        #expect(!log.entries.map { JSONValue.object($0).jsonText }.joined().contains("private"))
    }

    @Test func jsonLogLinesAreJSON() throws {
        // The handler `lathe serve` uses, writing to a pipe.
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let sink = LineSink(fileDescriptor: fds[1])
        var handler = JSONLogHandler(sink: sink)
        handler.logLevel = .info
        handler.log(event: .init(level: .info, message: "request", metadata: ["status": .stringConvertible(404), "latency_ms": .stringConvertible(0.25),
                                                                               "route": .string("/v2/models/{name}/infer"),
                                                                               "tags": .array([.string("a\"b"), .stringConvertible(true)]),
                                                                               "extra": .dictionary(["b": .stringConvertible(2), "a": .string("x")])],
                                 source: nil, file: #fileID, function: #function, line: #line))
        sink.flush()
        close(fds[1])
        let text = String(decoding: FileHandle(fileDescriptor: fds[0]).readDataToEndOfFile(), as: UTF8.self)
        #expect(text.hasSuffix("\n") && text.split(separator: "\n").count == 1)
        let line = try #require(try JSONValue.parse(Data(text.utf8)).objectValue)
        #expect(line["status"] == .integer(404))
        #expect(line["latency_ms"] == .number(0.25))
        #expect(line["message"] == .string("request"))
        #expect(line["tags"] == .array([.string("a\"b"), .bool(true)]))
        #expect(line["extra"] == .object(["a": .string("x"), "b": .integer(2)]))
        #expect(line["time"]?.stringValue?.hasSuffix("Z") == true)
    }
}
