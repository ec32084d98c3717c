import Foundation

/// How much parallel work Lathe starts: one task per core unless told otherwise.
public enum Parallelism {
    /// The cores this process may use.
    public static var coreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// Splits `0..<count` into at most `maximumConcurrency` contiguous chunks of at least
/// `minimumChunk` items, runs `body` on each concurrently in a task group, and returns the
/// results in chunk order (so output never depends on scheduling).
func mapChunks<T: Sendable>(
    count: Int, minimumChunk: Int = 1, maximumConcurrency: Int = Parallelism.coreCount,
    _ body: @escaping @Sendable (Range<Int>) throws -> T
) async throws -> [T] {
    let chunks = max(1, min(maximumConcurrency, count / max(1, minimumChunk)))
    let ranges = (0..<chunks).map { k in (count * k / chunks)..<(count * (k + 1) / chunks) }
    if chunks == 1 { return [try body(ranges[0])] }
    return try await withThrowingTaskGroup(of: (Int, T).self) { group in
        for (k, range) in ranges.enumerated() {
            group.addTask { (k, try body(range)) }
        }
        var results = [T?](repeating: nil, count: chunks)
        for try await (k, value) in group { results[k] = value }
        return results.map { $0! }
    }
}
