#if canImport(Glibc)
import Glibc
#endif
import Lathe
import Logging
import Synchronization

/// A swift-log handler writing one JSON object per line: `time` (UTC, ISO 8601 with
/// milliseconds), `level`, `message`, then the metadata (numbers stay numbers), so an access
/// log can be read by a log shipper without a parsing rule.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    private let sink: LineSink

    /// A handler writing to `fileDescriptor` (standard error by default).
    public init(fileDescriptor: Int32 = 2) {
        sink = LineSink(fileDescriptor: fileDescriptor)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: JSONValue] = [:]
        for (key, value) in metadata.merging(metadataProvider?.get() ?? [:], uniquingKeysWith: { $1 }) {
            fields[key] = Self.json(value)
        }
        for (key, value) in event.metadata ?? [:] { fields[key] = Self.json(value) }
        fields["time"] = .string(Self.timestamp())
        fields["level"] = .string(event.level.rawValue)
        fields["message"] = .string(event.message.description)
        if let error = event.error { fields["error"] = .string("\(error)") }
        sink.write(JSONValue.object(fields).jsonText + "\n")
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case let .string(s): return .string(s)
        case let .stringConvertible(v):
            switch v {
            case let i as Int: return .integer(Int64(i))
            case let d as Double: return .number(d)
            case let b as Bool: return .bool(b)
            default: return .string(v.description)
            }
        case let .array(items): return .array(items.map(json))
        case let .dictionary(members): return .object(members.mapValues(json))
        }
    }

    /// Now, as `2026-11-23T10:15:30.123Z`.
    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}

/// Whole lines to a file descriptor, one `write` each under a lock, so concurrent requests
/// never interleave their lines.
private final class LineSink: Sendable {
    private let fileDescriptor: Int32
    private let lock = Mutex(())

    init(fileDescriptor: Int32) { self.fileDescriptor = fileDescriptor }

    func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            lock.withLock { _ in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0, errno == EINTR { continue }
                    guard written > 0 else { return }  // a closed log must not stop the service
                    offset += written
                }
            }
        }
    }
}
