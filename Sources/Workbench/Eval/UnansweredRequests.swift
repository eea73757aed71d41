import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

extension ResultRecord.ErrorKind {
    /// The kind of a request's failure, from the error the model client gave.
    init(_ error: any Error) {
        switch error {
        case let error as ModelError:
            switch error {
            case .promptTooLong: self = .promptTooLong
            case .status(let code, _, _, _):
                if error.isConfigurationRefusal {
                    self = .refused
                } else if (400..<500).contains(code) && code != 408 && code != 429 {
                    self = .rejected
                } else {
                    self = .noAnswer
                }
            case .malformed: self = .unreadable
            case .truncated, .timedOut: self = .noAnswer
            }
        default: self = .noAnswer
        }
    }

    /// The kind of a failure stored before kinds were, read from its sentence.
    init(legacy error: String) {
        if error.range(of: #"answered HTTP 40[134]\b"#, options: .regularExpression) != nil {
            self = .refused
        } else if error.range(of: #"the prompt is \d+ tokens"#, options: .regularExpression) != nil {
            self = .promptTooLong
        } else {
            self = .noAnswer
        }
    }
}

/// Requests of an evaluation failed, so its runs are incomplete: their scores cover only the
/// answered cases and no check can pass. What the user must do depends on why they failed,
/// so does the exit code: `cause` tells.
package struct UnansweredRequests: Error, Sendable, CustomStringConvertible {
    package enum Cause: Sendable {
        /// The server refuses the key, the URL or the model name (HTTP 401, 403, 404).
        case configuration
        /// A case's prompt does not fit the model's context: the template, the examples or the
        /// passages must be shorter.
        case input
        /// The runtime did not answer, or not usably.
        case runtime
    }

    package var cause: Cause
    package var failed: Int
    package var planned: Int
    package var run: Int
    /// The case (its id in the eval set) and the sentence of the failure the message names.
    package var caseName: String
    package var error: String
    /// The checks the command was asked for, which cannot pass (`--fail-under`, `--baseline`).
    package var checks: [String] = []

    /// What failed and how to ask again, the command named for the interface to word.
    package var message: Message {
        let gate = checks.isEmpty ? "" : ", so \(checks.joined(separator: " and ")) cannot pass"
        let incomplete = "the scores cover only the answered cases and the evaluation is incomplete\(gate)"
        switch cause {
        case .input:
            return
                "the model server refused case \(caseName) because its prompt does not fit: \(error); \(failed) of \(planned) requests failed, so \(incomplete) (\(command: "eval --resume \(run)") asks them again once the server has a larger context)"
        case .configuration, .runtime:
            return
                "\(failed) of \(planned) requests got no answer (the first: \(error)); \(incomplete); \(command: "eval --resume \(run)") tries them again"
        }
    }
}

extension UnansweredRequests: MessageError {
    package var exitCode: Int32 { cause.exitCode }
}

extension UnansweredRequests.Cause {
    /// The configuration's to fix (2), the input's (4) or the runtime's (3).
    package var exitCode: Int32 {
        switch self {
        case .configuration: ExitCode.usage
        case .input: ExitCode.badInput
        case .runtime: ExitCode.runtimeUnavailable
        }
    }
}

extension Workspace {
    /// Why the report's runs have failed requests, or nil when every request was answered. A
    /// refusal of the configuration comes first, then a prompt too long, then the runtime.
    package func unansweredRequests(in report: EvalReport) throws -> UnansweredRequests? {
        let failing = report.runs.filter { $0.failedRequests > 0 }
        guard let firstRun = failing.first else { return nil }
        var firsts: [(run: Int, failure: Store.FailedRequest, kind: ResultRecord.ErrorKind)] = []
        for run in failing {
            for (failure, _) in try store.failedRequestsByKind(runID: run.run.id) {
                firsts.append((run.run.id, failure, failure.kind ?? .init(legacy: failure.error)))
            }
        }
        let chosen =
            firsts.first { $0.kind == .refused } ?? firsts.first { $0.kind == .promptTooLong } ?? firsts.first
        let cause: UnansweredRequests.Cause =
            switch chosen?.kind {
            case .refused: .configuration
            case .promptTooLong: .input
            default: .runtime
            }
        var caseName = "?"
        if let caseID = chosen?.failure.caseID, let stored = try store.cases(rowIDs: [caseID])[caseID] {
            caseName = stored.evalCase.id
        }
        return UnansweredRequests(
            cause: cause, failed: failing.map(\.failedRequests).reduce(0, +),
            planned: report.runs.map(\.planned).reduce(0, +), run: chosen?.run ?? firstRun.run.id,
            caseName: caseName, error: chosen?.failure.error ?? "unknown")
    }
}
