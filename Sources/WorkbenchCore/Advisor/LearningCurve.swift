import Foundation

/// How the score grows with the number of examples k: `score(k) = ceiling − amplitude · (k + 1)^−exponent`,
/// an inverse power law, the usual shape of learning curves (each doubling of examples gains a
/// little less than the one before, towards a ceiling).
package struct LearningCurve: Sendable, Hashable, Codable {
    package var ceiling: Double
    package var amplitude: Double
    package var exponent: Double
    /// Root mean squared error of the fit on the points it was fitted to.
    package var residual: Double

    package init(ceiling: Double, amplitude: Double, exponent: Double, residual: Double = 0) {
        self.ceiling = ceiling
        self.amplitude = amplitude
        self.exponent = exponent
        self.residual = residual
    }

    package func predict(_ k: Double) -> Double {
        ceiling - amplitude * pow(k + 1, -exponent)
    }

    /// True when more examples make things better.
    package var rises: Bool { amplitude > 0 && exponent > 0 }

    /// The examples needed to reach `target`, or nil when the ceiling is below it or the curve
    /// rises so slowly that it would take more than a million.
    package func examplesToReach(_ target: Double) -> Double? {
        guard rises else { return predict(0) >= target ? 0 : nil }
        guard target < ceiling else { return nil }
        let k = pow(amplitude / (ceiling - target), 1 / exponent) - 1
        guard k.isFinite, k <= 1_000_000 else { return nil }
        return max(0, k.rounded(.up))
    }

    /// The gain from doubling the examples from k.
    package func gainPerDoubling(at k: Double) -> Double {
        predict(2 * k + 1) - predict(k)
    }

    /// Least-squares fit to (k, score) points: for each exponent on a fine grid the ceiling and
    /// amplitude are a linear regression; the exponent with the smallest error wins. Needs at
    /// least four different k (three parameters fitted to three points say nothing); a curve that
    /// falls is returned flat at the mean.
    package static func fit(_ points: [(k: Double, score: Double)]) -> LearningCurve? {
        guard Set(points.map(\.k)).count >= minimumPoints else { return nil }
        var best: LearningCurve?
        var bestError = Double.infinity
        var exponent = 0.02
        while exponent <= maximumExponent {
            let xs = points.map { pow($0.k + 1, -exponent) }
            let ys = points.map(\.score)
            if let line = Statistics.leastSquares(xs, ys) {
                let amplitude = -line.slope
                let ceiling = line.intercept
                var error = 0.0
                for (x, y) in zip(xs, ys) {
                    let residual = y - (ceiling - amplitude * x)
                    error += residual * residual
                }
                if error < bestError {
                    bestError = error
                    best = LearningCurve(
                        ceiling: ceiling, amplitude: amplitude, exponent: exponent,
                        residual: (error / Double(points.count)).squareRoot())
                }
            }
            exponent += 0.01
        }
        if let fitted = best, !fitted.rises {
            let mean = Statistics.mean(points.map(\.score))
            return LearningCurve(ceiling: mean, amplitude: 0, exponent: 1, residual: fitted.residual)
        }
        return best
    }

    package static let minimumPoints = 4
    /// The top of the exponent's search: a fit that ends there is pinned to the grid, not the data.
    package static let maximumExponent = 6.0

    /// The fit's exponent is at the top of its search.
    package var exponentAtBound: Bool { exponent >= LearningCurve.maximumExponent - 0.011 }

    /// The curve as a formula, for reports.
    package var formula: String {
        guard rises else { return String(format: "score ≈ %.3f (flat)", ceiling) }
        return String(format: "score ≈ %.3f − %.3f·(k+1)^−%.2f", ceiling, amplitude, exponent)
    }
}
