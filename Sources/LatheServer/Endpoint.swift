import Hummingbird

/// The service's routes (DESIGN.md "HTTP prediction service"), parsed from a request path.
enum Endpoint: Equatable {
    case healthz, readyz, metrics
    case listModels
    case modelDetails(String)
    case predict(String)
    case serverMetadata, live, ready
    case inferenceMetadata(String)
    case modelReady(String)
    case infer(String)

    /// The route for `path` (without its query), or nil when there is none.
    init?(path: Substring) {
        // Matched on the UTF-8 view, segment by segment, without splitting the path into an
        // array: `Substring` comparisons go Character by Character, a measurable share of a
        // small request.
        var segments = PathSegments(path)
        guard path.utf8.first == UInt8(ascii: "/"), let first = segments.next() else { return nil }
        let second = segments.next(), third = segments.next(), fourth = segments.next()
        guard segments.next() == nil else { return nil }
        func matches(_ segment: Substring?, _ literal: StaticString) -> Bool {
            guard let segment else { return false }
            return segment.utf8.elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        }
        switch (second, third, fourth) {
        case (nil, nil, nil) where matches(first, "healthz"): self = .healthz
        case (nil, nil, nil) where matches(first, "readyz"): self = .readyz
        case (nil, nil, nil) where matches(first, "metrics"): self = .metrics
        case (nil, nil, nil) where matches(first, "v2"): self = .serverMetadata
        case (_, nil, nil) where matches(first, "v1") && matches(second, "models"): self = .listModels
        case let (_, segment?, nil) where matches(first, "v1") && matches(second, "models"):
            if segment.utf8.suffix(8).elementsEqual(":predict".utf8) {
                self = .predict(String(segment.dropLast(":predict".count)))
            } else {
                self = .modelDetails(String(segment))
            }
        case (_, _, nil) where matches(first, "v2") && matches(second, "health") && matches(third, "live"): self = .live
        case (_, _, nil) where matches(first, "v2") && matches(second, "health") && matches(third, "ready"): self = .ready
        case let (_, name?, nil) where matches(first, "v2") && matches(second, "models"): self = .inferenceMetadata(String(name))
        case let (_, name?, _) where matches(first, "v2") && matches(second, "models") && matches(fourth, "ready"): self = .modelReady(String(name))
        case let (_, name?, _) where matches(first, "v2") && matches(second, "models") && matches(fourth, "infer"): self = .infer(String(name))
        default: return nil
        }
        if let name = modelName, name.isEmpty { return nil }
    }

    /// The route's template, the `route` label of metrics and access logs (bounded, whatever
    /// the paths clients send).
    var template: String {
        switch self {
        case .healthz: return "/healthz"
        case .readyz: return "/readyz"
        case .metrics: return "/metrics"
        case .listModels: return "/v1/models"
        case .modelDetails: return "/v1/models/{name}"
        case .predict: return "/v1/models/{name}:predict"
        case .serverMetadata: return "/v2"
        case .live: return "/v2/health/live"
        case .ready: return "/v2/health/ready"
        case .inferenceMetadata: return "/v2/models/{name}"
        case .modelReady: return "/v2/models/{name}/ready"
        case .infer: return "/v2/models/{name}/infer"
        }
    }

    /// The one method the route answers.
    var method: HTTPRequest.Method {
        switch self {
        case .predict, .infer: return .post
        default: return .get
        }
    }

    /// The model the route is about, if any.
    var modelName: String? {
        switch self {
        case let .modelDetails(name), let .predict(name), let .inferenceMetadata(name), let .modelReady(name), let .infer(name):
            return name
        default: return nil
        }
    }

    /// Every route but the liveness probe needs the bearer token when one is set: an
    /// orchestrator must be able to tell the process is up without a secret.
    var requiresToken: Bool { self != .healthz }
}

/// The `/`-separated segments of a path after its leading `/`, empty ones included (so
/// `/v1//models` is not `/v1/models`).
private struct PathSegments {
    private let path: Substring
    private var position: String.Index?

    init(_ path: Substring) {
        self.path = path
        position = path.utf8.first == UInt8(ascii: "/") ? path.utf8.index(after: path.startIndex) : nil
    }

    mutating func next() -> Substring? {
        guard let start = position else { return nil }
        let end = path.utf8[start...].firstIndex(of: UInt8(ascii: "/"))
        position = end.map { path.utf8.index(after: $0) }
        return path[start..<(end ?? path.endIndex)]
    }
}
