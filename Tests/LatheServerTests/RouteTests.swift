import Hummingbird
import HummingbirdTesting
import LatheServer
import Testing

@Suite struct RouteTests {
    @Test func healthzAnswers() async throws {
        let app = Application(router: PredictionServer.router())
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "{\"status\":\"ok\"}")
            }
        }
    }
}
