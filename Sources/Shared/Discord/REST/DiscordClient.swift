import Foundation
import Logging
import Synchronization

/// Discord's REST API as the connector uses it: `perform(endpoint)` is the one way a request is
/// sent. It takes the shared rate limiter's reservation first, sends the request, teaches the
/// limiter what Discord's headers said, and applies one retry policy for every route: a 429 is
/// waited out (the limiter holds the next attempt back as long as Discord asked), a 5xx or a
/// transport failure is retried with backoff, and any other 4xx is final.
public struct DiscordClient: Sendable {
    public static let userAgent = "DiscordBot (https://github.com/mumega/discord-connector, 0.1.0)"

    public let apiBase: String
    private let token: String
    private let http: HTTPClient
    /// Nil: no shared limiter (the operator CLI's one-off calls); a 429 is still waited out.
    private let limiter: SharedRateLimiter?
    private let logger: Logger
    /// Records of routine answers (`SharedRateLimiter.isRoutine`) not yet sent: they go with the
    /// next reservation, or with the caller's own writes (`takeDeferredRecords`).
    private let deferred = DeferredRecords()
    /// A reservation made ahead for the next send (`prefetch`).
    private let prefetched = PrefetchedReservation()

    public init(apiBase: String, token: String, http: HTTPClient = HTTPClient(name: "discord-rest"), limiter: SharedRateLimiter?, logger: Logger) {
        self.apiBase = apiBase
        self.token = token
        self.http = http
        self.limiter = limiter
        self.logger = logger
    }

    /// How long to keep retrying 429s, 5xx and transport failures.
    public enum Retries: Sendable, Equatable {
        /// Until Discord answers 2xx or a final 4xx, or the task is cancelled: for posts whose
        /// entry stays pending meanwhile.
        case untilCancelled
        /// At most this many attempts in all: for look-ups that can be done later.
        case attempts(Int)
    }

    /// Sends the request and returns Discord's 2xx answer.
    /// - Throws: `DiscordFailure` (`.rejected` for a final 4xx, `.gaveUp` when the retries ran
    ///   out, `.cancelled`).
    /// - Parameter deferRecord: a routine answer's record waits for the next round trip to Redis
    ///   (this client's next reservation, or the caller's writes after `takeDeferredRecords`)
    ///   instead of costing one of its own.
    public func perform(_ endpoint: DiscordEndpoint, retries: Retries = .attempts(5), deferRecord: Bool = false) async throws(DiscordFailure) -> DiscordResponse {
        let body: HTTPBody?
        do {
            body = try endpoint.encodedBody()
        } catch {
            throw .invalidBody("\(endpoint.route): \(error)")
        }
        var headers = ["User-Agent": Self.userAgent, "Accept": "application/json"]
        if endpoint.botAuthorization { headers["Authorization"] = "Bot \(token)" }
        var backoff = Backoff(base: .milliseconds(250), cap: .seconds(30))
        var attempt = 0
        var lastProblem = ""
        while !Task.isCancelled {
            if case .attempts(let limit) = retries, attempt >= limit { throw .gaveUp(route: endpoint.route, lastProblem) }
            attempt += 1
            var reservation: SharedRateLimiter.Reservation?
            if limiter != nil, attempt == 1, let ahead = prefetched.take(route: endpoint.route, major: endpoint.major) {
                reservation = ahead  // reserved in the caller's last round trip
            } else if let limiter {
                guard let reserved = await limiter.acquire(route: endpoint.route, major: endpoint.major, countsGlobally: endpoint.countsGlobally, after: deferred.takeAll()) else { break }
                reservation = reserved
            }
            let response: HTTPResponse
            do {
                response = try await http.request(method: endpoint.method, url: apiBase + endpoint.path, headers: headers, body: body)
            } catch {
                lastProblem = error.description
                let delay = backoff.next()
                logger.warning("\(endpoint.route) failed: \(error); retrying in \(delay)")
                try? await Task.sleep(for: delay)
                continue
            }
            let answer = DiscordResponse(response)
            if let limiter {
                if deferRecord, limiter.isRoutine(route: endpoint.route, status: response.status, info: answer.rateLimit),
                   let call = limiter.recordCall(route: endpoint.route, major: endpoint.major, reservation: reservation, status: response.status, info: answer.rateLimit) {
                    deferred.append(call)
                } else {
                    await limiter.record(route: endpoint.route, major: endpoint.major, reservation: reservation, status: response.status, info: answer.rateLimit)
                }
            }
            switch response.status {
            case 200..<300:
                return answer
            case 429:
                let scope = answer.rateLimit.scope ?? (answer.rateLimit.global ? "global" : "unknown")
                lastProblem = "429 (scope \(scope))"
                logger.warning("rate limited on \(endpoint.route) (scope \(scope)); retrying after \(answer.rateLimit.retryAfter ?? 0)s")
                // The shared limiter holds the next attempt back; without it, wait here.
                if limiter == nil { try? await Task.sleep(for: .milliseconds(Int64((answer.rateLimit.retryAfter ?? 1) * 1000))) }
            case 500...:
                lastProblem = "Discord answered \(response.status)"
                let delay = backoff.next()
                logger.warning("Discord answered \(response.status) on \(endpoint.route); retrying in \(delay)")
                try? await Task.sleep(for: delay)
            default:
                throw .rejected(answer.error)
            }
        }
        throw .cancelled
    }

