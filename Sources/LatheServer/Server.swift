#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdCore
import Lathe
import Linalg
import Logging
import NIOCore
import NIOPosix

/// Where and how `lathe serve` listens.
public struct ServerConfiguration: Sendable {
    /// The address to bind: loopback unless told otherwise, so a model is never exposed by accident.
    public var host: String
    /// The TCP port; 0 picks a free one (the `listening` log line says which).
    public var port: Int
    public var limits: RequestLimits
    public var token: BearerToken?
    /// Seconds a connection may stay idle before it is closed.
    public var idleTimeout: Int64

    public init(host: String = "127.0.0.1", port: Int = 8080, limits: RequestLimits = RequestLimits(),
                token: BearerToken? = nil, idleTimeout: Int64 = 60) {
        self.host = host
        self.port = port
        self.limits = limits
        self.token = token
        self.idleTimeout = idleTimeout
    }
}

/// The HTTP prediction service (DESIGN.md "HTTP prediction service").
public enum PredictionServer {
    /// The Hummingbird application serving `models`.
    /// - Parameters:
    ///   - logger: the access log and the server's own messages (a `listening` line with the
    ///     bound address once it accepts connections).
    public static func buildApplication(models: ModelTable, configuration: ServerConfiguration,
                                        metrics: ServiceMetrics = ServiceMetrics(),
                                        logger: Logger) -> some ApplicationProtocol {
        let service = PredictionService(models: models, limits: configuration.limits, token: configuration.token,
                                        metrics: metrics, accessLog: logger)
        // Hummingbird's own messages at notice and above only: the access log is ours.
        var frameworkLogger = logger
        frameworkLogger.logLevel = .notice
        return Application(
            responder: service,
            // Connections are answered by `PredictionChannel` on their event loops; the
            // responder Hummingbird makes of `service` answers its in-process test client.
            server: HTTPServerBuilder { _ in PredictionChannel(service: service, idleTimeout: .seconds(configuration.idleTimeout)) },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let address = channel.localAddress
                logger.info("listening", metadata: [
                    "host": .string(address?.ipAddress ?? configuration.host),
                    "port": .stringConvertible(address?.port ?? configuration.port),
                    "models": .array(models.names.map { .string($0) }),
                    "auth": .string(configuration.token == nil ? "none" : "bearer"),
                ])
            },
            logger: frameworkLogger
        )
    }

    /// Makes SwiftNIO's event loops Swift concurrency's global executor, so what still runs as
    /// tasks (accepting connections, one task per connection, the service lifecycle) stays on
    /// the event loop threads instead of hopping to a second pool: one thread per core for the
    /// whole process, which shares its two cores with whatever calls it. Call it once, from
    /// the main thread, before any task starts (`lathe serve` does, first thing).
    /// - Returns: false when the runtime did not let the executor be replaced (then everything
    ///   still works, on the default pool).
    @discardableResult
    public static func adoptEventLoopsAsGlobalExecutor() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting connections, lets in-flight
    /// requests finish, and returns.
    /// - Throws: `InputError` when the address cannot be bound.
    public static func run(models: ModelTable, configuration: ServerConfiguration, logger: Logger) async throws {
        let app = buildApplication(models: models, configuration: configuration, logger: logger)
        // A log reader that goes away (`lathe serve ... 2>&1 | head`) must cost the log, not the
        // process: without this, the next write to the closed pipe would kill it.
        signal(SIGPIPE, SIG_IGN)
        // One OpenBLAS thread per call: requests run side by side, one per core already, and
        // OpenBLAS's own threads would only contend with them.
        do {
            try await BLAS.withThreadCounts(blas: 1, kernels: 1) {
                try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            }
        } catch let error as IOError {
            throw InputError("cannot listen on \(configuration.host):\(configuration.port): \(String(cString: strerror(error.errnoCode)))")
        } catch is SocketAddressError, is SocketAddressError.UnknownHost {
            throw InputError("cannot listen on \(quoted(configuration.host)): not an address, nor a name this machine resolves")
        }
        logger.info("stopped")
    }
}
