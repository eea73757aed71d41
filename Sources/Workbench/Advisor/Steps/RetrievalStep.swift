import Foundation
import WorkbenchCore
import WorkbenchStore

/// The top passages (BM25) of the eval set's corpus for each case in the best variant's
/// `{{context}}` slot, compared with zero-shot by a paired test.
struct RetrievalStep: LadderStep {
    static let title = "Retrieval"

    func climb(_ context: AdviceContext) async throws -> AdviceStep {
        func skipped(_ reason: Message) -> AdviceStep { .skipped(Advice.Skipped(title: Self.title, reason: reason)) }
        guard let revision = context.bestRevision, let best = context.best else {
            return skipped("there is no zero-shot variant to give passages")
        }
        guard revision.file.body.variables.contains(TemplateBody.contextSlot) else {
            return skipped("\(revision.reference) has no {{context}} slot")
        }
        guard let corpusName = context.evalset.settings.corpus else {
            return skipped("no corpus is attached to the eval set (add \"corpus\": NAME to its settings)")
        }
        let passages = try context.workspace.library.passageCount(corpus: corpusName)
        guard (passages ?? 0) > 0 else {
            return skipped(
                "corpus \(corpusName) is \(passages == nil ? "not imported" : "empty"); add documents with \(command: "corpus add \(corpusName) PATH…")"
            )
        }
        let count = context.options.passages
        let options = context.base.with {
            $0.variants = context.pinned
            $0.strategy = Strategy(corpus: corpusName, passages: count)
        }
        let rag = try await context.runTogether("retrieval", [("retrieval", options)])[0].runs[0]
        context.ladderRuns.append(rag.run.id)
        context.add(
            try context.rung(
                rag, kind: .retrieval(passages: count), label: "retrieval (\(count) passages)",
                shipping: Shipping(
                    description:
                        "\(revision.reference) with the \(count) passages of corpus \(corpusName) that BM25 finds for each input",
                    revision: revision.reference)),
            options: options)
        return .retrieval(
            Advice.Retrieval(
                corpus: corpusName, passages: count, run: AdviceContext.summary(rag),
                comparison: Comparisons.paired(
                    rag.perCase, best.perCase, passFail: rag.isPassFail && best.isPassFail, seed: context.seed)))
    }
}
