import Foundation
import Linalg

/// A smooth function to minimize: its value and gradient at a point.
protocol DifferentiableObjective {
    /// The value at `w`, with the gradient written to `gradient` (same length as `w`).
    func evaluate(_ w: [Double], gradient: inout [Double]) throws -> Double
}

struct MinimizationResult {
    var solution: [Double]
    var value: Double
    var iterations: Int
    /// True when a stopping test on the gradient or the decrease was met before the limit.
    var converged: Bool
}

/// Limited-memory BFGS (Nocedal & Wright, "Numerical Optimization", algorithms 7.4 and 3.5–3.6)
/// with a strong-Wolfe line search. Stops when the largest gradient component is at most
/// `gradientTolerance` or the relative decrease of the value falls to `64 ε` (SciPy's
/// L-BFGS-B tests, which scikit-learn's `lbfgs` solver uses), or after `maxIterations`.
func minimizeLBFGS<O: DifferentiableObjective>(
    _ objective: O, start: [Double], gradientTolerance: Double, maxIterations: Int, memory: Int = 10
) throws -> MinimizationResult {
    let n = start.count
    var x = start
    var g = [Double](repeating: 0, count: n)
    var f = try objective.evaluate(x, gradient: &g)
    guard f.isFinite, g.allSatisfy(\.isFinite) else { throw FitError.nonFiniteModel }
    var s: [[Double]] = [], y: [[Double]] = [], rho: [Double] = []
    var iterations = 0
    func maxAbs(_ v: [Double]) -> Double {
        v.withUnsafeBufferPointer { p in
            var m = 0.0
            for value in p { m = Swift.max(m, abs(value)) }
            return m
        }
    }
    // Vector work goes to BLAS: with millions of parameters (20 classes × 130,000 terms) the
    // two-loop recursion dominates otherwise.
    func dot(_ a: [Double], _ b: [Double]) -> Double { try! Linalg.dot(a, b) }
    if maxAbs(g) <= gradientTolerance { return MinimizationResult(solution: x, value: f, iterations: 0, converged: true) }
    while iterations < maxIterations {
        // Two-loop recursion: d = −H·g.
        var d = twoLoopDirection(g, s: s, y: y, rho: rho)
        var slope = dot(g, d)
        if !(slope < 0) {
            // Not a descent direction (curvature information went stale): restart from −g.
            s.removeAll(); y.removeAll(); rho.removeAll()
            d = g
            Linalg.scale(&d, by: -1)
            slope = dot(g, d)
        }
        let initial = s.isEmpty ? Swift.min(1, 1 / Swift.max(dot(g, g).squareRoot(), 1e-300)) : 1
        guard let step = try strongWolfeStep(objective, x: x, f: f, g: g, direction: d, slope: slope, initial: initial) else {
            break  // no acceptable step: as converged as rounding allows
        }
        iterations += 1
        let previous = f
        var sNew = d
        Linalg.scale(&sNew, by: step.alpha)
        var yNew = step.gradient
        try! axpy(-1, g, &yNew)
        x = step.point
        f = step.value
        g = step.gradient
        let sy = dot(sNew, yNew)
        if sy > 1e-10 * dot(yNew, yNew) {
            if s.count == memory { s.removeFirst(); y.removeFirst(); rho.removeFirst() }
            s.append(sNew); y.append(yNew); rho.append(1 / sy)
        }
        if maxAbs(g) <= gradientTolerance { return MinimizationResult(solution: x, value: f, iterations: iterations, converged: true) }
        if (previous - f) / Swift.max(abs(previous), abs(f), 1) <= 64 * Double.ulpOfOne {
            return MinimizationResult(solution: x, value: f, iterations: iterations, converged: true)
        }
    }
    let converged = maxAbs(g) <= gradientTolerance || iterations < maxIterations
    return MinimizationResult(solution: x, value: f, iterations: iterations, converged: converged)
}

private struct Step {
    var alpha: Double
    var point: [Double]
    var value: Double
    var gradient: [Double]
}

