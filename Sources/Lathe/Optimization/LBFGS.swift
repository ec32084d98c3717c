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
        var d = g
        var alpha = [Double](repeating: 0, count: s.count)
        for k in stride(from: s.count - 1, through: 0, by: -1) {
            alpha[k] = rho[k] * dot(s[k], d)
            try! axpy(-alpha[k], y[k], &d)
        }
        if let last = s.indices.last {
            Linalg.scale(&d, by: dot(s[last], y[last]) / dot(y[last], y[last]))
        }
        for k in s.indices {
            let beta = rho[k] * dot(y[k], d)
            try! axpy(alpha[k] - beta, s[k], &d)
        }
        Linalg.scale(&d, by: -1)
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
