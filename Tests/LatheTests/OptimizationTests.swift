@testable import Lathe
import Linalg
import TestSupport
import Testing

@Suite struct OptimizationTests {
    /// `−H·g` by the textbook two-loop recursion (Nocedal & Wright, algorithm 7.4), oldest pair
    /// first, as the reference for the compact form.
    func twoLoop(_ g: [Double], _ pairs: [(s: [Double], y: [Double])]) -> [Double] {
        var q = g
        var alphas = [Double](repeating: 0, count: pairs.count)
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        for k in pairs.indices.reversed() {
            alphas[k] = dot(pairs[k].s, q) / dot(pairs[k].s, pairs[k].y)
            for j in q.indices { q[j] -= alphas[k] * pairs[k].y[j] }
        }
        if let last = pairs.last {
            let gamma = dot(last.s, last.y) / dot(last.y, last.y)
            q = q.map { $0 * gamma }
        }
        for k in pairs.indices {
            let beta = dot(pairs[k].y, q) / dot(pairs[k].s, pairs[k].y)
            for j in q.indices { q[j] += (alphas[k] - beta) * pairs[k].s[j] }
        }
        return q.map { -$0 }
    }

    /// The compact representation gives the two-loop recursion's direction, through the
    /// memory filling up and wrapping around, with `y` given directly or as a gradient change.
    @Test(arguments: [true, false])
    func compactDirectionEqualsTwoLoop(_ yIsGradientChange: Bool) throws {
        var rng = SeededGenerator(seed: 11)
        let n = 7
        var memory = CorrectionPairs(dimension: n, capacity: 3)
        var stored: [(s: [Double], y: [Double])] = []
        var g = (0..<n).map { _ in Double.random(in: -1...1, using: &rng) }
        #expect(memory.direction(g) == g.map { -$0 })
        for step in 0..<6 {
            // A convex quadratic's curvature keeps sᵀy > 0.
            let s = (0..<n).map { _ in Double.random(in: -1...1, using: &rng) }
            let y = s.enumerated().map { j, v in v * Double(j + 1) + 0.1 * Double(step) * s[(j + 1) % n] }
            let next = zip(g, y).map { $0 + $1 }
            let probe = yIsGradientChange ? next : (0..<n).map { _ in Double.random(in: -1...1, using: &rng) }
            try memory.advance(to: probe, adding: (s, y, zip(s, y).reduce(0) { $0 + $1.0 * $1.1 }),
                               yIsGradientChange: yIsGradientChange)
            stored.append((s, y))
            if stored.count > 3 { stored.removeFirst() }
            g = probe
            #expect(maxAbsoluteDifference(memory.direction(g), twoLoop(g, stored)) < 1e-10, "step \(step)")
        }
        // A skipped pair (too little curvature): the products move to the new gradient only.
        g = g.map { $0 * 0.5 }
        try memory.advance(to: g, adding: nil, yIsGradientChange: yIsGradientChange)
        #expect(maxAbsoluteDifference(memory.direction(g), twoLoop(g, stored)) < 1e-10)
        memory.reset()
        #expect(memory.direction(g) == g.map { -$0 })
    }
}
