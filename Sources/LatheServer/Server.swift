import Hummingbird
import Lathe

/// The HTTP prediction service's routes (DESIGN.md): work in progress, issue 7.
public enum PredictionServer {
    /// The router with the service's routes.
    public static func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("healthz") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
        }
        return router
    }
}
