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
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])

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
        counter("lathe_http_requests_total", [("route", route), ("status", String(status))]).increment()
        let timer = timers.withLock { timers in
            if let timer = timers[route] { return timer }
            let timer = CoreMetrics.Timer(label: "lathe_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            timers[route] = timer
            return timer
        }
        let (seconds, attoseconds) = duration.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Counts predictions of `model`, by predicted label (`""` for regression values).
    func recordPredictions(model: String, _ batch: PredictionBatch) {
        guard !batch.classes.isEmpty else {
            counter("lathe_predictions_total", [("model", model), ("label", "")]).increment(by: batch.count)
            return
        }
        var counts = [Int](repeating: 0, count: batch.classes.count)
        for k in batch.predicted { counts[k] += 1 }
        for (k, count) in counts.enumerated() where count > 0 {
            counter("lathe_predictions_total", [("model", model), ("label", batch.classes[k])]).increment(by: count)
        }
    }

    /// The Prometheus text exposition of every metric.
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        let key = dimensions.reduce(label) { $0 + "\u{0}" + $1.1 }
        return counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
            counters[key] = counter
            return counter
        }
    }
}

