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

/// Limited-memory BFGS as SciPy's L-BFGS-B runs it on an unbounded problem (Byrd, Lu, Nocedal
/// & Zhu 1995; Nocedal & Wright, algorithm 7.4), so that scikit-learn's `lbfgs` solver and this
/// one take the same steps and stop at the same iterate: the first step has length 1 along −g,
/// later steps start from 1, Moré–Thuente's line search (`ftol` 1e-3, `gtol` 0.9, `xtol` 0.1, at
/// most 50 evaluations), a pair is skipped when `sᵀy ≤ ε·(−gᵀs)`, and a failed line search
/// restarts from steepest descent once. Stops when the largest gradient component is at most
/// `gradientTolerance` or the relative decrease of the value falls to `64 ε` (scikit-learn's
/// setting), or after `maxIterations`.
/// Vector operations run on OpenBLAS's calling thread only (`BLAS.withSerialCalls`), leaving the
/// cores to the objective's parallel products.
func minimizeLBFGS<O: DifferentiableObjective>(
    _ objective: O, start: [Double], gradientTolerance: Double, maxIterations: Int, memory: Int = 10
) throws -> MinimizationResult {
    try BLAS.withSerialCalls {
        try lbfgs(objective, start: start, gradientTolerance: gradientTolerance, maxIterations: maxIterations, memory: memory)
    }
}

