import Crypto
import HTTPTypes
import Hummingbird
import Lathe
import Logging
import Synchronization

/// Limits on what one request may ask.
public struct RequestLimits: Sendable {
    /// Largest request body, in bytes (`--max-body-bytes`); larger ones get 413.
    public var maxBodyBytes: Int
    /// Most instances (rows) in one prediction request (`--max-instances`); more get 413.
    public var maxInstances: Int

    public init(maxBodyBytes: Int = 1 << 20, maxInstances: Int = 1000) {
        self.maxBodyBytes = maxBodyBytes
        self.maxInstances = maxInstances
    }
}

/// A bearer token, kept as its SHA-256 digest and compared in constant time: hashing first
/// makes the comparison's length independent of the candidate, so neither the token's length
/// nor its prefix leaks through response times.
public struct BearerToken: Sendable {
    private let digest: [UInt8]

    /// - Throws: `InputError` for an empty token or one with whitespace or control characters.
    public init(_ token: String) throws(InputError) {
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw InputError("the bearer token must be non-empty, without spaces or control characters")
        }
        digest = Array(SHA256.hash(data: Array(token.utf8)))
    }

    /// True when `authorization` is `Bearer <the token>` (the scheme's case does not matter).
    func admits(_ authorization: String?) -> Bool {
        guard let authorization, authorization.utf8.count > 7,
              authorization.prefix(7).lowercased() == "bearer " else { return false }
        let candidate = Array(SHA256.hash(data: Array(authorization.utf8.dropFirst(7))))
        var difference: UInt8 = 0
        for i in 0..<digest.count { difference |= digest[i] ^ candidate[i] }
        return difference == 0
    }
}

/// The service's whole answer to one request, as both transports send it.
struct ServiceResponse: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer
}

/// The prediction service: routes, bearer-token check, limits, JSON errors, metrics and the
/// access log around every request, answered synchronously on the calling thread. A request's
/// work is short (tens of microseconds for one instance, about a millisecond for a large
/// batch; the body and instance limits bound it), shorter than an async handler's task
/// switches and body streaming cost on two cores. `lathe serve` calls it from
/// `PredictionChannelHandler`, on the event loop that read the request, which holds that
/// loop's other connections for as long; as a Hummingbird responder it also answers the
/// in-process test client. Its own
/// routing rather than a `Router`, because the routes need what the router does not give:
/// 405 for a known path with the wrong method, and `{name}:predict` inside one path segment.
public struct PredictionService: HTTPResponder {
    public typealias Context = BasicRequestContext

    let models: ModelTable
    let limits: RequestLimits
    let token: BearerToken?
    let metrics: ServiceMetrics
    let accessLog: Logger
    private let requestIDs: RequestIDs

    /// - Parameters:
    ///   - models: the models to serve.
    ///   - limits: body size and instance count limits.
    ///   - token: the bearer token every route but `/healthz` then requires; nil for none.
    ///   - metrics: where requests and predictions are counted (`/metrics` shows them).
    ///   - accessLog: one line per request: request id, method, route, status, latency, model.
    public init(models: ModelTable, limits: RequestLimits = RequestLimits(), token: BearerToken? = nil,
                metrics: ServiceMetrics = ServiceMetrics(), accessLog: Logger) {
        self.models = models
        self.limits = limits
        self.token = token
        self.metrics = metrics
        self.accessLog = accessLog
        self.requestIDs = RequestIDs()
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let answer = respond(to: request.head, body: await Self.body(of: request, limit: limits.maxBodyBytes), start: start)
        return Response(status: answer.status, headers: answer.headers, body: .init(byteBuffer: answer.body))
    }

    /// The answer to one request whose body has been read (or refused while reading), with
    /// its metrics and access-log line.
    /// - Parameters:
    ///   - body: the body, or why it could not be had (over the limit, a broken upload); only
    ///     the prediction routes look at it.
    ///   - start: when the request's head arrived (the latency's origin).
    func respond(to head: HTTPRequest, body: Result<[UInt8], HTTPFailure>, start: ContinuousClock.Instant) -> ServiceResponse {
        let requestID = requestIDs.id(for: head.headerFields[.requestID])
        let path = head.path ?? ""
        let endpoint = Endpoint(path: path[..<(path.utf8.firstIndex(of: UInt8(ascii: "?")) ?? path.endIndex)])
        var outcome = Outcome()
        var response: ServiceResponse
        do {
            response = try handle(head, body: body, endpoint: endpoint, outcome: &outcome)
        } catch let failure as HTTPFailure {
            response = Self.error(failure)
        } catch {
            // Bad input never reaches here (it is an HTTPFailure); this is a bug, reported as such.
            response = Self.error(HTTPFailure(.internalServerError, "internal error (request \(requestID))"))
            accessLog.error("unexpected failure", metadata: ["request_id": .string(requestID), "error": .string("\(error)")])
        }
        response.headers[.requestID] = requestID
        record(method: head.method.rawValue, route: endpoint?.template ?? "unmatched", status: response.status.code,
               requestID: requestID, outcome: outcome, start: start)
        return response
    }