    /// A reservation for the next send to `endpoint`, made ahead in the caller's next round trip
    /// to Redis: send `call` in it, then hand its answer to `prefetched(_:answer:)`; the next
    /// `perform` of that route and major parameter (within 250 ms) uses it instead of a round
    /// trip of its own. Nil without a limiter or while the route's bucket is unknown. A
    /// reservation never used (the next send never made, or later) counts as a send in its
    /// window: the limiter errs on the safe side.
    public func prefetch(for endpoint: DiscordEndpoint) -> SharedRateLimiter.Prefetch? {
        limiter?.prefetch(route: endpoint.route, major: endpoint.major, countsGlobally: endpoint.countsGlobally)
    }

    /// The answer to a prefetched reservation: kept for the next send when it reserved; else
    /// (a wait, an error) that send reserves as usual.
    public func prefetched(_ prefetch: SharedRateLimiter.Prefetch, answer: RedisValue) {
        guard SharedRateLimiter.isReserved(answer) else { return }
        prefetched.keep(prefetch)
    }

    /// The records `perform(deferRecord: true)` left to send: the caller sends them with its own
    /// writes (a script the server no longer has must then be run again on its own).
    public func takeDeferredRecords() -> [ScriptCall] { deferred.takeAll() }

    /// `perform`, decoding the answer's JSON body.
    public func perform<T: Decodable>(_ endpoint: DiscordEndpoint, retries: Retries = .attempts(5), as type: T.Type) async throws(DiscordFailure) -> T {
        let response = try await perform(endpoint, retries: retries)
        do {
            return try JSON.decode(T.self, from: response.body)
        } catch {
            throw .undecodable("\(endpoint.route) answered a body that is not \(T.self): \(error)")
        }
    }
}

/// A 2xx answer from Discord.
public struct DiscordResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data
    public var rateLimit: RateLimitInfo

    init(_ response: HTTPResponse) {
        status = response.status
        headers = response.headers
        body = response.body
        // A 2xx body says nothing about rate limits (only a 429's does): not parsed here.
        rateLimit = RateLimitInfo(headers: response.headers, body: nil)
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Discord's JSON error (`{"code": 50001, "message": "Missing Access"}`), or the body's start.
    var error: DiscordAPIError {
        let json = try? JSON.decode(JSONValue.self, from: body)
        return DiscordAPIError(status: status, code: json?["code"]?.intValue, message: json?["message"]?.stringValue ?? String(bodyText.prefix(500)), body: String(bodyText.prefix(1000)))
    }
}

/// A final answer from Discord that was not 2xx.
public struct DiscordAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    /// Discord's JSON error code (e.g. 10003 Unknown Channel, 50013 Missing Permissions).
    public var code: Int?
    public var message: String
    /// The body as Discord sent it (its first 1,000 characters), for dead letters and logs.
    public var body: String

    public var description: String { "Discord answered \(status)" + (code.map { " (code \($0))" } ?? "") + ": \(message)" }
}

/// Why `DiscordClient.perform` gave no 2xx answer.
public enum DiscordFailure: Error, Sendable, CustomStringConvertible {
    /// A final 4xx (not 429): the request will never succeed as it is.
    case rejected(DiscordAPIError)
    /// The retries ran out on 429s, 5xx or transport failures; worth trying again later.
    case gaveUp(route: String, String)
    case cancelled
    case invalidBody(String)
    case undecodable(String)

    /// The HTTP status of a final refusal.
    public var status: Int? {
        if case .rejected(let error) = self { return error.status }
        return nil
    }

    public var description: String {
        switch self {
        case .rejected(let error): return error.description
        case .gaveUp(let route, let problem): return "\(route) still failing after retries: \(problem)"
        case .cancelled: return "cancelled"
        case .invalidBody(let problem): return "cannot encode the request body of \(problem)"
        case .undecodable(let problem): return problem
        }
    }
}

/// The rate-limit records one client has not sent yet.
private final class DeferredRecords: Sendable {
    private let calls = Mutex<[ScriptCall]>([])

    func append(_ call: ScriptCall) { calls.withLock { $0.append(call) } }

    func takeAll() -> [ScriptCall] { calls.withLock { calls in defer { calls = [] }; return calls } }
}

/// One reservation made ahead (`DiscordClient.prefetch`), used by the next send to the same
/// route and major parameter within `maxAge` (a send to something else in between, a status
/// message's deletion, leaves it); an older one is dropped, so a reservation is never used long
/// after the moment it counts from.
private final class PrefetchedReservation: Sendable {
    static let maxAge = Duration.milliseconds(250)
    private let slot = Mutex<(prefetch: SharedRateLimiter.Prefetch, madeAt: ContinuousClock.Instant)?>(nil)

    func keep(_ prefetch: SharedRateLimiter.Prefetch) { slot.withLock { $0 = (prefetch, .now) } }

    func take(route: String, major: String) -> SharedRateLimiter.Reservation? {
        slot.withLock { slot in
            guard let kept = slot else { return nil }
            if ContinuousClock.now - kept.madeAt > Self.maxAge {
                slot = nil
                return nil
            }
            guard kept.prefetch.route == route, kept.prefetch.major == major else { return nil }
            slot = nil
            return kept.prefetch.reservation
        }
    }
}
