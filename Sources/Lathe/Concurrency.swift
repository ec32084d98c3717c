import Foundation
import Linalg

/// How much parallel work Lathe starts: one task per core unless told otherwise.
public enum Parallelism {
    /// The cores this process may use.
    public static var coreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// Splits `0..<count` into at most `maximumConcurrency` contiguous chunks of at least
/// `minimumChunk` items, runs `body` on each concurrently in a task group, and returns the
/// results in chunk order (so output never depends on scheduling). The default concurrency is
/// the kernel thread budget, which cross-validation sets to its `--jobs`.
func mapChunks<T: Sendable>(
    count: Int, minimumChunk: Int = 1, maximumConcurrency: Int = BLAS.kernelThreadCount,
    _ body: @escaping @Sendable (Range<Int>) throws -> T
) async throws -> [T] {
    let chunks = max(1, min(maximumConcurrency, count / max(1, minimumChunk)))
    let ranges = (0..<chunks).map { k in (count * k / chunks)..<(count * (k + 1) / chunks) }
    if chunks == 1 { return [try body(ranges[0])] }
    return try await mapConcurrently(count: chunks, maximumConcurrency: chunks) { k in try body(ranges[k]) }
}

/// `body(i)` for every `i` in `0..<count`, spread over up to `threads` threads (thread `t`
/// takes `t`, `t + threads`, …), the results in index order. For CPU-bound work inside a
/// synchronous fit, where each index is independent.
func concurrentMap<T: Sendable>(count: Int, threads: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let slots = ResultSlots<T>(count: count)
    let workers = max(1, min(threads, count))
    DispatchQueue.concurrentPerform(iterations: workers) { t in
        for i in stride(from: t, to: count, by: workers) { slots[i] = body(i) }
    }
    return slots.values
}

/// Write-once result slots filled by concurrent workers, each writing only its own indices;
/// read after all workers finished (`concurrentPerform` returns only then).
/// The storage is a raw buffer (not an array property) so concurrent writes to different slots
/// involve no shared bookkeeping and no exclusivity checks.
final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<T?>
    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }
    deinit {
        _ = slots.deinitialize()
        slots.deallocate()
    }
    subscript(index: Int) -> T? {
        get { slots[index] }
        set { slots[index] = newValue }
    }
    var values: [T] { slots.map { $0! } }
}

/// `body(i)` for every `i` in `0..<count` as child tasks, at most `maximumConcurrency` at a
/// time, started in index order; the results in index order. `completed` runs on the calling
/// task after each finishes, with the number finished so far. The first error cancels the rest.
func mapConcurrently<T: Sendable>(
    count: Int, maximumConcurrency: Int, completed: (Int) -> Void = { _ in },
    _ body: @escaping @Sendable (Int) async throws -> T
) async throws -> [T] {
    try await withThrowingTaskGroup(of: (Int, T).self) { group in
        var results = [T?](repeating: nil, count: count)
        var started = 0, finished = 0
        func startNext() {
            let i = started
            group.addTask { (i, try await body(i)) }
            started += 1
        }
        while started < min(max(1, maximumConcurrency), count) { startNext() }
        while let (i, value) = try await group.next() {
            results[i] = value
            finished += 1
            completed(finished)
            if started < count { startNext() }
        }
        return results.map { $0! }
    }
}
