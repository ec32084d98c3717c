import Hummingbird
import Lathe
import Linalg

/// A request the service refuses: its status (4xx) and a one-line reason, sent as
/// `{"error": "..."}`.
struct HTTPFailure: Error, Equatable {
    let status: HTTPResponse.Status
    let message: String
    /// Extra headers (`Allow` for 405, `WWW-Authenticate` for 401).
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    static func badRequest(_ message: String) -> HTTPFailure { HTTPFailure(.badRequest, message) }
}

/// What a prediction request asks for, decoded and checked against the model and the limits.
struct PredictionInput {
    let features: Dataset.Features
    let count: Int
}

/// Decoding of the two protocols' request bodies. Every shape or type mismatch is a
/// `HTTPFailure` naming the offending instance, so a client can fix its request.
enum RequestDecoder {
    /// Parses a JSON body; anything else is a 400.
    static func json(_ body: [UInt8]) throws(HTTPFailure) -> JSONValue {
        do { return try JSONValue.parse(body) } catch { throw .badRequest("the request body is not valid JSON") }
    }

    /// `{"instances": ["a text", ...]}` or `{"instances": [[1.0, 2.0], ...]}` (TF Serving's row format).
    static func v1Instances(_ body: JSONValue, for model: ServedModel, maxInstances: Int) throws(HTTPFailure) -> PredictionInput {
        guard case let .object(members) = body, let instances = members["instances"] else {
            throw .badRequest("the body must be a JSON object with \"instances\": a list of \(model.takesText ? "texts" : "feature lists")")
        }
        guard case let .array(items) = instances else { throw .badRequest("\"instances\" must be a list") }
        try checkCount(items.count, maxInstances: maxInstances, what: "instances")
        if model.takesText {
            return PredictionInput(features: .text(try texts(items, what: "instance")), count: items.count)
        }
        let width = model.inputWidth
        var elements: [Double] = []
        elements.reserveCapacity(items.count * width)
        for (i, item) in items.enumerated() {
            guard case let .array(values) = item else {
                throw .badRequest("instance \(i): expected a list of \(width) numbers (this model takes numeric features)")
            }
            guard values.count == width else {
                throw .badRequest("instance \(i): expected \(width) features, got \(values.count)")
            }
            for (j, value) in values.enumerated() { elements.append(try number(value, at: "instance \(i), feature \(j)")) }
        }
        return PredictionInput(features: try numeric(elements, rows: items.count, model: model), count: items.count)
    }

    /// What a V2 inference request asks for: its id to echo and the outputs to return (nil: all).
    struct InferenceRequest {
        let input: PredictionInput
        let id: JSONValue?
        let outputs: [String]?
    }

