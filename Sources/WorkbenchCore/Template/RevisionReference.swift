/// How a revision is named on the command line: `template/variant@N`; without `@N` the newest,
/// and without `/variant` every variant of the template.
package struct RevisionReference: Sendable, Hashable, CustomStringConvertible {
    package var template: String
    package var variant: String?
    package var number: Int?

    package init(template: String, variant: String? = nil, number: Int? = nil) {
        self.template = template
        self.variant = variant
        self.number = number
    }

    /// Parses `template`, `template/variant` or `template/variant@N`.
    package init(parsing text: String) throws {
        var rest = Substring(text)
        var number: Int?
        if let at = rest.lastIndex(of: "@") {
            let digits = rest[rest.index(after: at)...]
            guard let n = Int(digits), n > 0 else {
                throw Refusal(
                    "\"\(text)\": the revision after '@' must be a number from 1, as in sentiment/question@2")
            }
            number = n
            rest = rest[..<at]
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty, parts.count == 1 || !parts[1].isEmpty else {
            throw Refusal(
                "\"\(text)\" is not a template reference; write template, template/variant or template/variant@N")
        }
        if number != nil && parts.count == 1 {
            throw Refusal("\"\(text)\": name the variant before '@', as in \(parts[0])/VARIANT@\(number!)")
        }
        self.init(template: String(parts[0]), variant: parts.count == 2 ? String(parts[1]) : nil, number: number)
    }

    package var description: String {
        var text = template
        if let variant { text += "/" + variant }
        if let number { text += "@\(number)" }
        return text
    }
}
