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
        guard path.first == "/" else { return nil }
        let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1 where parts[0] == "healthz": self = .healthz
        case 1 where parts[0] == "readyz": self = .readyz
        case 1 where parts[0] == "metrics": self = .metrics
        case 1 where parts[0] == "v2": self = .serverMetadata
        case 2 where parts[0] == "v1" && parts[1] == "models": self = .listModels
        case 3 where parts[0] == "v1" && parts[1] == "models":
            let segment = parts[2]
            // On the UTF-8 view: `Substring.hasSuffix` compares Characters, a measurable share
            // of a small request.
            if segment.utf8.suffix(8).elementsEqual(":predict".utf8) {
                self = .predict(String(segment.dropLast(":predict".count)))
            } else {
                self = .modelDetails(String(segment))
            }
        case 3 where parts[0] == "v2" && parts[1] == "health" && parts[2] == "live": self = .live
        case 3 where parts[0] == "v2" && parts[1] == "health" && parts[2] == "ready": self = .ready
        case 3 where parts[0] == "v2" && parts[1] == "models": self = .inferenceMetadata(String(parts[2]))
        case 4 where parts[0] == "v2" && parts[1] == "models" && parts[3] == "ready": self = .modelReady(String(parts[2]))
        case 4 where parts[0] == "v2" && parts[1] == "models" && parts[3] == "infer": self = .infer(String(parts[2]))
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
