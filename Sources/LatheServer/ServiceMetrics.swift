import CoreMetrics
import Lathe
import Prometheus
import Synchronization

/// The service's metrics, recorded through swift-metrics into a Prometheus registry of its
/// own (not the process-wide `MetricsSystem`, so several services, as in tests, keep apart):
/// requests by route and status, request latency by route, predictions by model and label.
/// Every label value comes from a bounded set (route templates, status codes, model names and
/// their classes), so hostile paths cannot grow the registry.
public final class ServiceMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    // Metric handles by their label values, made once each: a request only looks its own up.
    private let requestCounters = Mutex<[RequestKey: CoreMetrics.Counter]>([:])
    private let predictionCounters = Mutex<[PredictionKey: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])

    private struct RequestKey: Hashable {
        let route: String
        let status: Int
    }

    private struct PredictionKey: Hashable {
        let model: String
        let label: String
    }

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Predictions take microseconds to milliseconds: the default buckets (from 5 ms) would
        // put nearly every request in the first one.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        self.factory = factory
    }

    /// Counts a request and records its latency.
    func recordRequest(route: String, status: Int, duration: Duration) {
        Self.handle(RequestKey(route: route, status: status), in: requestCounters) {
            CoreMetrics.Counter(label: "lathe_http_requests_total", dimensions: [("route", route), ("status", String(status))], factory: factory)
        }.increment()
        let timer = Self.handle(route, in: timers) {
            CoreMetrics.Timer(label: "lathe_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
        }
        let (seconds, attoseconds) = duration.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Counts predictions of `model`, by predicted label (`""` for regression values).
    func recordPredictions(model: String, _ batch: PredictionBatch) {
        guard !batch.classes.isEmpty else {
            predictions(model: model, label: "").increment(by: batch.count)
            return
        }
        var counts = [Int](repeating: 0, count: batch.classes.count)
        for k in batch.predicted { counts[k] += 1 }
        for (k, count) in counts.enumerated() where count > 0 {
            predictions(model: model, label: batch.classes[k]).increment(by: count)
        }
    }

    private func predictions(model: String, label: String) -> CoreMetrics.Counter {
        Self.handle(PredictionKey(model: model, label: label), in: predictionCounters) {
            CoreMetrics.Counter(label: "lathe_predictions_total", dimensions: [("model", model), ("label", label)], factory: factory)
        }
    }

    /// The Prometheus text exposition of every metric.
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    /// The handle under `key`, made by `make` the first time.
    private static func handle<Key: Hashable & Sendable, Handle: Sendable>(_ key: Key, in handles: borrowing Mutex<[Key: Handle]>, make: () -> Handle) -> Handle {
        handles.withLock { handles in
            if let handle = handles[key] { return handle }
            let handle = make()
            handles[key] = handle
            return handle
        }
    }
}