private func lbfgs<O: DifferentiableObjective>(
    _ objective: O, start: [Double], gradientTolerance: Double, maxIterations: Int, memory: Int
) throws -> MinimizationResult {
    let n = start.count
    var x = start
    var g = [Double](repeating: 0, count: n)
    var f = try objective.evaluate(x, gradient: &g)
    guard f.isFinite, g.allSatisfy(\.isFinite) else { throw FitError.nonFiniteModel }
    var pairs = CorrectionPairs(dimension: n, capacity: memory)
    var iterations = 0
    // Vector work goes to BLAS: with millions of parameters (20 classes × 130,000 terms) the
    // two-loop recursion dominates otherwise.
    func dot(_ a: [Double], _ b: [Double]) -> Double { try! Linalg.dot(a, b) }
    if maxAbs(g) <= gradientTolerance { return MinimizationResult(solution: x, value: f, iterations: 0, converged: true) }
    while iterations < maxIterations {
        let d = pairs.direction(g)
        let slope = dot(g, d)
        let initial = iterations == 0 ? 1 / dot(d, d).squareRoot() : 1
        guard slope < 0, initial.isFinite,
              let step = try moreThuenteStep(objective, x: x, f: f, slope: slope, direction: d, initial: initial)
        else {
            // Stale curvature pairs can spoil the direction: start again from steepest descent,
            // as L-BFGS-B does; without pairs there is nowhere left to go.
            if pairs.isEmpty { break }
            pairs.reset()
            continue
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
        if maxAbs(g) <= gradientTolerance { return MinimizationResult(solution: x, value: f, iterations: iterations, converged: true) }
        if (previous - f) / Swift.max(abs(previous), abs(f), 1) <= 64 * Double.ulpOfOne {
            return MinimizationResult(solution: x, value: f, iterations: iterations, converged: true)
        }
        let sy = dot(sNew, yNew)
        let curved = sy > Double.ulpOfOne * -slope * step.alpha
        try pairs.advance(to: g, adding: curved ? (sNew, yNew, sy) : nil, yIsGradientChange: true)
    }
    return MinimizationResult(solution: x, value: f, iterations: iterations, converged: maxAbs(g) <= gradientTolerance)
}

private struct Step {
    var alpha: Double
    var point: [Double]
    var value: Double
    var gradient: [Double]
}

/// A step along `direction` found by Moré & Thuente's line search ("Line search algorithms with
/// guaranteed sufficient decrease", ACM TOMS 20(3), 1994, as in MINPACK-2), which L-BFGS-B uses:
/// sufficient decrease `ftol` = 1e-3 and curvature `gtol` = 0.9, safeguarded cubic and quadratic
/// steps, at most 50 evaluations. A step where the interval can shrink no further is accepted,
/// as L-BFGS-B does; nil when the evaluations run out.
private func moreThuenteStep<O: DifferentiableObjective>(
    _ objective: O, x: [Double], f finit: Double, slope ginit: Double, direction d: [Double], initial: Double
) throws -> Step? {
    let ftol = 1e-3, gtol = 0.9, xtol = 0.1, stpmax = 1e10
    let gtest = ftol * ginit
    var bracketed = false, firstStage = true
    // The best step so far (x) and the other end of the interval (y), with values and slopes.
    var stx = 0.0, fx = finit, gx = ginit
    var sty = 0.0, fy = finit, gy = ginit
    var width = stpmax, width1 = 2 * stpmax
    var stp = initial
    var stmin = 0.0, stmax = initial * 5
    for _ in 0..<50 {
        var point = x
        try! axpy(stp, d, &point)
        var gradient = [Double](repeating: 0, count: x.count)
        let value = try objective.evaluate(point, gradient: &gradient)
        let g = try! Linalg.dot(gradient, d)
        guard value.isFinite, g.isFinite else {
            // Overflow far along the line: pull back towards the best step.
            bracketed = true
            stmax = stp
            stp = stx + 0.1 * (stp - stx)
            continue
        }
        let ftest = finit + stp * gtest
        if firstStage, value <= ftest, g >= 0 { firstStage = false }
        let stuck = (bracketed && (stp <= stmin || stp >= stmax || stmax - stmin <= xtol * stmax))
            || (stp == stpmax && value <= ftest && g <= gtest)
        if stuck || (value <= ftest && abs(g) <= gtol * -ginit) {
            return Step(alpha: stp, point: point, value: value, gradient: gradient)
        }
        if firstStage, value <= fx, value > ftest {
            // A lower value without sufficient decrease: step on the modified function
            // ψ(α) = f(α) − f(0) − ftol·α·f'(0), whose minimizers the first stage looks for.
            var (mx, my, mp) = ((stx, fx - stx * gtest, gx - gtest), (sty, fy - sty * gtest, gy - gtest),
                                (stp, value - stp * gtest, g - gtest))
            stp = safeguardedStep(&mx, &my, mp, bracketed: &bracketed, lower: stmin, upper: stmax)
            (stx, fx, gx) = (mx.0, mx.1 + mx.0 * gtest, mx.2 + gtest)
            (sty, fy, gy) = (my.0, my.1 + my.0 * gtest, my.2 + gtest)
        } else {
            var (px, py) = ((stx, fx, gx), (sty, fy, gy))
            stp = safeguardedStep(&px, &py, (stp, value, g), bracketed: &bracketed, lower: stmin, upper: stmax)
            (stx, fx, gx) = px
            (sty, fy, gy) = py
        }
        if bracketed {
            // Bisect when the interval has not shrunk enough over two steps.
            if abs(sty - stx) >= 0.66 * width1 { stp = stx + 0.5 * (sty - stx) }
            width1 = width
            width = abs(sty - stx)
            stmin = Swift.min(stx, sty)
            stmax = Swift.max(stx, sty)
        } else {
            stmin = stp + 1.1 * (stp - stx)
            stmax = stp + 4 * (stp - stx)
        }
        stp = Swift.min(Swift.max(stp, 0), stpmax)
        if bracketed && (stp <= stmin || stp >= stmax || stmax - stmin <= xtol * stmax) { stp = stx }
    }
    return nil
}

/// One safeguarded step of Moré–Thuente (MINPACK-2's `dcstep`): from the best point `a`, the
/// interval's other end `b` and the trial `t` (each step, value, slope), the next trial step,
/// updating `a`, `b` and whether a minimizer is bracketed. The four cases are the paper's.
private func safeguardedStep(
    _ a: inout (Double, Double, Double), _ b: inout (Double, Double, Double), _ t: (Double, Double, Double),
    bracketed: inout Bool, lower: Double, upper: Double
) -> Double {
    let (stx, fx, dx) = a, (sty, fy, dy) = b, (stp, fp, dp) = t
    let sameSign = dp * (dx / abs(dx)) >= 0
    /// The cubic's minimizer from `(s1, f1, d1)` towards `(s2, f2, d2)`, for the cases where it
    /// exists; `clampRoot` guards the square root when the cubic may have no minimizer.
    func cubic(_ s1: Double, _ f1: Double, _ d1: Double, _ s2: Double, _ f2: Double, _ d2: Double, clampRoot: Bool) -> (gamma: Double, theta: Double) {
        let theta = 3 * (f1 - f2) / (s2 - s1) + d1 + d2
        let scale = Swift.max(abs(theta), abs(d1), abs(d2))
        var radicand = (theta / scale) * (theta / scale) - (d1 / scale) * (d2 / scale)
        if clampRoot { radicand = Swift.max(0, radicand) }
        return (scale * radicand.squareRoot(), theta)
    }
    var next: Double
    if fp > fx {
        // Case 1: a higher value; the minimizer is bracketed. Take the cubic step if it is closer
        // to the best point, else the average of the cubic and quadratic steps.
        var (gamma, theta) = cubic(stx, fx, dx, stp, fp, dp, clampRoot: false)
        if stp < stx { gamma = -gamma }
        let p = (gamma - dx) + theta, q = ((gamma - dx) + gamma) + dp
        let stpc = stx + (p / q) * (stp - stx)
        let stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2) * (stp - stx)
        next = abs(stpc - stx) < abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2
        bracketed = true
    } else if !sameSign {
        // Case 2: slopes of opposite sign; bracketed. The step farther from the trial.
        var (gamma, theta) = cubic(stx, fx, dx, stp, fp, dp, clampRoot: false)
        if stp > stx { gamma = -gamma }
        let p = (gamma - dp) + theta, q = ((gamma - dp) + gamma) + dx
        let stpc = stp + (p / q) * (stx - stp)
        let stpq = stp + (dp / (dp - dx)) * (stx - stp)
        next = abs(stpc - stp) > abs(stpq - stp) ? stpc : stpq
        bracketed = true
    } else if abs(dp) < abs(dx) {
        // Case 3: same sign, the slope shrinking in magnitude. The cubic step only if the cubic
        // tends to infinity in the step's direction or its minimum lies beyond the trial.
        var (gamma, theta) = cubic(stx, fx, dx, stp, fp, dp, clampRoot: true)
        if stp > stx { gamma = -gamma }
        let p = (gamma - dp) + theta, q = (gamma + (dx - dp)) + gamma
        let r = p / q
        let stpc = r < 0 && gamma != 0 ? stp + r * (stx - stp) : (stp > stx ? upper : lower)
        let stpq = stp + (dp / (dp - dx)) * (stx - stp)
        if bracketed {
            next = abs(stpc - stp) < abs(stpq - stp) ? stpc : stpq
            next = stp > stx ? Swift.min(stp + 0.66 * (sty - stp), next) : Swift.max(stp + 0.66 * (sty - stp), next)
        } else {
            next = abs(stpc - stp) > abs(stpq - stp) ? stpc : stpq
            next = Swift.max(lower, Swift.min(upper, next))
        }
    } else if bracketed {
        // Case 4: same sign, the slope not shrinking; the cubic through the trial and the
        // interval's other end.
        var (gamma, theta) = cubic(stp, fp, dp, sty, fy, dy, clampRoot: false)
        if stp > sty { gamma = -gamma }
        let p = (gamma - dp) + theta, q = ((gamma - dp) + gamma) + dy
        next = stp + (p / q) * (sty - stp)
    } else {
        next = stp > stx ? upper : lower
    }
    if fp > fx {
        b = t
    } else {
        if !sameSign { b = a }
        a = t
    }
    return next
}

