import Testing
import WorkbenchCore

struct JSONParserTests {
    @Test(arguments: [
        ("{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}", "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}"),
        ("  [1.5, -2, 3e2]  ", "[1.5,-2,300]"),
        ("\"\\u65e5\\u672c\\ud83d\\ude00\\n\"", "\"日本😀\\n\""),
        ("{\"z\":{\"y\":\"曖昧\"},\"a\":0}", "{\"a\":0,\"z\":{\"y\":\"曖昧\"}}"),
    ])
    func parsesAndSerializesCanonically(input: String, expected: String) throws {
        #expect(try JSONValue(parsing: input).serialized() == expected)
    }

    @Test(arguments: [
        ("{\"a\":1,}", 8),
        ("{\"a\" 1}", 6),
        ("[1 2]", 4),
        ("{\"日本\": tru}", 8),
        ("\"unterminated", 14),
        ("01", 1),
        ("{} x", 4),
        ("", 1),
    ])
    func reportsTheColumnOfASyntaxError(input: String, column: Int) {
        let error = #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: input) }
        #expect(error?.column == column, "\(String(describing: error))")
    }

    @Test func followsDottedPaths() throws {
        let value = try JSONValue(parsing: #"{"address":{"city":"Porto"},"items":[{"name":"kettle"}]}"#)
        #expect(value.value(atPath: "address.city") == "Porto")
        #expect(value.value(atPath: "items.0.name") == "kettle")
        #expect(value.value(atPath: "items.1.name") == nil)
        #expect(value.value(atPath: "missing") == nil)
    }

    @Test func writesIntegersWithoutAFraction() {
        #expect(JSONValue.number(3).serialized() == "3")
        #expect(JSONValue.number(0.25).serialized() == "0.25")
        #expect(JSONValue.string("tab\there").serialized() == "\"tab\\there\"")
    }
}

struct SHA256Tests {
    // Reference digests from `printf '%s' TEXT | sha256sum`.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        ("日本語のプロンプト", "055249f531994174765f25b415ca2dc579bdfa46b9cf107484fb2e85be58ebd0"),
    ])
    func matchesReferenceDigests(text: String, digest: String) {
        #expect(SHA256.hex(text) == digest)
    }

    @Test func hashesAMillionBytesLikeTheReference() {
        // `python3 -c "import hashlib; print(hashlib.sha256(b'a'*1000000).hexdigest())"`
        #expect(
            SHA256.hex(bytes: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
