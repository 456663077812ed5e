/// Mention syntax found in message content, before any `allowed_mentions` filtering.
struct ContentMentions: Equatable {
    var users: [Snowflake] = []
    var roles: [Snowflake] = []
    /// `@everyone` and `@here` notify the same audience as far as a test is concerned.
    var everyone = false

    init(parsing content: String) {
        // The regex costs tens of microseconds per message, far more than this check, and most
        // content mentions nobody.
        if content.contains("<@") {
            for match in content.matches(of: /<@([!&]?)(\d{1,20})>/) {
                let id = String(match.output.2)
                if match.output.1 == "&" {
                    if !roles.contains(id) { roles.append(id) }
                } else {
                    if !users.contains(id) { users.append(id) }
                }
            }
        }
        everyone = content.contains("@everyone") || content.contains("@here")
    }
}

/// Who a bot post actually notifies, after applying `allowed_mentions` the way Discord does.
/// Recorded on every bot post so tests can assert that nobody was pinged.
struct Pinged: Encodable, Sendable, Equatable {
    var everyone = false
    var roles: [Snowflake] = []
    var users: [Snowflake] = []

    /// - Parameters:
    ///   - allowedMentions: `nil` when the request had no `allowed_mentions`, which means
    ///     "notify everything mentioned", including the author of the replied-to message.
    ///   - repliedAuthorId: author of the message being replied to, if any.
    init(content: String, allowedMentions: AllowedMentions?, repliedAuthorId: Snowflake?) {
        let mentioned = ContentMentions(parsing: content)
        guard let allowed = allowedMentions else {
            everyone = mentioned.everyone
            roles = mentioned.roles
            users = mentioned.users
            if let repliedAuthorId, !users.contains(repliedAuthorId) {
                users.append(repliedAuthorId)
            }
            return
        }
        let parse = Set(allowed.parse ?? [])
        let allowedUsers = Set(allowed.users ?? [])
        let allowedRoles = Set(allowed.roles ?? [])
        everyone = mentioned.everyone && parse.contains("everyone")
        roles = mentioned.roles.filter { parse.contains("roles") || allowedRoles.contains($0) }
        users = mentioned.users.filter { parse.contains("users") || allowedUsers.contains($0) }
        // With allowed_mentions present, the replied-to author is only pinged on explicit opt-in.
        if let repliedAuthorId, allowed.repliedUser == true, !users.contains(repliedAuthorId) {
            users.append(repliedAuthorId)
        }
    }

    var isEmpty: Bool { !everyone && roles.isEmpty && users.isEmpty }
}

extension AllowedMentions {
    /// Discord rejects contradictory settings, e.g. `parse: ["users"]` together with a `users` list.
    /// Returns the `errors` tree of a 50035 response, or `nil` when valid.
    func validationErrors() -> JSONValue? {
        var problems: [String: JSONValue] = [:]
        let parse = parse ?? []
        if let unknown = parse.first(where: { !["everyone", "roles", "users"].contains($0) }) {
            problems["parse"] = .formError(code: "BASE_TYPE_CHOICES", "Value must be one of {'everyone', 'roles', 'users'}, got '\(unknown)'.")
        }
        if parse.contains("users"), !(users ?? []).isEmpty {
            problems["users"] = .formError(code: "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", "parse:[\"users\"] and users: [ids] are mutually exclusive.")
        }
        if parse.contains("roles"), !(roles ?? []).isEmpty {
            problems["roles"] = .formError(code: "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", "parse:[\"roles\"] and roles: [ids] are mutually exclusive.")
        }
        return problems.isEmpty ? nil : .object(problems)
    }
}

extension JSONValue {
    /// One leaf of Discord's nested "Invalid Form Body" error tree.
    static func formError(code: String, _ message: String) -> JSONValue {
        .object(["_errors": .array([.object(["code": .string(code), "message": .string(message)])])])
    }
}