/// The last `capacity` correction pairs of L-BFGS (steps `s` and gradient changes `y`) and the
/// products `−H·g` needs, in Byrd, Nocedal & Schnabel's compact form (Math. Programming 63,
/// 1994, eq. 3.1): `H = γI + [S γY]·M·[Sᵀ; γYᵀ]` with `M` from the small matrices `R` (the upper
/// triangle of `SᵀY`) and `YᵀY`. The same `H` as the two-loop recursion, but the stored vectors
/// are read by two BLAS calls per iteration (one `gemm` against the new `y` and `g`, one `gemv`
/// for the direction) instead of forty level-1 passes: with 20 classes × 130,000 terms the
/// vector traffic, not the arithmetic, is what costs.
struct CorrectionPairs {
    /// Rows are slots; slot `i` of `steps` and `changes` hold one pair. Slots fill from 0, then
    /// the oldest is reused, so the used slots are always the leading rows.
    private var steps: Matrix
    private var changes: Matrix
    /// The used slots, oldest pair first.
    private var order: [Int] = []
    /// By slot: `sy[i][j] = s_iᵀy_j`, `yy[i][j] = y_iᵀy_j`.
    private var sy: [[Double]]
    private var yy: [[Double]]
    /// By slot, for the current gradient: `s_iᵀg` and `y_iᵀg`.
    private var sg: [Double]
    private var yg: [Double]
    /// `sᵀy / yᵀy` of the newest pair: the initial inverse-Hessian scale.
    private var gamma = 1.0

