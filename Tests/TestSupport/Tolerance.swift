import Foundation

/// The largest relative difference between `actual` and `expected`, element by element:
/// `|a − e| / max(|e|, floor)`. NaN anywhere, or a length mismatch, gives infinity, so a
/// comparison against a tolerance fails rather than passes silently.
public func maxRelativeDifference(_ actual: [Double], _ expected: [Double], floor: Double = 1e-300) -> Double {
    guard actual.count == expected.count else { return .infinity }
    var worst = 0.0
    for (a, e) in zip(actual, expected) {
        if a.isNaN || e.isNaN { return .infinity }
        if a == e { continue }
        worst = max(worst, abs(a - e) / max(abs(e), floor))
    }
    return worst
}

/// The largest absolute difference, with the same NaN and length rules.
public func maxAbsoluteDifference(_ actual: [Double], _ expected: [Double]) -> Double {
    guard actual.count == expected.count else { return .infinity }
    var worst = 0.0
    for (a, e) in zip(actual, expected) {
        if a.isNaN || e.isNaN { return .infinity }
        worst = max(worst, abs(a - e))
    }
    return worst
}

/// The repository root (for `datasets/`), found from this file's location.
public let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The folder holding this test process's temporary directories, removed when it exits.
private let temporaryRootPath = FileManager.default.temporaryDirectory
    .appendingPathComponent("lathe-tests-\(UUID().uuidString)").path
private let temporaryRoot: URL = {
    // Tests share no teardown hook; at exit every test is over, and nothing it wrote is needed.
    atexit { try? FileManager.default.removeItem(atPath: temporaryRootPath) }
    return URL(fileURLWithPath: temporaryRootPath)
}()

/// A fresh temporary directory (under one per-process folder, removed when the tests exit).
public func makeTemporaryDirectory() throws -> URL {
    let url = temporaryRoot.appendingPathComponent(UUID().uuidString)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A small seeded generator (SplitMix64) for property tests.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
