import Foundation
import Shared
import Testing
import TestSupport

/// File uploads the way Discord takes them: `multipart/form-data` with `payload_json` and
/// `files[n]`, sent through `Shared.HTTPClient` (libcurl's MIME API) to the simulator process,
/// whose multipart parser this also covers.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct MultipartUploadTests {
    typealias World = DiscordSimulatorProcess.World
    /// Small, so that going over it costs little.
    static let maxUpload = 64 * 1024

    /// Every byte value, NULs in a row, and lines that look like a delimiter to a careless parser.
    static let binary: Data = {
        var bytes = Data(0...255)
        bytes.append(contentsOf: [0, 0, 0, 0])
        bytes.append(Data("\r\n--\r\n\r\n--boundary--\r\n".utf8))
        bytes.append(contentsOf: (0...255).reversed())
        bytes.append(contentsOf: [0])
        return bytes
    }()

    /// The created message as far as these tests read it.
    struct CreatedMessage: Decodable {
        var id: String
        var content: String
        var nonce: String?
        var attachments: [SimulatedAttachment]
    }

    func withSimulator(arguments: [String] = ["--no-rate-limit"], _ body: (DiscordSimulatorProcess, HTTPClient) async throws -> Void) async throws {
        let directory = try makeScratchDirectory("multipart")
        let simulator = try await DiscordSimulatorProcess(directory: directory, arguments: ["--max-upload-bytes", String(Self.maxUpload)] + arguments)
        do {
            try await body(simulator, HTTPClient(timeout: .seconds(20), name: "multipart-test"))
        } catch {
            await simulator.stop()
            throw error
        }
        await simulator.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func createMessage(_ simulator: DiscordSimulatorProcess, _ http: HTTPClient, _ parts: [MultipartPart]) async throws -> HTTPResponse {
        try await http.request(
            method: "POST", url: simulator.apiBase + "/channels/\(World.general)/messages",
            headers: ["Authorization": "Bot \(simulator.token)"], body: .multipart(parts)
        )
    }

    static func payload(_ object: [String: Any]) throws -> MultipartPart {
        MultipartPart(name: "payload_json", contentType: "application/json", data: try JSONSerialization.data(withJSONObject: object))
    }

    static func file(_ index: Int, _ filename: String, _ data: Data, contentType: String = "application/octet-stream") -> MultipartPart {
        MultipartPart(name: "files[\(index)]", filename: filename, contentType: contentType, data: data)
    }

    /// Discord's JSON error code of a failed response.
    static func errorCode(_ response: HTTPResponse) -> Int? {
        (try? JSON.decode(JSONValue.self, from: response.body))?["code"]?.doubleValue.map { Int($0) }
    }

    @Test("a multipart create keeps every byte of its file, and the attachment url serves them back")
    func uploadRoundTripsBinaryBytes() async throws {
        try await withSimulator { simulator, http in
            let response = try await createMessage(simulator, http, [
                try Self.payload(["content": "here are the bytes", "attachments": [["id": 0, "filename": "all-bytes.bin", "description": "every byte"]]]),
                Self.file(0, "all-bytes.bin", Self.binary),
            ])
            #expect(response.status == 200, "\(response.bodyText)")
            let message = try JSON.decode(CreatedMessage.self, from: response.body)
            #expect(message.content == "here are the bytes")
            let attachment = try #require(message.attachments.first)
            #expect(message.attachments.count == 1)
            #expect(UInt64(attachment.id) != nil)  // a snowflake
            #expect(attachment.filename == "all-bytes.bin")
            #expect(attachment.description == "every byte")
            #expect(attachment.size == Self.binary.count)
            #expect(attachment.contentType == "application/octet-stream")
            #expect(attachment.url == "http://127.0.0.1:\(simulator.port)/attachments/\(World.general)/\(attachment.id)/all-bytes.bin")
            #expect(attachment.proxyURL == attachment.url)

            // Like Discord's CDN: no Authorization needed.
            let download = try await http.request(method: "GET", url: attachment.url)
            #expect(download.status == 200)
            #expect(download.body == Self.binary)
            #expect(download.headers["content-type"] == "application/octet-stream")
            let wrongName = try await http.request(method: "GET", url: attachment.url.replacingOccurrences(of: "all-bytes.bin", with: "other.bin"))
            #expect(wrongName.status == 404)

            // The control API's record of bot posts carries the attachment too.
            let post = try #require(try await simulator.posts(channelID: World.general).last)
            #expect(post.id == message.id)
            #expect(post.attachments == message.attachments)
        }
    }

    @Test("several files without content, one an empty file and one with spaces and umlauts in its name")
    func severalFilesAndNoContent() async throws {
        try await withSimulator { simulator, http in
            let response = try await createMessage(simulator, http, [
                try Self.payload(["attachments": [["id": 0], ["id": 1], ["id": 2]]]),
                Self.file(0, "notes für dich.txt", Data("plain text\n".utf8), contentType: "text/plain"),
                Self.file(1, "picture.png", Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]), contentType: "image/png"),
                Self.file(2, "empty.bin", Data()),
            ])
            #expect(response.status == 200, "\(response.bodyText)")
            let message = try JSON.decode(CreatedMessage.self, from: response.body)
            #expect(message.content == "")
            #expect(message.attachments.map(\.filename) == ["notes für dich.txt", "picture.png", "empty.bin"])
            #expect(message.attachments.map(\.size) == [11, 9, 0])
            #expect(message.attachments.map(\.contentType) == ["text/plain", "image/png", "application/octet-stream"])
            #expect(Set(message.attachments.map(\.id)).count == 3)
            // The filename is one percent-encoded path segment of the url.
            #expect(message.attachments[0].url.hasSuffix("/\(message.attachments[0].id)/notes%20f%C3%BCr%20dich.txt"))
            let notes = try await http.request(method: "GET", url: message.attachments[0].url)
            #expect(notes.status == 200)
            #expect(notes.bodyText == "plain text\n")
            #expect(notes.headers["content-type"] == "text/plain")
            let empty = try await http.request(method: "GET", url: message.attachments[2].url)
            #expect(empty.status == 200)
            #expect(empty.body.isEmpty)
        }
    }

    @Test("more than --max-upload-bytes of files is 413 with code 40005; exactly the limit is accepted")
    func oversizedUploadIsRejected() async throws {
        try await withSimulator { simulator, http in
            let atLimit = try await createMessage(simulator, http, [
                try Self.payload(["content": "just fits"]),
                Self.file(0, "a.bin", Data(repeating: 7, count: Self.maxUpload / 2)),
                Self.file(1, "b.bin", Data(repeating: 0, count: Self.maxUpload / 2)),
            ])
            #expect(atLimit.status == 200, "\(atLimit.bodyText)")

            // The limit is on all files together, not each one.
            let over = try await createMessage(simulator, http, [
                try Self.payload(["content": "one byte too many"]),
                Self.file(0, "a.bin", Data(repeating: 7, count: Self.maxUpload / 2)),
                Self.file(1, "b.bin", Data(repeating: 0, count: Self.maxUpload / 2 + 1)),
            ])
            #expect(over.status == 413)
            #expect(Self.errorCode(over) == 40005)
            #expect(over.bodyText.contains("Request entity too large"))

            // Far beyond what the simulator buffers: still read to the end and answered, not reset.
            let huge = try await createMessage(simulator, http, [
                try Self.payload(["content": "much too big"]),
                Self.file(0, "huge.bin", Data(repeating: 1, count: 3 << 20)),
            ])
            #expect(huge.status == 413)
            #expect(Self.errorCode(huge) == 40005)

            let posts = try await simulator.posts(channelID: World.general)
            #expect(posts.map(\.content) == ["just fits"])
        }
    }

    @Test("a message with neither content nor files is 400 with code 50006")
    func emptyMessageIsRejected() async throws {
        try await withSimulator { simulator, http in
            let noFiles = try await createMessage(simulator, http, [try Self.payload(["content": ""])])
            #expect(noFiles.status == 400)
            #expect(Self.errorCode(noFiles) == 50006)
            #expect(noFiles.bodyText.contains("Cannot send an empty message"))

            // An `attachments` entry without its `files[n]` part is no file.
            let placeholderOnly = try await createMessage(simulator, http, [try Self.payload(["attachments": [["id": 0, "filename": "ghost.txt"]]])])
            #expect(placeholderOnly.status == 400)
            #expect(Self.errorCode(placeholderOnly) == 50006)

            let noPayload = try await createMessage(simulator, http, [MultipartPart(name: "unrelated", data: Data("x".utf8))])
            #expect(noPayload.status == 400)
            #expect(Self.errorCode(noPayload) == 50006)

            #expect(try await simulator.posts().isEmpty)
        }
    }

    @Test("without payload_json, the plain form fields carry the message")
    func plainFormFields() async throws {
        try await withSimulator { simulator, http in
            let response = try await createMessage(simulator, http, [
                MultipartPart(name: "content", data: Data("Hello, World!".utf8)),
                MultipartPart(name: "tts", data: Data("true".utf8)),
            ])
            #expect(response.status == 200, "\(response.bodyText)")
            #expect(try JSON.decode(CreatedMessage.self, from: response.body).content == "Hello, World!")
        }
    }

    @Test("enforce_nonce and the per-channel rate limit apply to multipart creates as to JSON ones")
    func nonceAndRateLimitApply() async throws {
        try await withSimulator(arguments: ["--rate-limit", "3/60"]) { simulator, http in
            let parts = [
                try Self.payload(["content": "once only", "nonce": "upload-nonce-1", "enforce_nonce": true, "attachments": [["id": 0]]]),
                Self.file(0, "once.bin", Self.binary),
            ]
            let first = try await createMessage(simulator, http, parts)
            let repeated = try await createMessage(simulator, http, parts)
            #expect(first.status == 200, "\(first.bodyText)")
            #expect(repeated.status == 200, "\(repeated.bodyText)")
            let firstMessage = try JSON.decode(CreatedMessage.self, from: first.body)
            let repeatedMessage = try JSON.decode(CreatedMessage.self, from: repeated.body)
            #expect(repeatedMessage.id == firstMessage.id)
            #expect(repeatedMessage.attachments == firstMessage.attachments)
            #expect(try await simulator.posts(channelID: World.general).count == 1)
            #expect(first.headers["x-ratelimit-limit"] == "3")
            #expect(repeated.headers["x-ratelimit-remaining"] == "1")

            // The third create spends the last slot even though it is too large; the fourth is limited.
            let oversized = try await createMessage(simulator, http, [try Self.payload(["content": "x"]), Self.file(0, "big.bin", Data(count: Self.maxUpload + 1))])
            #expect(oversized.status == 413)
            let limited = try await createMessage(simulator, http, [try Self.payload(["content": "too soon"]), Self.file(0, "late.bin", Data([1]))])
            #expect(limited.status == 429)
            #expect((try JSON.decode(JSONValue.self, from: limited.body))["retry_after"]?.doubleValue != nil)
        }
    }
}
