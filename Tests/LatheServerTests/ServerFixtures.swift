import Foundation
import Hummingbird
import HummingbirdTesting
import Lathe
@testable import LatheServer
import Logging
import Synchronization
import TestSupport
import Testing

/// Models trained once per test run and written to model files, so the suites exercise the
/// same loading path as `lathe serve`: a text classifier with probabilities (`spam`), one with
/// decision values (`spamsvm`), a numeric classifier (`iris`) and a regressor (`diabetes`).
actor ServedModels {
    static let shared = ServedModels()
    private var table: ModelTable?

    func table() async throws -> ModelTable {
        if let table { return table }
        let folder = try makeTemporaryDirectory()
        func dataset(_ path: String) throws -> Dataset {
            try Dataset.load(repositoryRoot.appendingPathComponent("datasets/\(path)").path)
        }
        let spam = try dataset("sms_spam/sms_spam.tsv")
        let rows = Array(0..<1200)  // enough for both classes and a real vocabulary, quick in debug builds
        let specs: [(String, ModelSpec, Dataset, [Int]?)] = [
            ("spam", try ModelSpec(name: "logreg", task: .classification), spam, rows),
            ("spamsvm", try ModelSpec(name: "svm", task: .classification), spam, rows),
            ("iris", try ModelSpec(name: "logreg", task: .classification, assignments: [("max_iter", "1000")]), try dataset("iris/iris.csv"), nil),
            ("diabetes", try ModelSpec(name: "ridge", task: .regression), try dataset("diabetes/diabetes.csv"), nil),
        ]
        var paths: [String] = []
        for (name, spec, data, rows) in specs {
            let path = folder.appendingPathComponent("\(name).lathe").path
            try ModelFile.write(try await spec.fit(data, rows: rows), to: path)
            paths.append(path)
        }
        let loaded = try await ModelTable(paths: paths)
        table = loaded
        return loaded
    }
}

/// Access-log lines captured in memory, parsed from what `JSONLogHandler` would write.
final class CapturedLog: Sendable {
    private let lines = Mutex<[[String: JSONValue]]>([])

    var entries: [[String: JSONValue]] { lines.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in CapturingHandler(log: self) }
    }

    func append(_ entry: [String: JSONValue]) { lines.withLock { $0.append(entry) } }

    private struct CapturingHandler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var entry: [String: JSONValue] = ["message": .string(event.message.description)]
            for (key, value) in event.metadata ?? [:] { entry[key] = .string(value.description) }
            log.append(entry)
        }
    }
}

/// How a test reaches the service: `.router` calls the Hummingbird responder in process;
/// `.live` starts the server on a loopback port, so requests go through `PredictionChannel`
/// (the HTTP/1.1 pipeline and handler `lathe serve` runs).
let serviceModes: [TestingSetup] = [.router, .live]

/// Runs `body` against the service once per mode in `modes`, each time a new service.
func withService(token: String? = nil, limits: RequestLimits = RequestLimits(), log: CapturedLog = CapturedLog(),
                 modes: [TestingSetup] = serviceModes,
                 _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    let models = try await ServedModels.shared.table()
    let configuration = ServerConfiguration(limits: limits, token: try token.map { try BearerToken($0) })
    for mode in modes {
        let app = PredictionServer.buildApplication(models: models, configuration: configuration, logger: log.logger)
        try await app.test(mode) { client in try await body(client) }
    }
}

extension TestClientProtocol {
    /// A request with a JSON (or any text) body; returns status, parsed JSON body (nil when not JSON) and headers.
    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, body: String? = nil, headers: HTTPFields = [:]) async throws
        -> (status: HTTPResponse.Status, json: JSONValue?, headers: HTTPFields, text: String) {
        try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            let text = String(buffer: response.body)
            return (response.status, try? JSONValue.parse(Data(text.utf8)), response.headers, text)
        }
    }
}

/// `{"instances": [...]}` with `items` JSON-encoded.
func instancesBody(_ items: [JSONValue]) -> String {
    JSONValue.object(["instances": .array(items)]).jsonText
}

let sampleTexts = [
    "WINNER!! As a valued network customer you have been selected to receive a £900 prize reward!",
    "Ok lar... Joking wif u oni...",
    "",
    "URGENT! call 09061701461 now to claim your free holiday",
    "Ünïcödé and emoji 🙂 are text too",
]
