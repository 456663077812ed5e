import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A Discord-shaped error response: `{"message": ..., "code": ...}` plus optional details.
struct DiscordAPIError: HTTPResponseError {
    struct Body: Encodable, Sendable {
        let message: String
        var code: Int?
        var errors: JSONValue?
        var retryAfter: Double?
        var global: Bool?
    }

    let status: HTTPResponse.Status
    let body: Body
    var headers = HTTPFields()
    /// An HTML page instead of Discord's JSON, as a proxy or load balancer in front of Discord
    /// sends when things go wrong; clients must cope with it.
    var html: String?

    func response(from request: Request, context: some RequestContext) throws -> Response {
        if let html {
            var fields = headers
            fields[.contentType] = "text/html; charset=utf-8"
            return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        return try Response.json(body, status: status, headers: headers)
    }

    /// The same error as an HTML page.
    func asHTML() -> DiscordAPIError {
        var copy = self
        copy.html = "<html><head><title>\(status.code) \(status.reasonPhrase)</title></head><body><h1>\(status.code) \(status.reasonPhrase)</h1></body></html>"
        return copy
    }

    /// The generic form Discord uses for errors that have no specific JSON error code.
    static func plain(_ status: HTTPResponse.Status) -> DiscordAPIError {
        DiscordAPIError(status: status, body: Body(message: "\(status.code): \(status.reasonPhrase)", code: 0))
    }

    static let unauthorized = plain(.unauthorized)
    static let notFound = plain(.notFound)
    static let internalServerError = plain(.internalServerError)

    static let unknownChannel = DiscordAPIError(status: .notFound, body: Body(message: "Unknown Channel", code: 10003))
    static let unknownGuild = DiscordAPIError(status: .notFound, body: Body(message: "Unknown Guild", code: 10004))
    static let unknownMessage = DiscordAPIError(status: .notFound, body: Body(message: "Unknown Message", code: 10008))
    static let unknownUser = DiscordAPIError(status: .notFound, body: Body(message: "Unknown User", code: 10013))
    static let emptyMessage = DiscordAPIError(status: .badRequest, body: Body(message: "Cannot send an empty message", code: 50006))
    /// Discord's answer to an upload over the size limit (`--max-upload-bytes`).
    static let requestEntityTooLarge = DiscordAPIError(status: .contentTooLarge, body: Body(message: "Request entity too large", code: 40005))
    static let invalidJSON = DiscordAPIError(
        status: .badRequest,
        body: Body(message: "The request body contains invalid JSON.", code: 50109)
    )

    static func invalidFormBody(_ errors: JSONValue) -> DiscordAPIError {
        DiscordAPIError(status: .badRequest, body: Body(message: "Invalid Form Body", code: 50035, errors: errors))
    }

    /// The generic error for an arbitrary status code, e.g. one queued through the faults API.
    static func plain(code: Int) -> DiscordAPIError {
        let known: [HTTPResponse.Status] = [
            .badRequest, .unauthorized, .forbidden, .notFound, .methodNotAllowed, .tooManyRequests,
            .internalServerError, .badGateway, .serviceUnavailable, .gatewayTimeout,
        ]
        return plain(known.first { $0.code == code } ?? HTTPResponse.Status(code: code, reasonPhrase: "Error"))
    }

    /// A 429. `Retry-After` is whole seconds (rounded up) while the body is precise. For a
    /// per-route limit the caller adds the `X-RateLimit-*` headers of the bucket; the global
    /// limit has no bucket and says so with `X-RateLimit-Global`.
    static func rateLimited(retryAfter: TimeInterval, global: Bool = false) -> DiscordAPIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(Int(retryAfter.rounded(.up)))
        headers[.rateLimitScope] = global ? "global" : "user"
        if global {
            headers[.rateLimitGlobal] = "true"
        }
        let rounded = (retryAfter * 1000).rounded() / 1000
        return DiscordAPIError(
            status: .tooManyRequests,
            body: Body(message: "You are being rate limited.", retryAfter: rounded, global: global),
            headers: headers
        )
    }
}

extension Response {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = HTTPFields()) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        let data = try JSONCoding.encoder().encode(value)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension Request {
    /// Reads and decodes a JSON body; malformed JSON becomes Discord's 50109 error.
    func decodeJSON<Value: Decodable>(_ type: Value.Type, maxSize: Int = 1 << 20) async throws -> Value {
        var request = self
        let buffer = try await request.collectBody(upTo: maxSize)
        do {
            return try JSONCoding.decoder().decode(type, from: Data(buffer.readableBytesView))
        } catch {
            throw DiscordAPIError.invalidJSON
        }
    }

    var hasJSONBody: Bool {
        headers[.contentType]?.lowercased().hasPrefix("application/json") ?? false
    }

    /// The boundary of a `multipart/form-data` body, `nil` for any other body.
    var multipartBoundary: String? {
        headers[.contentType].flatMap(MultipartFormData.boundary(contentType:))
    }

    /// The whole body, or `nil` when it is longer than `limit` bytes. A longer body is still
    /// read to its end, and dropped, so that a client still sending gets the error response
    /// instead of a reset connection.
    func collectBytes(limit: Int) async throws -> [UInt8]? {
        var bytes: [UInt8] = []
        var total = 0
        for try await buffer in body {
            total += buffer.readableBytes
            if total <= limit {
                bytes.append(contentsOf: buffer.readableBytesView)
            } else if !bytes.isEmpty {
                bytes = []
            }
        }
        return total <= limit ? bytes : nil
    }
}

/// Turns Hummingbird's own errors (unknown route, body too large, ...) into Discord-shaped JSON.
struct DiscordErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            var converted = DiscordAPIError.plain(error.status)
            converted.headers = error.headers
            return try converted.response(from: request, context: context)
        }
    }
}

/// Requires `Authorization: Bot <token>` on every REST call, as Discord does for bot clients.
struct BotAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers[.authorization] == "Bot \(token)" else {
            throw DiscordAPIError.unauthorized
        }
        return try await next(request, context)
    }
}

/// `--global-limit`: spends one request of the bot's global budget before any route runs,
/// as Discord checks the global limit ahead of the per-route buckets.
struct GlobalRateLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let world: World

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let retryAfter = await world.acquireGlobalRequest() {
            throw DiscordAPIError.rateLimited(retryAfter: retryAfter, global: true)
        }
        return try await next(request, context)
    }
}
