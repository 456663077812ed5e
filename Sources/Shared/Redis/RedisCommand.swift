/// One Redis command as a value: its arguments, the keys it touches, and how its reply decodes.
///
/// Declaring the keys is what lets the Redis layer route a command to the node that holds its
/// slot (and check that an atomic step's keys share one); decoding in one place retires the
/// picking apart of replies by array index at each call site.
public protocol RedisCommand: Sendable {
    associatedtype Response: Sendable
    var request: RedisRequest { get }
    func decode(_ reply: RedisValue) throws(RedisError) -> Response
}

/// The wire form of a command: every argument (the command name first) and the keys among them.
public struct RedisRequest: Sendable, Equatable {
    public var arguments: [RedisBytes]
    public var keys: [String]

    public init(_ arguments: [RedisBytes], keys: [String]) {
        self.arguments = arguments
        self.keys = keys
    }

    /// Admin commands (the CLI may stay raw): the caller vouches for the keys.
    public init(raw arguments: [String], keys: [String] = []) {
        self.init(arguments.map { RedisBytes($0) }, keys: keys)
    }

    /// The command's name, for errors.
    public var name: String { arguments.first?.string ?? "" }
}

extension RedisCommand {
    func unexpected(_ reply: RedisValue) -> RedisError {
        RedisError(.protocolViolation, "\(request.name) answered \(reply)")
    }
}

/// Decoders shared by the commands.
enum ReplyShape {
    static func integer(_ reply: RedisValue, _ name: String) throws(RedisError) -> Int {
        guard case .integer(let value) = reply else { throw RedisError(.protocolViolation, "\(name) answered \(reply), expected an integer") }
        return value
    }

    static func optionalString(_ reply: RedisValue, _ name: String) throws(RedisError) -> String? {
        if reply.isNull { return nil }
        guard let value = reply.string else { throw RedisError(.protocolViolation, "\(name) answered \(reply), expected a string") }
        return value
    }

    static func strings(_ reply: RedisValue, _ name: String) throws(RedisError) -> [String] {
        if reply.isNull { return [] }
        guard let items = reply.array else { throw RedisError(.protocolViolation, "\(name) answered \(reply), expected an array") }
        return items.compactMap(\.string)
    }
}

/// A command whose reply the caller does not need beyond "it worked".
public struct IgnoredReply: Sendable {}
