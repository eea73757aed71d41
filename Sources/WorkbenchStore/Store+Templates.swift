import WorkbenchCore

package struct TemplateRecord: Sendable, Hashable {
    package var id: Int
    package var name: String
    package var createdAt: String
}

package struct VariantRecord: Sendable, Hashable {
    package var id: Int
    package var templateID: Int
    package var name: String
    package var createdAt: String
}

/// One immutable revision of a variant: its canonical `.prompt` text and where it came from.
package struct RevisionRecord: Sendable, Hashable {
    package var id: Int
    package var variantID: Int
    package var number: Int
    package var hash: String
    package var source: String
    package var origin: String
    package var note: String
    package var createdAt: String
}

/// A template with its variants and how many revisions each has, for listings.
package struct TemplateSummary: Sendable {
    package var template: TemplateRecord
    package var variants: [(name: String, revisions: Int, latestHash: String, updatedAt: String)]
}

extension Store {
    /// Names are stored composed (`Names.canonical`) and found by either spelling; one stored
    /// as typed before names were composed is still found by that spelling.
    package func template(named name: String) throws -> TemplateRecord? {
        try database.queryFirst(
            "SELECT id, name, created_at FROM templates WHERE name IN (?1, ?2) ORDER BY name = ?1 DESC",
            .text(Names.canonical(name)), .text(name), map: Store.template)
    }

    package func template(id: Int) throws -> TemplateRecord? {
        try database.queryFirst(
            "SELECT id, name, created_at FROM templates WHERE id = ?", SQLValue(id), map: Store.template)
    }

    package func templates() throws -> [TemplateRecord] {
        try database.query("SELECT id, name, created_at FROM templates ORDER BY name", map: Store.template)
    }

    /// The template called `name`, created when it does not exist yet.
    package func ensureTemplate(named name: String) throws -> TemplateRecord {
        if let existing = try template(named: name) { return existing }
        try database.run("INSERT INTO templates (name) VALUES (?)", .text(Names.canonical(name)))
        return try template(id: Int(database.lastInsertRowID))!
    }

    package func variants(templateID: Int) throws -> [VariantRecord] {
        try database.query(
            "SELECT id, template_id, name, created_at FROM variants WHERE template_id = ? ORDER BY name",
            SQLValue(templateID), map: Store.variant)
    }

    package func variant(templateID: Int, named name: String) throws -> VariantRecord? {
        try database.queryFirst(
            """
            SELECT id, template_id, name, created_at FROM variants
            WHERE template_id = ?1 AND name IN (?2, ?3) ORDER BY name = ?2 DESC
            """,
            SQLValue(templateID), .text(Names.canonical(name)), .text(name), map: Store.variant)
    }

    package func variant(id: Int) throws -> VariantRecord? {
        try database.queryFirst(
            "SELECT id, template_id, name, created_at FROM variants WHERE id = ?", SQLValue(id), map: Store.variant)
    }

    package func ensureVariant(templateID: Int, named name: String) throws -> VariantRecord {
        if let existing = try variant(templateID: templateID, named: name) { return existing }
        try database.run(
            "INSERT INTO variants (template_id, name) VALUES (?, ?)", SQLValue(templateID), .text(Names.canonical(name))
        )
        return try variant(id: Int(database.lastInsertRowID))!
    }

    package func revisions(variantID: Int) throws -> [RevisionRecord] {
        try database.query(
            "SELECT \(Store.revisionColumns) FROM revisions WHERE variant_id = ? ORDER BY number",
            SQLValue(variantID), map: Store.revision)
    }

    package func latestRevision(variantID: Int) throws -> RevisionRecord? {
        try database.queryFirst(
            "SELECT \(Store.revisionColumns) FROM revisions WHERE variant_id = ? ORDER BY number DESC LIMIT 1",
            SQLValue(variantID), map: Store.revision)
    }

    package func revision(variantID: Int, number: Int) throws -> RevisionRecord? {
        try database.queryFirst(
            "SELECT \(Store.revisionColumns) FROM revisions WHERE variant_id = ? AND number = ?",
            SQLValue(variantID), SQLValue(number), map: Store.revision)
    }

    package func revision(id: Int) throws -> RevisionRecord? {
        try database.queryFirst(
            "SELECT \(Store.revisionColumns) FROM revisions WHERE id = ?", SQLValue(id), map: Store.revision)
    }

    /// Appends a revision numbered one past the newest.
    package func addRevision(variantID: Int, source: String, hash: String, origin: String, note: String) throws
        -> RevisionRecord
    {
        let next = (try latestRevision(variantID: variantID)?.number ?? 0) + 1
        try database.run(
            "INSERT INTO revisions (variant_id, number, hash, source, origin, note) VALUES (?, ?, ?, ?, ?, ?)",
            SQLValue(variantID), SQLValue(next), .text(hash), .text(source), .text(origin), .text(note))
        return try revision(id: Int(database.lastInsertRowID))!
    }

    /// Every template with its variants, revision counts and newest hash, in one query.
    package func templateSummaries() throws -> [TemplateSummary] {
        let rows = try database.query(
            """
            SELECT t.id, t.name, t.created_at, v.name,
                   (SELECT COUNT(*) FROM revisions r WHERE r.variant_id = v.id),
                   (SELECT r.hash FROM revisions r WHERE r.variant_id = v.id ORDER BY r.number DESC LIMIT 1),
                   (SELECT r.created_at FROM revisions r WHERE r.variant_id = v.id ORDER BY r.number DESC LIMIT 1)
            FROM templates t LEFT JOIN variants v ON v.template_id = t.id
            ORDER BY t.name, v.name
            """
        ) { row in
            (
                TemplateRecord(id: row.int(0), name: row.text(1), createdAt: row.text(2)),
                row.optionalText(3), row.int(4), row.text(5), row.text(6)
            )
        }
        var summaries: [TemplateSummary] = []
        for (template, variant, count, hash, updated) in rows {
            if summaries.last?.template.id != template.id {
                summaries.append(TemplateSummary(template: template, variants: []))
            }
            if let variant {
                summaries[summaries.count - 1].variants.append((variant, count, hash, updated))
            }
        }
        return summaries
    }

    static let revisionColumns = "id, variant_id, number, hash, source, origin, note, created_at"

    static func revision(_ row: Row) -> RevisionRecord {
        RevisionRecord(
            id: row.int(0), variantID: row.int(1), number: row.int(2), hash: row.text(3), source: row.text(4),
            origin: row.text(5), note: row.text(6), createdAt: row.text(7))
    }

    static func template(_ row: Row) -> TemplateRecord {
        TemplateRecord(id: row.int(0), name: row.text(1), createdAt: row.text(2))
    }

    static func variant(_ row: Row) -> VariantRecord {
        VariantRecord(id: row.int(0), templateID: row.int(1), name: row.text(2), createdAt: row.text(3))
    }
}