/// A step length satisfying the strong Wolfe conditions (c₁ = 1e-4, c₂ = 0.9), by bracketing
/// and cubic-interpolation zoom; nil when none is found in 40 evaluations.
private func strongWolfeStep<O: DifferentiableObjective>(
    _ objective: O, x: [Double], f: Double, g: [Double], direction d: [Double], slope: Double, initial: Double
) throws -> Step? {
    let (c1, c2) = (1e-4, 0.9)
    var evaluations = 0
    func at(_ a: Double) throws -> (Step, Double) {
        evaluations += 1
        var p = x
        try! axpy(a, d, &p)
        var grad = [Double](repeating: 0, count: x.count)
        let v = try objective.evaluate(p, gradient: &grad)
        let dg = try! Linalg.dot(grad, d)
        return (Step(alpha: a, point: p, value: v, gradient: grad), dg)
    }
    func zoom(_ lo0: (Double, Double, Double), _ hi0: (Double, Double, Double)) throws -> Step? {
        var lo = lo0, hi = hi0  // (step, value, slope)
        while evaluations < 40 {
            let a = interpolate(lo, hi)
            let (step, dg) = try at(a)
            if !step.value.isFinite || step.value > f + c1 * a * slope || step.value >= lo.1 {
                hi = (a, step.value, dg)
            } else {
                if abs(dg) <= -c2 * slope { return step }
                if dg * (hi.0 - lo.0) >= 0 { hi = lo }
                lo = (a, step.value, dg)
            }
            if abs(hi.0 - lo.0) <= 1e-16 * Swift.max(1, abs(lo.0)) { break }
        }
        return lo.0 > 0 && lo.1 < f ? try at(lo.0).0 : nil
    }
    var previous = (0.0, f, slope)
    var a = initial
    while evaluations < 40 {
        let (step, dg) = try at(a)
        if !step.value.isFinite || step.value > f + c1 * a * slope || (evaluations > 1 && step.value >= previous.1) {
            return try zoom(previous, (a, step.value.isFinite ? step.value : .greatestFiniteMagnitude, dg))
        }
        if abs(dg) <= -c2 * slope { return step }
        if dg >= 0 { return try zoom((a, step.value, dg), previous) }
        previous = (a, step.value, dg)
        a *= 2
    }
    return nil
}

/// The minimizer of the cubic through two (step, value, slope) points, kept well inside the
/// interval; the midpoint when the cubic is unusable.
private func interpolate(_ p: (Double, Double, Double), _ q: (Double, Double, Double)) -> Double {
    let (a, fa, ga) = p
    let (b, fb, gb) = q
    let lo = Swift.min(a, b), hi = Swift.max(a, b), width = hi - lo
    let d1 = ga + gb - 3 * (fa - fb) / (a - b)
    let disc = d1 * d1 - ga * gb
    if disc >= 0, fb.isFinite, gb.isFinite {
        let d2 = (b > a ? 1.0 : -1.0) * disc.squareRoot()
        let t = b - (b - a) * ((gb + d2 - d1) / (gb - ga + 2 * d2))
        if t.isFinite, t >= lo + 0.1 * width, t <= hi - 0.1 * width { return t }
    }
    return (a + b) / 2
}

/// `−H·g` by the L-BFGS two-loop recursion over the stored pairs (oldest first), with the
/// initial scaling `sᵀy / yᵀy` of the newest pair. Vector work is BLAS.
private func twoLoopDirection(_ g: [Double], s: [[Double]], y: [[Double]], rho: [Double]) -> [Double] {
    var d = g
    var alpha = [Double](repeating: 0, count: s.count)
    for k in stride(from: s.count - 1, through: 0, by: -1) {
        alpha[k] = rho[k] * (try! Linalg.dot(s[k], d))
        try! axpy(-alpha[k], y[k], &d)
    }
    if let last = s.indices.last {
        Linalg.scale(&d, by: (try! Linalg.dot(s[last], y[last])) / (try! Linalg.dot(y[last], y[last])))
    }
    for k in s.indices {
        let beta = rho[k] * (try! Linalg.dot(y[k], d))
        try! axpy(alpha[k] - beta, s[k], &d)
    }
    Linalg.scale(&d, by: -1)
    return d
}

