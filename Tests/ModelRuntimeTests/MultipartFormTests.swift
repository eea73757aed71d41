import Foundation
import StubRuntime
import Testing
import WorkbenchCore

@testable import ModelRuntime

/// A file upload's body through both transports: every byte arrives, the parts read back as sent.
struct MultipartFormTests {
    /// Content that would break a careless form: every byte value, line breaks, and lines that
    /// look like a boundary.
    static let awkward: [UInt8] =
        Array(0...255) + Array("\r\n--pwb-\r\n--\r\n{\"messages\": []}\n".utf8) + Array(repeating: 0x0A, count: 3)

    @Test(arguments: TransportKind.allCases)
    func aFileAndAFieldArriveByteForByte(_ kind: TransportKind) async throws {
        let server = try StubServer { _ in .json(["id": "file-1"]) }
        defer { server.stop() }
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let form = MultipartForm([
            MultipartForm.Part(name: "purpose", value: "fine-tune"),
            MultipartForm.Part(
                name: "file", filename: "train \"set\".jsonl", contentType: "application/jsonl",
                data: Self.awkward + big),
        ])
        let response = try await kind.make().send(
            HTTPRequest(
                method: "POST", url: server.url.appendingPathComponent("v1/files"),
                headers: [("Content-Type", form.contentType)], body: form.body),
            timeout: 30)
        #expect(response.status == 200)
        let received = try #require(server.requests(to: "/v1/files").first)
        #expect(received.body == form.body)
        let contentType = try #require(received.headers["content-type"])
        #expect(contentType == form.contentType)
        let parts = try #require(StubMultipart.parse(received.body, contentType: contentType))
        #expect(parts.map(\.name) == ["purpose", "file"])
        #expect(parts[0].data == Array("fine-tune".utf8))
        #expect(parts[1].filename == "train %22set%22.jsonl")
        #expect(parts[1].contentType == "application/jsonl")
        #expect(parts[1].data == Self.awkward + big)
    }

    @Test func theBoundaryIsNeverInAPart() {
        for _ in 0..<50 {
            let form = MultipartForm([MultipartForm.Part(name: "f", value: "x")])
            let clash = MultipartForm([MultipartForm.Part(name: "f", value: "--\(form.boundary)--")])
            #expect(clash.boundary != form.boundary)
            #expect(!String(decoding: clash.parts[0].data, as: UTF8.self).contains(clash.boundary))
        }
    }

    @Test(arguments: [
        ("plain.jsonl", "plain.jsonl"), ("a\"b", "a%22b"), ("line\r\nbreak", "line%0D%0Abreak"),
        ("back\\slash", "back%5Cslash"),
        ("日本語.jsonl", "日本語.jsonl"),
    ])
    func namesCannotEndTheirQuotesOrTheHead(_ name: String, _ quoted: String) {
        #expect(MultipartForm.quoted(name) == quoted)
    }
}
