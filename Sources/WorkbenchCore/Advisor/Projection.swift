import Foundation

/// Where the few-shot learning curve says more examples would lead: a scenario shown beside the
/// measured ladder, never part of the decision. The curve is checked before it is believed — fit
/// without the largest k, it must predict that k (the backtest) — and is never read further out
/// than that check reached; its band comes from refitting it to the cases resampled, widened by
/// the backtest's miss.
package struct Projection: Sendable, Hashable, Codable {
    package struct Point: Sendable, Hashable, Codable {
        package var k: Int
        package var score: Double
    }

    /// The curve fitted without the largest k, against what that k measured.
    package struct Backtest: Sendable, Hashable, Codable {
        package var fittedUpTo: Int
        package var k: Int
        package var predicted: Double
        package var observed: Double
        package var error: Double { predicted - observed }
    }

    /// The curve's estimate at k examples with its band.
    package struct Scenario: Sendable, Hashable, Codable {
        package var k: Int
        package var interval: Interval
    }

    package var points: [Point]
    package var curve: LearningCurve?
    package var backtest: Backtest?
    /// The largest k the curve may be read at: as far beyond the largest measured k (in k + 1) as
    /// the backtest reached beyond the points it was fitted to.
    package var supportedUpTo: Int?
    /// Why the curve is not to be believed; nil when it passed its checks.
    package var distrust: Message?
    /// Examples the curve says reach the target, when that is within what it supports.
    package var examplesToReach: Int?
    /// The curve at the train split's size: as if every train example could be shown.
    package var atTrainSize: Scenario?
    /// Why there is no scenario at the train split's size.
    package var atTrainSizeRefused: String?

    /// A miss larger than this in the backtest means the curve does not describe the data.
    package static let backtestTolerance = 0.05

    package var trusted: Bool { curve != nil && distrust == nil }

    /// Fits and checks the curve over `series`: per-case scores at each k (k = 0 is zero-shot;
    /// random draws averaged per case). Points with no scored case are left out.
    package static func project(
        _ series: [(k: Int, perCase: [Int: Double])], target: Double, trainSize: Int, resamples: Int = 200,
        seed: UInt64 = 1
    ) -> Projection {
        let usable = series.filter { !$0.perCase.isEmpty }.sorted { $0.k < $1.k }
        let points = usable.map { Point(k: $0.k, score: Statistics.mean(Array($0.perCase.values))) }
        var projection = Projection(points: points)
        let distinct = Set(points.map(\.k)).count
        guard distinct >= LearningCurve.minimumPoints,
            let curve = LearningCurve.fit(points.map { (Double($0.k), $0.score) })
        else {
            projection.distrust =
                "a curve needs scores at \(LearningCurve.minimumPoints) or more different k, and \(distinct) were measured (a larger \(setting: "max-shots") measures more)"
            return projection
        }
        projection.curve = curve
        guard distinct >= LearningCurve.minimumPoints + 1 else {
            projection.distrust =
                "checking the curve needs one more k than fitting it (\(LearningCurve.minimumPoints + 1)), and \(distinct) were measured"
            return projection
        }
        let last = points.last!
        let earlier = points.filter { $0.k < last.k }
        if let partial = LearningCurve.fit(earlier.map { (Double($0.k), $0.score) }) {
            let backtest = Backtest(
                fittedUpTo: earlier.last!.k, k: last.k, predicted: partial.predict(Double(last.k)), observed: last.score
            )
            projection.backtest = backtest
            let reach = Double(last.k + 1) / Double(backtest.fittedUpTo + 1)
            projection.supportedUpTo = Int((Double(last.k + 1) * reach).rounded(.down)) - 1
            if abs(backtest.error) > backtestTolerance {
                projection.distrust = Message(
                    String(
                        format:
                            "fitted without k = %d, the curve predicted %.3f there and %.3f was measured (a miss of %.3f)",
                        last.k, backtest.predicted, backtest.observed, abs(backtest.error)))
            }
        }
        if curve.ceiling > 1 {
            projection.distrust =
                projection.distrust ?? Message(String(format: "its ceiling, %.3f, is above 1", curve.ceiling))
        } else if curve.exponentAtBound {
            projection.distrust =
                projection.distrust ?? "its exponent is pinned at the edge of the search, not set by the data"
        }
        guard projection.trusted, let supported = projection.supportedUpTo else { return projection }
        if let needed = curve.examplesToReach(target), Int(needed) <= supported {
            projection.examplesToReach = Int(needed)
        }
        if trainSize <= supported {
            projection.atTrainSize = Scenario(
                k: trainSize,
                interval: band(
                    at: trainSize, usable, curve: curve, widen: abs(projection.backtest?.error ?? 0),
                    resamples: resamples, seed: seed))
        } else {
            projection.atTrainSizeRefused =
                "the curve is checked up to about k = \(supported), and the \(trainSize) train cases are beyond that"
        }
        return projection
    }

    /// The curve's estimate at `k` with a 95% band from refitting it to the cases resampled
    /// (the same cases at every k, so the points move together), widened by `widen` each way.
    static func band(
        at k: Int, _ series: [(k: Int, perCase: [Int: Double])], curve: LearningCurve, widen: Double, resamples: Int,
        seed: UInt64
    ) -> Interval {
        let ids = Array(Set(series.flatMap(\.perCase.keys))).sorted()
        var generator = SeededGenerator(seed: seed)
        var predictions: [Double] = []
        for _ in 0..<resamples {
            let drawn = (0..<ids.count).map { _ in ids[Int(generator.next() % UInt64(ids.count))] }
            let points = series.compactMap { point -> (k: Double, score: Double)? in
                let scores = drawn.compactMap { point.perCase[$0] }
                return scores.isEmpty ? nil : (Double(point.k), Statistics.mean(scores))
            }
            if let refit = LearningCurve.fit(points) { predictions.append(refit.predict(Double(k))) }
        }
        let estimate = min(1, max(0, curve.predict(Double(k))))
        guard !predictions.isEmpty else { return Interval(estimate: estimate, lower: 0, upper: 1) }
        return Interval(
            estimate: estimate, lower: max(0, min(estimate, Statistics.quantile(predictions, 0.025)) - widen),
            upper: min(1, max(estimate, Statistics.quantile(predictions, 0.975)) + widen))
    }

    init(points: [Point]) {
        self.points = points
    }
}