    /// The 400 for bytes that are not an HTTP request, counted and logged like a request.
    func malformedRequest(start: ContinuousClock.Instant) -> ServiceResponse {
        let requestID = requestIDs.id(for: nil)
        var response = Self.error(.badRequest("malformed HTTP request"))
        response.headers[.requestID] = requestID
        response.headers[.connection] = "close"
        record(method: "-", route: "malformed", status: response.status.code, requestID: requestID, outcome: Outcome(), start: start)
        return response
    }

    private func record(method: String, route: String, status: Int, requestID: String, outcome: Outcome, start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        metrics.recordRequest(route: route, status: status, duration: elapsed)
        // Sized for every field up front: growing a dictionary rehashes it, once per request.
        var fields = Logger.Metadata(minimumCapacity: 7)
        fields["request_id"] = .string(requestID)
        fields["method"] = .string(method)
        fields["route"] = .string(route)
        fields["status"] = .stringConvertible(status)
        fields["latency_ms"] = .stringConvertible(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
        if let model = outcome.model { fields["model"] = .string(model) }
        if outcome.instances > 0 { fields["instances"] = .stringConvertible(outcome.instances) }
        accessLog.info("request", metadata: fields)
    }

    /// What the access log says of a request besides its status: the model it reached and the
    /// instances it asked for.
    private struct Outcome {
        var model: String?
        var instances = 0
    }

    private func handle(_ head: HTTPRequest, body: Result<[UInt8], HTTPFailure>, endpoint: Endpoint?,
                        outcome: inout Outcome) throws -> ServiceResponse {
        guard let endpoint else { throw HTTPFailure(.notFound, "no such route: \(Self.printable(head.path ?? ""))") }
        guard head.method == endpoint.method else {
            throw HTTPFailure(.methodNotAllowed, "\(endpoint.template) takes \(endpoint.method.rawValue) only",
                              headers: [.allow: endpoint.method.rawValue])
        }
        if let token, endpoint.requiresToken, !token.admits(head.headerFields[.authorization]) {
            throw HTTPFailure(.unauthorized, "missing or wrong bearer token", headers: [.wwwAuthenticate: "Bearer"])
        }
        // After the token check, so a client without it cannot probe which models exist.
        func served(_ name: String) throws(HTTPFailure) -> ServedModel {
            guard let model = models.models[name] else { throw HTTPFailure(.notFound, "no model named \(Self.printable(name))") }
            outcome.model = name
            return model
        }
        switch endpoint {
        case .healthz: return Self.json(.object(["status": .string("ok")]))
        case .readyz: return Self.json(.object(["status": .string("ready"), "models": .array(models.names.map { .string($0) })]))
        case .metrics:
            return ServiceResponse(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                                   body: ByteBuffer(bytes: metrics.exposition()))
        case .listModels: return Self.json(.object(["models": .array(models.names.compactMap { models.models[$0]?.summary })]))
        case let .modelDetails(name): return Self.json(try served(name).details)
        case .serverMetadata:
            return Self.json(.object(["name": .string("lathe"), "version": .string(latheVersion), "extensions": .array([])]))
        case .live: return Self.json(.object(["live": .bool(true)]))
        case .ready: return Self.json(.object(["ready": .bool(true)]))
        case let .inferenceMetadata(name): return Self.json(try served(name).inferenceMetadata)
        case let .modelReady(name): return Self.json(.object(["name": .string(try served(name).name), "ready": .bool(true)]))
        case let .predict(name):
            let model = try served(name)
            let input = try RequestDecoder.v1Instances(try RequestDecoder.json(try body.get()), for: model, maxInstances: limits.maxInstances)
            outcome.instances = input.count
            return Self.predictionsResponse(try predict(input, with: model))
        case let .infer(name):
            let model = try served(name)
            guard head.headerFields[.inferenceHeaderContentLength] == nil else {
                throw HTTPFailure.badRequest("binary tensor data is not supported: send JSON data (binary_data=False)")
            }
            let inference = try RequestDecoder.v2Inference(try RequestDecoder.json(try body.get()), for: model, maxInstances: limits.maxInstances)
            outcome.instances = inference.input.count
            let batch = try predict(inference.input, with: model)
            return Self.json(Self.inferenceResponse(batch, model: model, id: inference.id, outputs: inference.outputs))
        }
    }

    /// `{"predictions": [...]}`, each as `lathe predict --json` prints it, written directly.
    static func predictionsResponse(_ batch: PredictionBatch) -> ServiceResponse {
        var out: [UInt8] = []
        out.reserveCapacity(64 * batch.count + 16)
        out.append(contentsOf: "{\"predictions\":[".utf8)
        for i in 0..<batch.count {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            batch.writeJSON(row: i, to: &out)
        }
        out.append(contentsOf: "]}".utf8)
        return ServiceResponse(status: .ok, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: out))
    }

