import WorkbenchCore
import WorkbenchStore

/// What a workspace has imported, as its store holds it: templates and their revisions, eval sets
/// and their cases, corpora. Finds each by name (suggesting the nearest when there is none),
/// resolves a reference to a revision, and searches for the train cases most like an input and
/// the passages that answer it. It reads and writes the store only; no model, no user files.
package struct Library {
    package let store: Store

    package init(store: Store) {
        self.store = store
    }
}