    /// `{"id": ..., "inputs": [{"name", "shape", "datatype", "data"}], "outputs": [{"name"}]}`
    /// (Open Inference Protocol, JSON tensors).
    static func v2Inference(_ body: JSONValue, for model: ServedModel, maxInstances: Int) throws(HTTPFailure) -> InferenceRequest {
        guard case let .object(members) = body else { throw .badRequest("the body must be a JSON object with \"inputs\"") }
        let expectedName = model.takesText ? "text" : "features"
        guard case let .array(inputs)? = members["inputs"], inputs.count == 1, case let .object(tensor) = inputs[0] else {
            throw .badRequest("\"inputs\" must hold exactly one tensor, named \(quoted(expectedName))")
        }
        guard case let .string(name)? = tensor["name"], name == expectedName else {
            throw .badRequest("model \(model.name) takes one input tensor named \(quoted(expectedName))")
        }
        guard case let .string(datatype)? = tensor["datatype"] else { throw .badRequest("input \(quoted(name)) has no \"datatype\"") }
        guard case let .array(shapeValues)? = tensor["shape"] else { throw .badRequest("input \(quoted(name)) has no \"shape\"") }
        var shape: [Int] = []
        for value in shapeValues {
            guard case let .integer(n) = value, n >= 0, n <= Int64(Int32.max) else {
                throw .badRequest("input \(quoted(name)): \"shape\" must be a list of non-negative integers")
            }
            shape.append(Int(n))
        }
        // Errors echo the shape asked for, cut short if a hostile body made it long; built only
        // for an error, not for every request.
        func shownShape() -> String { shape.count <= 4 ? "\(shape)" : "[\(shape[0]), \(shape[1]), … (\(shape.count) dimensions)]" }
        if case let .object(parameters)? = tensor["parameters"], parameters["binary_data_size"] != nil {
            throw .badRequest("binary tensor data is not supported: send JSON data (binary_data=False)")
        }
        guard case let .array(nested)? = tensor["data"] else { throw .badRequest("input \(quoted(name)) has no \"data\" list") }
        let rows = shape.first ?? 0
        try checkCount(rows, maxInstances: maxInstances, what: "rows")
        let data = try flattened(nested, limit: model.takesText ? rows : rows * max(1, model.inputWidth))
        let input: PredictionInput
        if model.takesText {
            guard datatype == "BYTES" else { throw .badRequest("input \"text\" must have datatype BYTES, got \(quoted(datatype, limit: 16))") }
            guard shape.count == 1 || (shape.count == 2 && shape[1] == 1) else {
                throw .badRequest("input \"text\" must have shape [n] or [n, 1], got \(shownShape())")
            }
            guard data.count == rows else { throw .badRequest("input \"text\" has shape \(shownShape()) but \(data.count) values") }
            input = PredictionInput(features: .text(try texts(data, what: "text")), count: rows)
        } else {
            guard ["FP64", "FP32", "INT64", "INT32"].contains(datatype) else {
                throw .badRequest("input \"features\" must have datatype FP64 (or FP32, INT64, INT32), got \(quoted(datatype, limit: 16))")
            }
            guard shape.count == 2, shape[1] == model.inputWidth else {
                throw .badRequest("input \"features\" must have shape [n, \(model.inputWidth)], got \(shownShape())")
            }
            guard data.count == rows * model.inputWidth else {
                throw .badRequest("input \"features\" has shape \(shownShape()) but \(data.count) values")
            }
            var elements: [Double] = []
            elements.reserveCapacity(data.count)
            for (k, value) in data.enumerated() {
                elements.append(try number(value, at: "features[\(k / model.inputWidth)][\(k % model.inputWidth)]"))
            }
            input = PredictionInput(features: try numeric(elements, rows: rows, model: model), count: rows)
        }
        var outputs: [String]? = nil
        if let requested = members["outputs"] {
            guard case let .array(items) = requested else { throw .badRequest("\"outputs\" must be a list") }
            let offered = model.model.task == .classification ? ["label", model.scoreOutput.name] : [model.scoreOutput.name]
            var names: [String] = []
            for item in items {
                guard case let .object(output) = item, case let .string(outputName)? = output["name"] else {
                    throw .badRequest("each requested output must be an object with a \"name\"")
                }
                guard offered.contains(outputName) else {
                    throw .badRequest("model \(model.name) has no output \(quoted(outputName)) (it has \(offered.joined(separator: ", ")))")
                }
                names.append(outputName)
            }
            outputs = names
        }
        var id: JSONValue? = nil
        if let given = members["id"] {
            guard case .string = given else { throw .badRequest("\"id\" must be a string") }
            id = given
        }
        return InferenceRequest(input: input, id: id, outputs: outputs)
    }

    private static func checkCount(_ count: Int, maxInstances: Int, what: String) throws(HTTPFailure) {
        guard count > 0 else { throw .badRequest("no \(what) to predict") }
        guard count <= maxInstances else {
            throw HTTPFailure(.contentTooLarge, "\(count) \(what) in one request; at most \(maxInstances) are allowed")
        }
    }

    private static func texts(_ items: [JSONValue], what: String) throws(HTTPFailure) -> [String] {
        var texts: [String] = []
        texts.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case let .string(text) = item else { throw .badRequest("\(what) \(i): expected a string (this model takes text)") }
            texts.append(text)
        }
        return texts
    }

    private static func number(_ value: JSONValue, at location: String) throws(HTTPFailure) -> Double {
        let v: Double
        switch value {
        case let .integer(i): v = Double(i)
        case let .number(d): v = d
        default: throw .badRequest("\(location): expected a number")
        }
        guard v.isFinite else { throw .badRequest("\(location): not a finite number") }
        return v
    }

    private static func numeric(_ elements: [Double], rows: Int, model: ServedModel) throws(HTTPFailure) -> Dataset.Features {
        do {
            return .numeric(try Matrix(rowCount: rows, columnCount: model.inputWidth, elements: elements), names: model.model.featureNames)
        } catch {
            throw .badRequest("the features do not form a \(rows) × \(model.inputWidth) matrix")
        }
    }

    /// The data in row-major order, whether sent flat or nested one list per row; stops at
    /// `limit` values so a mismatched shape is reported without copying a huge list.
    private static func flattened(_ items: [JSONValue], limit: Int) throws(HTTPFailure) -> [JSONValue] {
        guard items.contains(where: { if case .array = $0 { return true } else { return false } }) else { return items }
        var out: [JSONValue] = []
        for item in items {
            guard case let .array(row) = item else { throw .badRequest("\"data\" mixes lists and values") }
            for value in row {
                if case .array = value { throw .badRequest("\"data\" is nested more deeply than one list per row") }
                out.append(value)
                if out.count > limit { return out }
            }
        }
        return out
    }
}