    private func predict(_ input: PredictionInput, with model: ServedModel) throws -> PredictionBatch {
        let batch: PredictionBatch
        do {
            batch = try model.model.predictBatchSerially(input.features)
        } catch let error as InputError {
            throw HTTPFailure.badRequest(error.description)
        } catch let error as FitError {
            throw HTTPFailure.badRequest(error.description)
        }
        metrics.recordPredictions(model: model.name, batch)
        return batch
    }

    /// The V2 response: `label` (classifiers) and the score tensor, row-major, as requested.
    static func inferenceResponse(_ batch: PredictionBatch, model: ServedModel, id: JSONValue?, outputs: [String]?) -> JSONValue {
        let n = batch.count
        var tensors: [(String, JSONValue)] = []
        func tensor(_ name: String, _ datatype: String, _ shape: [Int], _ data: [JSONValue]) {
            tensors.append((name, .object(["name": .string(name), "datatype": .string(datatype),
                                           "shape": .array(shape.map { .integer(Int64($0)) }), "data": .array(data)])))
        }
        switch batch.scores {
        case let .values(v): tensor("value", "FP64", [n, 1], v.map { .number($0) })
        case let .probabilities(m), let .decision(m):
            tensor("label", "BYTES", [n], batch.predicted.map { .string(batch.classes[$0]) })
            tensor(model.scoreOutput.name, "FP64", [n, m.columnCount], m.elements.map { .number($0) })
        }
        let wanted = outputs.map(Set.init)
        var object: [String: JSONValue] = [
            "model_name": .string(model.name), "model_version": .string("1"),
            "outputs": .array(tensors.filter { wanted?.contains($0.0) ?? true }.map(\.1)),
        ]
        if let id { object["id"] = id }
        return .object(object)
    }

    /// The body, refused with 413 once it passes `limit` bytes: a declared length over the limit
    /// is refused before reading anything, a chunked body as soon as it passes.
    private static func body(of request: Request, limit: Int) async -> Result<[UInt8], HTTPFailure> {
        if let failure = BodyLimit(limit).refusal(declaredLength: request.headers[.contentLength]) { return .failure(failure) }
        var bytes: [UInt8] = []
        do {
            for try await chunk in request.body {
                guard bytes.count + chunk.readableBytes <= limit else { return .failure(BodyLimit(limit).tooLarge) }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
        } catch {
            return .failure(BodyLimit.unreadable)
        }
        return .success(bytes)
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> ServiceResponse {
        var fields = headers
        fields[.contentType] = "application/json"
        return ServiceResponse(status: status, headers: fields, body: ByteBuffer(bytes: value.jsonBytes))
    }

    static func error(_ failure: HTTPFailure) -> ServiceResponse {
        json(.object(["error": .string(failure.message)]), status: failure.status, headers: failure.headers)
    }

    /// A client-sent string made safe and short for an error message.
    static func printable<S: StringProtocol>(_ text: S) -> String {
        let clipped = text.unicodeScalars.prefix(80).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) }
        return String(clipped) + (text.unicodeScalars.count > 80 ? "…" : "")
    }
}

/// The body size limit, as both transports apply it.
struct BodyLimit {
    let bytes: Int

    init(_ bytes: Int) { self.bytes = bytes }

    var tooLarge: HTTPFailure { HTTPFailure(.contentTooLarge, "the request body is over \(bytes) bytes") }

    /// A client that hangs up mid-body, or a malformed chunked encoding: its fault, not ours.
    static let unreadable = HTTPFailure.badRequest("the request body could not be read")

    /// The 413 for a declared `Content-Length` over the limit, known before any byte of the body.
    func refusal(declaredLength: String?) -> HTTPFailure? {
        guard let declared = declaredLength.flatMap({ Int($0) }), declared > bytes else { return nil }
        return tooLarge
    }
}

/// Request ids: the client's `X-Request-Id` when it is short and plain, else this process's
/// random prefix and a counter (unique, and cheap enough for every request).
final class RequestIDs: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    init() {
        prefix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }

    func id(for given: String?) -> String {
        if let given, (1...64).contains(given.utf8.count), given.utf8.allSatisfy({ byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }) {
            return given
        }
        return "\(prefix)-\(counter.add(1, ordering: .relaxed).newValue)"
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
    static let inferenceHeaderContentLength = HTTPField.Name("Inference-Header-Content-Length")!
}