/// Orthant-wise limited-memory quasi-Newton (OWL-QN; Andrew & Gao, ICML 2007): minimizes
/// `f(w) + λ·Σ_{j < penalized} |w_j|` for smooth `f`, so L1-penalized weights reach exact zeros.
/// Stops as `minimizeLBFGS` does, on the pseudo-gradient.
func minimizeOWLQN<O: DifferentiableObjective>(
    _ objective: O, start: [Double], l1: Double, penalizedCount: Int,
    gradientTolerance: Double, maxIterations: Int, memory: Int = 10
) throws -> MinimizationResult {
    let n = start.count
    var x = start
    var g = [Double](repeating: 0, count: n)
    var smooth = try objective.evaluate(x, gradient: &g)
    guard smooth.isFinite, g.allSatisfy(\.isFinite) else { throw FitError.nonFiniteModel }
    func penalty(_ w: [Double]) -> Double {
        var t = 0.0
        for j in 0..<penalizedCount { t += abs(w[j]) }
        return l1 * t
    }
    /// The steepest-descent direction's negative: the gradient of the smooth part plus the
    /// L1 term's one-sided derivative that points downhill (zero where neither side does).
    func pseudoGradient(_ w: [Double], _ grad: [Double]) -> [Double] {
        var pg = grad
        for j in 0..<penalizedCount {
            if w[j] > 0 { pg[j] += l1 }
            else if w[j] < 0 { pg[j] -= l1 }
            else if grad[j] + l1 < 0 { pg[j] = grad[j] + l1 }
            else if grad[j] - l1 > 0 { pg[j] = grad[j] - l1 }
            else { pg[j] = 0 }
        }
        return pg
    }
    var f = smooth + penalty(x)
    var s: [[Double]] = [], y: [[Double]] = [], rho: [Double] = []
    var pg = pseudoGradient(x, g)
    var iterations = 0
    let maxAbs = { (v: [Double]) in v.reduce(0) { Swift.max($0, abs($1)) } }
    if maxAbs(pg) <= gradientTolerance { return MinimizationResult(solution: x, value: f, iterations: 0, converged: true) }
    while iterations < maxIterations {
        var d = twoLoopDirection(pg, s: s, y: y, rho: rho)
        // Keep only components that agree with steepest descent.
        for j in 0..<n where d[j] * pg[j] >= 0 { d[j] = 0 }
        let orthant = (0..<n).map { j in x[j] != 0 ? (x[j] > 0 ? 1.0 : -1.0) : (pg[j] < 0 ? 1.0 : -1.0) }
        var step = s.isEmpty ? Swift.min(1, 1 / Swift.max((try! Linalg.dot(pg, pg)).squareRoot(), 1e-300)) : 1
        var accepted: (point: [Double], smooth: Double, gradient: [Double], value: Double)? = nil
        for _ in 0..<40 {
            var candidate = x
            try! axpy(step, d, &candidate)
            for j in 0..<penalizedCount where candidate[j] * orthant[j] < 0 { candidate[j] = 0 }
            var grad = [Double](repeating: 0, count: n)
            let value = try objective.evaluate(candidate, gradient: &grad)
            let total = value + penalty(candidate)
            var decrease = 0.0
            for j in 0..<n { decrease += pg[j] * (candidate[j] - x[j]) }
            if total.isFinite, total <= f + 1e-4 * decrease {
                accepted = (candidate, value, grad, total)
                break
            }
            step /= 2
        }
        guard let next = accepted else { break }
        iterations += 1
        var sNew = next.point
        try! axpy(-1, x, &sNew)
        var yNew = next.gradient
        try! axpy(-1, g, &yNew)
        let sy = try! Linalg.dot(sNew, yNew)
        if sy > 1e-10 * (try! Linalg.dot(yNew, yNew)) {
            if s.count == memory { s.removeFirst(); y.removeFirst(); rho.removeFirst() }
            s.append(sNew); y.append(yNew); rho.append(1 / sy)
        }
        let previous = f
        (x, smooth, g, f) = (next.point, next.smooth, next.gradient, next.value)
        pg = pseudoGradient(x, g)
        if maxAbs(pg) <= gradientTolerance || (previous - f) / Swift.max(abs(previous), abs(f), 1) <= 64 * Double.ulpOfOne {
            return MinimizationResult(solution: x, value: f, iterations: iterations, converged: true)
        }
    }
    return MinimizationResult(solution: x, value: f, iterations: iterations, converged: iterations < maxIterations)
}