    init(dimension n: Int, capacity: Int) {
        steps = Matrix(rowCount: capacity, columnCount: n)
        changes = Matrix(rowCount: capacity, columnCount: n)
        sy = Array(repeating: Array(repeating: 0, count: capacity), count: capacity)
        yy = sy
        sg = Array(repeating: 0, count: capacity)
        yg = sg
    }

    var isEmpty: Bool { order.isEmpty }

    /// Forgets every pair (a restart from steepest descent).
    mutating func reset() {
        order.removeAll()
        gamma = 1
    }

    /// Moves to the new gradient `g`, first storing the pair `(s, y)` (with `sᵀy`) when given,
    /// in place of the oldest when full.
    /// - Parameter yIsGradientChange: `y` is `g` minus the gradient of the previous call, as in
    ///   plain L-BFGS; then the stored pairs' products with `y` are differences of their products
    ///   with the two gradients, and the stored vectors are read once instead of twice.
    mutating func advance(to g: [Double], adding pair: (s: [Double], y: [Double], sy: Double)?, yIsGradientChange: Bool) throws {
        let used = order.count
        let probes = try Matrix(rows: pair.map { yIsGradientChange ? [g] : [$0.y, g] } ?? [g])
        let withSteps = try steps.leadingRows(used, timesTransposeOf: probes)
        let withChanges = try changes.leadingRows(used, timesTransposeOf: probes)
        let gColumn = probes.rowCount - 1
        if let (s, y, syNew) = pair {
            let slot = used < steps.rowCount ? used : order.removeFirst()
            for other in order {
                let sy = yIsGradientChange ? withSteps[other, gColumn] - sg[other] : withSteps[other, 0]
                let yy = yIsGradientChange ? withChanges[other, gColumn] - yg[other] : withChanges[other, 0]
                self.sy[other][slot] = sy
                self.yy[other][slot] = yy
                self.yy[slot][other] = yy
            }
            let yyNew = try dot(y, y)
            sy[slot][slot] = syNew
            yy[slot][slot] = yyNew
            sg[slot] = try dot(s, g)
            yg[slot] = try dot(y, g)
            steps.setRow(slot, s)
            changes.setRow(slot, y)
            order.append(slot)
            gamma = syNew / yyNew
        }
        for slot in order.dropLast(pair == nil ? 0 : 1) {
            sg[slot] = withSteps[slot, gColumn]
            yg[slot] = withChanges[slot, gColumn]
        }
    }

