import Testing

@testable import WorkbenchCore

struct DisplayWidthTests {
    @Test(arguments: [
        ("abc", 3), ("日本語", 6), ("ｆｕｌｌ", 8), ("ﾒｰﾙ便", 5), ("👍", 2), ("👍🏽", 2), ("e\u{301}", 1), ("한국", 4), ("", 0),
    ])
    func measuresTerminalColumns(text: String, width: Int) {
        #expect(DisplayWidth.of(text) == width)
    }

    @Test func truncatesAndPadsByColumns() {
        #expect(DisplayWidth.truncate("配送はいつですか", to: 7) == "配送は…")
        #expect(DisplayWidth.truncate("short", to: 10) == "short")
        #expect(DisplayWidth.pad("返品", to: 6) == "返品  ")
        #expect(DisplayWidth.pad("42", to: 4, right: true) == "  42")
    }
}

struct LineDiffTests {
    @Test func showsChangedLinesWithContext() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh"
        let new = "a\nb\nc\nD\ne\nf\ng\nh\ni"
        let diff = LineDiff(old: old, new: new)
        #expect(diff.addedCount == 2)
        #expect(diff.removedCount == 1)
        #expect(
            diff.unified(context: 1) == [
                "@@ -3,3 +3,3 @@", " c", "-d", "+D", " e", "@@ -8,1 +8,2 @@", " h", "+i",
            ])
    }

    @Test func identicalTextsHaveNoHunks() {
        #expect(LineDiff(old: "x\ny", new: "x\ny").unified().isEmpty)
        #expect(LineDiff(old: "x\ny", new: "x\ny").isEmpty)
    }
}

struct SuggestTests {
    @Test(
        arguments: [
            ("tempalte", "template"), ("evalst", "evalset"), ("lsit", "list"), ("imprt", "import"), ("zzzz", nil),
        ] as [(String, String?)])
    func suggestsTheNearestWord(word: String, expected: String?) {
        #expect(Suggest.nearest(to: word, in: ["template", "evalset", "list", "import", "init"]) == expected)
    }

    @Test func computesEditDistances() {
        #expect(EditDistance.levenshtein(Array("kitten"), Array("sitting")) == 3)
        #expect(EditDistance.levenshtein(Array("配送"), Array("返品")) == 2)
        #expect(EditDistance.longestCommonSubsequence(Array("ABCBDAB"), Array("BDCABA")) == 4)
    }
}

struct ChunkerTests {
    @Test func cutsAtSectionsAndTitlesEveryPassage() {
        let text = """
            # Leave policy

            Employees receive 27 days.

            ## Sick leave
            Report by 09:30.

            Second paragraph.
            """
        let passages = Chunker.passages(of: text, fallbackTitle: "03-leave")
        #expect(
            passages == [
                Passage(title: "Leave policy", body: "Employees receive 27 days."),
                Passage(title: "Leave policy", body: "Sick leave\nReport by 09:30.\n\nSecond paragraph."),
            ])
    }

    @Test func windowsLineEndingsCutTheSame() {
        let text = "# Leave\n\nEmployees receive 27 days.\n\n## Sick leave\nReport by 09:30.\n"
        #expect(
            Chunker.passages(of: text.replacingOccurrences(of: "\n", with: "\r\n"), fallbackTitle: "x")
                == Chunker.passages(of: text, fallbackTitle: "x"))
        #expect("a\r\nb\nc\r\n".lines() == ["a", "b", "c", ""])
    }

    @Test func splitsALongJapaneseParagraphAtSentenceEnds() {
        let sentence = "配送は通常三日以内に行われます。"
        let paragraph = String(repeating: sentence, count: 10)
        let passages = Chunker.passages(of: paragraph, fallbackTitle: "配送", maxCharacters: 40)
        #expect(passages.count == 5)
        #expect(passages.allSatisfy { $0.body.count <= 40 && $0.body.hasSuffix("。") && $0.title == "配送" })
        #expect(passages.map(\.body).joined() == paragraph)
    }
}

struct SearchTextTests {
    @Test(arguments: [
        "It's the Tide-Table, v2.0 (final)!", "Muster Point B at 09:30", "UPPER lower 123abc", "",
    ])
    func asciiFastPathMatchesTheGeneralOne(text: String) {
        // The general path, forced by a non-ASCII character that is then dropped: "·" separates.
        let general = SearchText.tokens(text + "·")
        #expect(SearchText.tokens(text) == general)
    }
}

struct NormalizerTableTests {
    /// The ASCII tables say what the Unicode properties say, character by character.
    @Test func asciiTablesAgreeWithUnicodeProperties() {
        for value in UInt32(0)..<0x80 {
            let scalar = Unicode.Scalar(value)!
            #expect(TextNormalizer.isWhitespace(scalar) == scalar.properties.isWhitespace, "U+\(value)")
            let category = scalar.properties.generalCategory
            let punctuation = [
                Unicode.GeneralCategory.connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                .initialPunctuation, .finalPunctuation, .otherPunctuation,
            ].contains(category)
            #expect(TextNormalizer.isPunctuation(scalar) == punctuation, "U+\(value) \(category)")
        }
    }
}
