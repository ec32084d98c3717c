import ArgumentParser
import Foundation
import Lathe
import LatheServer
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve model files over HTTP: TF-Serving-shaped /v1 routes and the Open Inference Protocol (KServe V2) /v2.",
        discussion: """
            Each model is served under its file name without the extension. The access log (one \
            JSON line per request, never the request body) goes to stderr. SIGTERM or SIGINT \
            lets in-flight requests finish, then exits 0.
            """)

    @Argument(help: "The model files.")
    var models: [String]

    @Option(help: "The address to listen on (loopback by default; 0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    @Option(help: "The TCP port (0 picks a free one; the 'listening' log line tells which).")
    var port = 8080

    @Option(help: ArgumentHelp("A file holding the bearer token every route but /healthz then requires (else $LATHE_TOKEN, if set).", valueName: "F"))
    var tokenFile: String?

    @Option(help: "Largest request body in bytes; larger ones get 413.")
    var maxBodyBytes = 1 << 20

    @Option(help: "Most instances in one prediction request; more get 413.")
    var maxInstances = 1000

    @Option(help: "Seconds a connection may stay idle (no request arriving, no answer going out) before it is closed.")
    var idleTimeout: Int64 = 60

    func run() async throws {
        guard !models.isEmpty else { throw UsageError("name at least one model file") }
        guard (0...65535).contains(port) else { throw UsageError("--port must be 0 to 65535, got \(port)") }
        guard maxBodyBytes >= 1 else { throw UsageError("--max-body-bytes must be at least 1, got \(maxBodyBytes)") }
        guard maxInstances >= 1 else { throw UsageError("--max-instances must be at least 1, got \(maxInstances)") }
        guard (1...86_400).contains(idleTimeout) else { throw UsageError("--idle-timeout must be 1 to 86400 seconds, got \(idleTimeout)") }
        let table = try await ModelTable(paths: models)
        let configuration = ServerConfiguration(host: host, port: port,
                                                limits: RequestLimits(maxBodyBytes: maxBodyBytes, maxInstances: maxInstances),
                                                token: try readToken(), idleTimeout: idleTimeout)
        let logger = Logger(label: "lathe.serve") { _ in JSONLogHandler() }
        defer { LineSink.standardError.flush() }
        try await PredictionServer.run(models: table, configuration: configuration, logger: logger)
    }

    /// The token from `--token-file` (its first line), else `LATHE_TOKEN`, else none.
    private func readToken() throws -> BearerToken? {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw InputError("cannot read the token file", at: tokenFile)
            }
            let text = String(decoding: data, as: UTF8.self)
            let line = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            do { return try BearerToken(line) } catch { throw InputError(error.message, at: tokenFile) }
        }
        if let value = ProcessInfo.processInfo.environment["LATHE_TOKEN"] {
            do { return try BearerToken(value) } catch { throw InputError("LATHE_TOKEN: \(error.message)") }
        }
        return nil
    }
}