    /// The quasi-Newton direction `−H·g` for the gradient last passed to `advance`; `−g` with
    /// no pairs.
    func direction(_ g: [Double]) -> [Double] {
        var d = g
        Linalg.scale(&d, by: order.isEmpty ? -1 : -gamma)
        let m = order.count
        guard m > 0 else { return d }
        // t = R⁻¹·Sᵀg (back substitution; R is upper triangular with sᵢᵀyᵢ > 0 on the diagonal).
        var t = [Double](repeating: 0, count: m)
        for k in stride(from: m - 1, through: 0, by: -1) {
            var v = sg[order[k]]
            for l in (k + 1)..<m { v -= sy[order[k]][order[l]] * t[l] }
            t[k] = v / sy[order[k]][order[k]]
        }
        // u = (D + γ·YᵀY)·t − γ·Yᵀg, then p = R⁻ᵀ·u (forward substitution).
        var p = [Double](repeating: 0, count: m)
        for k in 0..<m {
            var u = sy[order[k]][order[k]] * t[k] - gamma * yg[order[k]]
            for l in 0..<m { u += gamma * yy[order[k]][order[l]] * t[l] }
            for l in 0..<k { u -= sy[order[l]][order[k]] * p[l] }
            p[k] = u / sy[order[k]][order[k]]
        }
        // d = −γg − S·p + γ·Y·t, with the weights laid out by slot.
        var stepWeights = [Double](repeating: 0, count: m), changeWeights = stepWeights
        for k in 0..<m {
            stepWeights[order[k]] = -p[k]
            changeWeights[order[k]] = gamma * t[k]
        }
        try! steps.addLeadingRows(m, weightedBy: stepWeights, to: &d)
        try! changes.addLeadingRows(m, weightedBy: changeWeights, to: &d)
        return d
    }
}

/// Orthant-wise limited-memory quasi-Newton (OWL-QN; Andrew & Gao, ICML 2007): minimizes
/// `f(w) + λ·Σ_{j < penalized} |w_j|` for smooth `f`, so L1-penalized weights reach exact zeros.
/// Stops as `minimizeLBFGS` does, on the pseudo-gradient.
func minimizeOWLQN<O: DifferentiableObjective>(
    _ objective: O, start: [Double], l1: Double, penalizedCount: Int,
    gradientTolerance: Double, maxIterations: Int, memory: Int = 10
) throws -> MinimizationResult {
    try BLAS.withSerialCalls {
        try owlqn(objective, start: start, l1: l1, penalizedCount: penalizedCount,
                  gradientTolerance: gradientTolerance, maxIterations: maxIterations, memory: memory)
    }
}

private func owlqn<O: DifferentiableObjective>(
    _ objective: O, start: [Double], l1: Double, penalizedCount: Int,
    gradientTolerance: Double, maxIterations: Int, memory: Int
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
    var pairs = CorrectionPairs(dimension: n, capacity: memory)
    var pg = pseudoGradient(x, g)
    var iterations = 0
    if maxAbs(pg) <= gradientTolerance { return MinimizationResult(solution: x, value: f, iterations: 0, converged: true) }
    while iterations < maxIterations {
        var d = pairs.direction(pg)
        // Keep only components that agree with steepest descent.
        for j in 0..<n where d[j] * pg[j] >= 0 { d[j] = 0 }
        let orthant = (0..<n).map { j in x[j] != 0 ? (x[j] > 0 ? 1.0 : -1.0) : (pg[j] < 0 ? 1.0 : -1.0) }
        var step = pairs.isEmpty ? Swift.min(1, 1 / Swift.max((try! Linalg.dot(pg, pg)).squareRoot(), 1e-300)) : 1
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
        let curved = sy > 1e-10 * (try! Linalg.dot(yNew, yNew))
        let previous = f
        (x, smooth, g, f) = (next.point, next.smooth, next.gradient, next.value)
        pg = pseudoGradient(x, g)
        try pairs.advance(to: pg, adding: curved ? (sNew, yNew, sy) : nil, yIsGradientChange: false)
        if maxAbs(pg) <= gradientTolerance || (previous - f) / Swift.max(abs(previous), abs(f), 1) <= 64 * Double.ulpOfOne {
            return MinimizationResult(solution: x, value: f, iterations: iterations, converged: true)
        }
    }
    return MinimizationResult(solution: x, value: f, iterations: iterations, converged: iterations < maxIterations)
}

/// The largest magnitude in `v` (the sup norm both minimizers stop on).
private func maxAbs(_ v: [Double]) -> Double {
    v.withUnsafeBufferPointer { p in
        var m = 0.0
        for value in p { m = max(m, abs(value)) }
        return m
    }
}
