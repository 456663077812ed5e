import Foundation
import Hummingbird

/// A `files[n]` part of a message create, as received.
struct UploadedFile: Sendable {
    /// The `n` of `files[n]`: the placeholder the body's `attachments[].id` refers to.
    var placeholder: String
    var filename: String
    var contentType: String?
    /// From the matching `attachments` entry, if any.
    var description: String?
    var bytes: [UInt8]
}

/// A message-create body in either of Discord's encodings: the JSON params and, for
/// `multipart/form-data`, the uploaded files.
struct MessageUpload: Sendable {
    var request: CreateMessageRequest
    var files: [UploadedFile] = []

    var uploadedBytes: Int { files.reduce(0) { $0 + $1.bytes.count } }

    init(request: CreateMessageRequest, files: [UploadedFile] = []) {
        self.request = request
        self.files = files
    }

    /// Reads Discord's multipart form: the JSON params from `payload_json` or, without one, from
    /// the plain form fields `content`, `nonce`, `enforce_nonce` and `tts`; and one file per
    /// `files[n]` part, named by the part's own `filename`. Other parts are ignored.
    init(form: MultipartFormData) throws(DiscordAPIError) {
        if let payload = form.part(named: "payload_json") {
            do {
                request = try JSONCoding.decoder().decode(CreateMessageRequest.self, from: Data(payload.body))
            } catch {
                throw .invalidJSON
            }
        } else {
            request = CreateMessageRequest()
            request.content = form.part(named: "content")?.text
            request.nonce = form.part(named: "nonce").map { .string($0.text) }
            request.enforceNonce = form.part(named: "enforce_nonce").map { Self.isTrue($0.text) }
            request.tts = form.part(named: "tts").map { Self.isTrue($0.text) }
        }
        let described = Dictionary((request.attachments ?? []).compactMap { entry in entry.id.map { ($0, entry) } }) { first, _ in first }
        for part in form.parts {
            guard let placeholder = Self.filePlaceholder(part.name) else { continue }
            guard let filename = part.filename, !filename.isEmpty else {
                throw .invalidFormBody(.object([part.name: .formError(code: "BASE_TYPE_REQUIRED", "A file part needs a filename in its Content-Disposition.")]))
            }
            files.append(UploadedFile(
                placeholder: placeholder,
                filename: filename,
                contentType: part.contentType,
                description: described[placeholder]?.description,
                bytes: part.body
            ))
        }
    }

    /// `n` for a part named `files[n]`.
    private static func filePlaceholder(_ name: String) -> String? {
        guard name.hasPrefix("files["), name.hasSuffix("]"), name.count > "files[]".count else { return nil }
        return String(name.dropFirst("files[".count).dropLast())
    }

    /// Discord's form booleans.
    private static func isTrue(_ text: String) -> Bool {
        ["true", "1"].contains(text.lowercased())
    }
}

extension MessageUpload {
    /// What a multipart body may carry besides its files: `payload_json` (1 MiB, as a JSON body)
    /// and the part headers and delimiters.
    private static let multipartOverhead = 1 << 20

    /// A message-create body (bot create or webhook execute), JSON or multipart, or the error
    /// it makes. More than `maxUploadBytes` of files in one request is Discord's 413 with code
    /// 40005, as is a body too large to hold that much.
    static func read(_ request: Request, maxUploadBytes limit: Int) async throws -> Result<MessageUpload, DiscordAPIError> {
        if request.hasJSONBody {
            do {
                return .success(MessageUpload(request: try await request.decodeJSON(CreateMessageRequest.self)))
            } catch let error as DiscordAPIError {
                return .failure(error)
            }
        }
        guard let boundary = request.multipartBoundary else {
            return .failure(.invalidFormBody(.formError(
                code: "CONTENT_TYPE_INVALID",
                "Expected \"Content-Type\" header to be one of {'application/json', 'multipart/form-data'}."
            )))
        }
        guard let body = try await request.collectBytes(limit: limit + multipartOverhead) else {
            return .failure(.requestEntityTooLarge)
        }
        let form: MultipartFormData
        do {
            form = try MultipartFormData(parsing: body, boundary: boundary)
        } catch {
            // Discord documents no code for broken framing; the simulator answers a generic 400.
            return .failure(DiscordAPIError(status: .badRequest, body: .init(message: "Malformed multipart/form-data body: \(error.description)", code: 0)))
        }
        do throws(DiscordAPIError) {
            let upload = try MessageUpload(form: form)
            return upload.uploadedBytes > limit ? .failure(.requestEntityTooLarge) : .success(upload)
        } catch {
            return .failure(error)
        }
    }
}
