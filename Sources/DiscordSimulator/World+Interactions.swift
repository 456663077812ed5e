import Foundation
import HTTPTypes

/// Interactions: created through the control API, answered through the callback route and
/// the interaction webhook, as Discord's "Receiving and Responding" describes it.
extension World {
    /// The invoking member's permissions: VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY.
    static let memberPermissions = "68608"
    /// The bot's: the member's plus ADD_REACTIONS, EMBED_LINKS, ATTACH_FILES,
    /// USE_APPLICATION_COMMANDS and SEND_MESSAGES_IN_THREADS.
    static let appPermissions = "277025508416"

    /// Message flags a response may set: SUPPRESS_EMBEDS, EPHEMERAL, SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2.
    private static let settableFlags = 4 | 64 | 4096 | 32768
    static let ephemeralFlag = 64
    static let loadingFlag = 128

    // MARK: - Control API

    func createInteraction(_ request: CreateInteractionRequest, now: Date = Date()) throws(DiscordAPIError) -> CreatedInteraction {
        let delivery = try InteractionDeliveryMode(request.deliver)
        guard let rawType = request.type, let type = Interaction.Kind(rawValue: rawType), type != .ping || delivery == .http else {
            throw DiscordAPIError(status: .badRequest, body: .init(message: "type must be 2 (APPLICATION_COMMAND) or 3 (MESSAGE_COMPONENT), or 1 (PING) with deliver 'http'", code: 0))
        }
        if delivery == .http, interactions.endpointURL == nil {
            throw DiscordAPIError(status: .badRequest, body: .init(message: "deliver 'http' needs an Interactions Endpoint URL (--interactions-url or PUT /_sim/interactions/endpoint)", code: 0))
        }
        if type == .ping {
            return createPing(now: now)
        }
        guard let channelId = request.channelId, let channel = channels[channelId] else {
            throw .unknownChannel
        }
        let invoker: User
        if let userId = request.userId {
            guard let known = user(userId) else {
                throw DiscordAPIError(status: .badRequest, body: .init(message: "Unknown user_id \(userId)", code: 10013))
            }
            invoker = known
        } else {
            invoker = Fixtures.human
        }

        var data = InteractionData()
        var componentMessage: Message?
        switch type {
        case .applicationCommand:
            let name = request.name ?? "ask"
            data.name = name
            data.type = 1
            data.options = request.options
            if let command = registeredCommand(named: name, guildId: channel.guildId) {
                data.id = command.id
                data.guildId = command.guildId
            } else {
                data.id = snowflakes.next(at: now)
            }
        case .messageComponent:
            guard let customId = request.customId, !customId.isEmpty else {
                throw DiscordAPIError(status: .badRequest, body: .init(message: "custom_id is required for type 3", code: 0))
            }
            data.customId = customId
            data.componentType = request.componentType ?? 2
            if data.componentType != 2 {
                data.values = request.values ?? []
            }
            if let messageId = request.messageId {
                componentMessage = anyMessage(messageId, in: channelId)
            }
        case .ping:
            break
        }

        let id = snowflakes.next(at: now)
        var token = Self.randomToken()
        while interactions.idByToken[token] != nil { token = Self.randomToken() }
        let guildId = channel.guildId
        var interaction = Interaction(
            id: id,
            applicationId: Fixtures.botUser.id,
            type: type,
            data: data,
            guild: guildId.map { PartialGuild(id: $0) },
            guildId: guildId,
            channel: InteractionChannel(channel, permissions: guildId == nil ? nil : Self.memberPermissions),
            channelId: channelId,
            token: token,
            message: componentMessage.map(gatewayFormForInteraction),
            appPermissions: Self.appPermissions,
            locale: request.locale ?? "en-US",
            guildLocale: guildId == nil ? nil : "en-US",
            authorizingIntegrationOwners: ["0": guildId ?? "0"],
            context: guildId == nil ? 1 : 0,
            attachmentSizeLimit: maxUploadBytes
        )
        if let guildId {
            let member = Fixtures.member(for: invoker, in: guildId)
            interaction.member = InteractionMember(user: invoker, roles: member.roles, joinedAt: member.joinedAt, permissions: Self.memberPermissions)
        } else {
            interaction.user = invoker
        }
        var stored = StoredInteraction(interaction: interaction, createdAt: now)
        var outgoing: OutgoingInteraction?
        switch delivery {
        case .gateway:
            broadcast("INTERACTION_CREATE", interaction, guildId: guildId)
            stored.dispatchedAtUs = Date().microsecondsSince1970
        case .http:
            outgoing = signedDelivery(of: interaction, id: id, token: token, isPing: false, createdAt: now)
            stored.dispatchedAtUs = Date().microsecondsSince1970
        case .storeOnly:
            break
        }
        interactions.byId[id] = stored
        interactions.idByToken[token] = id
        interactions.order.append(id)
        stats.interactionsCreated += 1
        return CreatedInteraction(
            id: id, token: token, payload: .interaction(interaction), createdAtUs: now.microsecondsSince1970,
            dispatchedAtUs: stored.dispatchedAtUs, outgoing: outgoing
        )
    }

    /// A PING, as Discord sends one to check an Interactions Endpoint URL. It is not stored:
    /// its only callback is the endpoint's answer, which must be PONG.
    private func createPing(now: Date) -> CreatedInteraction {
        let id = snowflakes.next(at: now)
        let token = Self.randomToken()
        let ping = PingInteraction(id: id, applicationId: Fixtures.botUser.id, token: token)
        let outgoing = signedDelivery(of: ping, id: id, token: token, isPing: true, createdAt: now)
        return CreatedInteraction(
            id: id, token: token, payload: .ping(ping), createdAtUs: now.microsecondsSince1970,
            dispatchedAtUs: Date().microsecondsSince1970, outgoing: outgoing
        )
    }

    private func signedDelivery(of payload: some Encodable, id: Snowflake, token: String, isPing: Bool, createdAt: Date) -> OutgoingInteraction? {
        guard let url = interactions.endpointURL, let body = try? JSONCoding.encoder().encode(payload) else { return nil }
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let bytes = Array(body)
        return OutgoingInteraction(
            interactionId: id, token: token, isPing: isPing, url: url, body: bytes,
            timestamp: timestamp, signature: interactions.signer.signature(timestamp: timestamp, body: bytes), createdAt: createdAt
        )
    }

    /// Applies the Interactions Endpoint's answer to an HTTP delivery as the callback it is:
    /// a 2xx JSON callback body goes through the same checks as the callback route; anything
    /// else (no answer in 3 s, a non-2xx, a body that is no callback) fails the interaction.
    func applyEndpointAnswer(_ answer: EndpointAnswer, to outgoing: OutgoingInteraction, receivedAt: Date = Date()) -> HTTPDelivery {
        let json = answer.body.flatMap { try? JSONCoding.decoder().decode(JSONValue.self, from: Data($0)) }
        let delivery = HTTPDelivery(status: answer.status, latencyUs: answer.latencyUs, body: json)
        let id = outgoing.interactionId
        func recordFailure(status: Int, code: Int? = nil) {
            // One the application acknowledged through the callback route meanwhile stands.
            if interactions.byId[id]?.acknowledged == false { interactions.byId[id]?.failed = true }
            interactions.callbacks.append(InteractionCallbackRecord(
                interactionId: id, type: json?["type"]?.intValue, receivedAtUs: receivedAt.microsecondsSince1970,
                latencyUs: receivedAt.microsecondsSince1970 - outgoing.createdAt.microsecondsSince1970,
                accepted: false, status: status, code: code, via: .endpoint
            ))
        }
        guard (200..<300).contains(answer.status), let body = answer.body,
            let callback = try? JSONCoding.decoder().decode(InteractionCallbackRequest.self, from: Data(body))
        else {
            recordFailure(status: answer.status)
            return delivery
        }
        if outgoing.isPing {
            guard callback.type == 1 else {
                recordFailure(status: 400, code: 50035)
                return delivery
            }
            stats.interactionCallbacks += 1
            stats.interactionCallbacksAccepted += 1
            interactions.callbacks.append(InteractionCallbackRecord(
                interactionId: id, type: 1, receivedAtUs: receivedAt.microsecondsSince1970,
                latencyUs: receivedAt.microsecondsSince1970 - outgoing.createdAt.microsecondsSince1970,
                accepted: true, status: 204, via: .endpoint
            ))
            return delivery
        }
        do throws(DiscordAPIError) {
            _ = try interactionCallback(id: id, token: outgoing.token, body: .success(callback), receivedAt: receivedAt, via: .endpoint)
        } catch {
            if interactions.byId[id]?.acknowledged == false { interactions.byId[id]?.failed = true }
        }
        return delivery
    }

    var verifyKey: String { interactions.signer.verifyKey }

    var interactionsEndpointURL: String? { interactions.endpointURL }

    /// `PUT /_sim/interactions/endpoint`: an absolute http(s) URL, or empty to clear it.
    func setInteractionsEndpoint(_ url: String) throws(DiscordAPIError) -> String? {
        guard !url.isEmpty else {
            interactions.endpointURL = nil
            return nil
        }
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
            throw DiscordAPIError(status: .badRequest, body: .init(message: "url must be an absolute http(s) URL, or empty to clear it", code: 0))
        }
        interactions.endpointURL = url
        return url
    }

    /// Expires an interaction's token at once: its webhook answers 401 50027 from now on.
    func expireInteraction(_ id: Snowflake) -> Bool {
        guard interactions.byId[id] != nil else { return false }
        interactions.byId[id]?.expired = true
        return true
    }

    func interactionSummaries() -> [InteractionSummary] {
        interactions.order.compactMap { id in
            guard let stored = interactions.byId[id] else { return nil }
            return InteractionSummary(
                id: id, token: stored.interaction.token, type: stored.interaction.type.rawValue,
                channelId: stored.interaction.channelId, createdAtUs: stored.createdAt.microsecondsSince1970,
                dispatchedAtUs: stored.dispatchedAtUs, acknowledged: stored.acknowledged, callbackType: stored.callbackType,
                callbackAtUs: stored.callbackAtUs, originalMessageId: stored.originalMessageId, followupIds: stored.followupIds,
                expired: stored.expired || isPastLifetime(stored, now: Date()), failed: stored.failed
            )
        }
    }

    func interactionCallbackLog() -> [InteractionCallbackRecord] {
        interactions.callbacks
    }

    // MARK: - Callback

    /// `POST /interactions/{id}/{token}/callback`. Returns the callback response object
    /// (which the route sends only for `?with_response=true`).
    func interactionCallback(
        id: Snowflake,
        token: String,
        body parsed: Result<InteractionCallbackRequest, DiscordAPIError>,
        receivedAt: Date = Date(),
        via: InteractionCallbackRecord.Via = .callback
    ) throws(DiscordAPIError) -> InteractionCallbackResponse {
        guard let stored = interactions.byId[id], stored.interaction.token == token else {
            throw .unknownInteraction
        }
        stats.interactionCallbacks += 1
        let callbackType = try? parsed.get().type
        func record(_ status: Int, code: Int?) {
            interactions.callbacks.append(InteractionCallbackRecord(
                interactionId: id, type: callbackType, receivedAtUs: receivedAt.microsecondsSince1970,
                latencyUs: receivedAt.microsecondsSince1970 - stored.createdAt.microsecondsSince1970,
                accepted: (200..<300).contains(status), status: status, code: code, via: via
            ))
        }
        do throws(DiscordAPIError) {
            let response = try acknowledge(stored, parsed: parsed, receivedAt: receivedAt)
            record(204, code: nil)
            stats.interactionCallbacksAccepted += 1
            return response
        } catch {
            record(error.status.code, code: error.body.code)
            throw error
        }
    }

    private func acknowledge(
        _ stored: StoredInteraction,
        parsed: Result<InteractionCallbackRequest, DiscordAPIError>,
        receivedAt: Date
    ) throws(DiscordAPIError) -> InteractionCallbackResponse {
        let interaction = stored.interaction
        guard !stored.acknowledged else { throw .alreadyAcknowledged }
        guard !stored.failed else { throw .unknownInteraction }
        guard receivedAt.timeIntervalSince(stored.createdAt) <= InteractionState.callbackDeadline else {
            throw .unknownInteraction
        }
        let request = try parsed.get()
        guard let type = request.type else {
            throw .invalidFormBody(.object(["type": .formError(code: "BASE_TYPE_REQUIRED", "This field is required")]))
        }
        let isComponent = interaction.type == .messageComponent
        let allowed = isComponent ? [4, 5, 6, 7, 9] : [4, 5, 9]
        guard allowed.contains(type) else {
            let list = allowed.map(String.init).joined(separator: ", ")
            throw .invalidFormBody(.object(["type": .formError(code: "BASE_TYPE_CHOICES", "Value must be one of {\(list)}.")]))
        }
        var updated = stored
        var result = InteractionCallbackResponse(interaction: .init(id: interaction.id, type: interaction.type.rawValue), resource: .init(type: type))
        switch type {
        case 4, 5:
            let body = request.data ?? InteractionMessageBody()
            let message: Message
            if type == 4 {
                message = try postForInteraction(interaction, body: body, kind: .original, originalResponseId: nil, receivedAt: receivedAt)
            } else {
                var placeholder = InteractionMessageBody()
                placeholder.flags = ((body.flags ?? 0) & Self.ephemeralFlag) | Self.loadingFlag
                message = try postForInteraction(interaction, body: placeholder, kind: .original, originalResponseId: nil, receivedAt: receivedAt, allowEmpty: true)
            }
            updated.originalMessageId = message.id
            result.interaction.responseMessageId = message.id
            result.interaction.responseMessageLoading = message.flags & Self.loadingFlag != 0
            result.interaction.responseMessageEphemeral = message.flags & Self.ephemeralFlag != 0
            result.resource?.message = message
        case 6:
            updated.originalMessageId = interaction.message?.id
        case 7:
            guard let target = interaction.message.flatMap({ anyMessage($0.id, in: interaction.channelId) }) else {
                throw .unknownMessage
            }
            let message = try edit(target, with: request.data ?? InteractionMessageBody(), at: receivedAt)
            updated.originalMessageId = message.id
            result.interaction.responseMessageId = message.id
            result.resource?.message = message
        default:  // 9, a modal: nothing visible until the user submits it.
            guard let data = request.data, data.customId != nil, data.title != nil, data.components != nil else {
                throw .invalidFormBody(.object(["data": .formError(code: "BASE_TYPE_REQUIRED", "custom_id, title and components are required")]))
            }
        }
        updated.callbackType = type
        updated.callbackAtUs = receivedAt.microsecondsSince1970
        interactions.byId[interaction.id] = updated
        return result
    }

    // MARK: - Webhook (follow-ups and @original)

    /// The interaction an interaction-webhook request names, checked as Discord does: an
    /// unknown application or token is 10015, a token past its lifetime 401 50027.
    private func webhookInteraction(applicationId: Snowflake, token: String, now: Date) throws(DiscordAPIError) -> StoredInteraction {
        stats.interactionWebhookRequests += 1
        guard applicationId == Fixtures.botUser.id, let id = interactions.idByToken[token], let stored = interactions.byId[id] else {
            throw .unknownWebhook
        }
        guard !stored.expired, !isPastLifetime(stored, now: now) else { throw .invalidWebhookToken }
        return stored
    }

    private func isPastLifetime(_ stored: StoredInteraction, now: Date) -> Bool {
        now.timeIntervalSince(stored.createdAt) > interactions.tokenLifetime
    }

    /// `GET /webhooks/{app}/{token}/messages/{id | @original}`.
    func webhookMessage(applicationId: Snowflake, token: String, messageId: String, now: Date = Date()) throws(DiscordAPIError) -> Message {
        let stored = try webhookInteraction(applicationId: applicationId, token: token, now: now)
        return try resolveWebhookMessage(stored, messageId)
    }

    /// `PATCH /webhooks/{app}/{token}/messages/{id | @original}`.
    func editWebhookMessage(
        applicationId: Snowflake,
        token: String,
        messageId: String,
        body parsed: Result<InteractionMessageBody, DiscordAPIError>,
        now: Date = Date()
    ) throws(DiscordAPIError) -> Message {
        let stored = try webhookInteraction(applicationId: applicationId, token: token, now: now)
        let target = try resolveWebhookMessage(stored, messageId)
        return try edit(target, with: try parsed.get(), at: now)
    }

    /// `POST /webhooks/{app}/{token}`: a follow-up. The webhook exists only once the
    /// interaction is acknowledged; before that Discord answers 10015.
    func createFollowup(
        applicationId: Snowflake,
        token: String,
        body parsed: Result<InteractionMessageBody, DiscordAPIError>,
        receivedAt: Date = Date()
    ) throws(DiscordAPIError) -> Message {
        let stored = try webhookInteraction(applicationId: applicationId, token: token, now: receivedAt)
        guard stored.acknowledged else { throw .unknownWebhook }
        let message = try postForInteraction(
            stored.interaction, body: try parsed.get(), kind: .followup,
            originalResponseId: stored.originalMessageId, receivedAt: receivedAt
        )
        interactions.byId[stored.interaction.id]?.followupIds.append(message.id)
        return message
    }

    private func resolveWebhookMessage(_ stored: StoredInteraction, _ messageId: String) throws(DiscordAPIError) -> Message {
        let id: Snowflake
        if messageId == "@original" {
            guard let original = stored.originalMessageId else { throw .unknownMessage }
            id = original
        } else {
            guard messageId == stored.originalMessageId || stored.followupIds.contains(messageId) else { throw .unknownMessage }
            id = messageId
        }
        guard let message = anyMessage(id, in: stored.interaction.channelId) else { throw .unknownMessage }
        return message
    }

    // MARK: - Messages

    /// Creates a message from the application answering `interaction`: recorded as a bot
    /// post; unless ephemeral, stored in the channel and dispatched as MESSAGE_CREATE.
    private func postForInteraction(
        _ interaction: Interaction,
        body: InteractionMessageBody,
        kind: BotPost.Kind,
        originalResponseId: Snowflake?,
        receivedAt: Date,
        allowEmpty: Bool = false
    ) throws(DiscordAPIError) -> Message {
        let content = body.content ?? ""
        let embeds = body.embeds ?? []
        let components = body.components ?? []
        guard allowEmpty || !content.isEmpty || !embeds.isEmpty || !components.isEmpty else {
            throw .emptyMessage
        }
        try validate(content: content, allowedMentions: body.allowedMentions, components: body.components)
        let flags = allowEmpty ? (body.flags ?? 0) : ((body.flags ?? 0) & Self.settableFlags)
        let id = snowflakes.next(at: receivedAt)
        var message = Message(id: id, channelId: interaction.channelId, author: Fixtures.botUser, content: content, timestamp: SnowflakeGenerator.timestamp(of: id))
        message.tts = body.tts ?? false
        message.embeds = embeds
        message.components = components
        message.flags = flags
        message.type = interaction.type == .applicationCommand ? .chatInputCommand : .default
        message.applicationId = interaction.applicationId
        message.webhookId = interaction.applicationId
        message.interactionMetadata = MessageInteractionMetadata(
            id: interaction.id,
            type: interaction.type.rawValue,
            user: interaction.invoker,
            authorizingIntegrationOwners: interaction.authorizingIntegrationOwners,
            originalResponseMessageId: kind == .followup ? originalResponseId : nil,
            interactedMessageId: interaction.type == .messageComponent ? interaction.message?.id : nil
        )
        let pinged = Pinged(content: content, allowedMentions: body.allowedMentions, repliedAuthorId: nil)
        message.mentionEveryone = pinged.everyone
        message.mentionRoles = pinged.roles
        message.mentions = pinged.users.compactMap(user)
        interactions.messages[id] = message
        interactions.postIndexByMessageId[id] = posts.endIndex
        posts.append(BotPost(message: message, pinged: pinged, receivedAtUs: receivedAt.microsecondsSince1970, kind: kind, interactionId: interaction.id))
        if flags & Self.ephemeralFlag == 0 {
            store(message)
            broadcast("MESSAGE_CREATE", gatewayForm(of: message), guildId: channels[message.channelId]?.guildId)
        }
        return message
    }

    private func validate(content: String, allowedMentions: AllowedMentions?, components: [JSONValue]?) throws(DiscordAPIError) {
        var errors: [String: JSONValue] = [:]
        if content.unicodeScalars.count > 2000 {
            errors["content"] = .formError(code: "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        }
        if let problems = allowedMentions?.validationErrors() { errors["allowed_mentions"] = problems }
        if let components, let problems = MessageComponents.errors(components) { errors["components"] = problems }
        if !errors.isEmpty { throw .invalidFormBody(.object(errors)) }
    }

    /// Applies an edit (channel message PATCH, webhook PATCH or a type 7 callback): the fields
    /// given replace the message's (`components: []` removes them, no `components` keeps them),
    /// LOADING is cleared, and a non-ephemeral message dispatches MESSAGE_UPDATE.
    func edit(_ original: Message, with body: InteractionMessageBody, at now: Date) throws(DiscordAPIError) -> Message {
        var message = original
        if let content = body.content { message.content = content }
        if let embeds = body.embeds { message.embeds = embeds }
        if let components = body.components { message.components = components }
        if let keep = body.attachments {
            let ids = Set(keep.compactMap(\.id))
            message.attachments = message.attachments.filter { ids.contains($0.id) }
        }
        let wasLoading = original.flags & Self.loadingFlag != 0
        message.flags &= ~Self.loadingFlag
        if let flags = body.flags {
            // Only SUPPRESS_EMBEDS may change on an edit.
            message.flags = (message.flags & ~4) | (flags & 4)
        }
        guard !message.content.isEmpty || !message.embeds.isEmpty || !(message.components ?? []).isEmpty || !message.attachments.isEmpty else {
            throw .emptyMessage
        }
        try validate(content: message.content, allowedMentions: body.allowedMentions, components: body.components)
        message.editedTimestamp = wasLoading ? nil : SnowflakeGenerator.discordTimestamp(millisecondsSince1970: UInt64(now.timeIntervalSince1970 * 1000))
        // Completing a deferred response notifies like a new message; later edits do not.
        var pinged: Pinged?
        if wasLoading || body.allowedMentions != nil || body.content != nil {
            let computed = Pinged(content: message.content, allowedMentions: body.allowedMentions, repliedAuthorId: nil)
            message.mentionEveryone = computed.everyone
            message.mentionRoles = computed.roles
            message.mentions = computed.users.compactMap(user)
            if wasLoading { pinged = computed }
        }

        if interactions.messages[message.id] != nil {
            interactions.messages[message.id] = message
        }
        replaceInHistory(message)
        if let index = postIndex(of: message.id) {
            posts[index].message = message
            if let pinged { posts[index].pinged = pinged }
            posts[index].edits.append(.init(content: message.content, flags: message.flags, atUs: now.microsecondsSince1970))
        }
        if message.flags & Self.ephemeralFlag == 0 {
            broadcast("MESSAGE_UPDATE", gatewayForm(of: message), guildId: channels[message.channelId]?.guildId)
        }
        return message
    }

    func postIndex(of messageId: Snowflake) -> Int? {
        if let index = interactions.postIndexByMessageId[messageId], index < posts.endIndex, posts[index].message.id == messageId {
            return index
        }
        // A channel post a component sat on: rare enough for a scan from the newest.
        return posts.lastIndex { $0.message.id == messageId }
    }

    func replaceInHistory(_ message: Message) {
        guard let messages = history[message.channelId] else { return }
        let numericId = SnowflakeGenerator.numeric(message.id)
        let index = Self.firstIndex(in: messages) { $0 >= numericId }
        if index < messages.endIndex, messages[index].id == message.id {
            history[message.channelId]?[index] = message
        }
    }

    /// A message in the channel's history, or an (ephemeral) interaction message of that channel.
    func anyMessage(_ id: Snowflake, in channelId: Snowflake) -> Message? {
        if let found = message(id, in: channelId) { return found }
        if let found = interactions.messages[id], found.channelId == channelId { return found }
        return nil
    }

    private func gatewayFormForInteraction(_ message: Message) -> Message {
        var form = message
        form.guildId = nil
        form.member = nil
        return form
    }

    private static func randomToken() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return "aW50ZXJhY3Rpb246" + String((0..<80).map { _ in alphabet.randomElement(using: &generator)! })
    }

    // MARK: - Application commands

    private func registeredCommand(named name: String, guildId: Snowflake?) -> ApplicationCommand? {
        let isChatInput: (ApplicationCommand) -> Bool = { ($0.type ?? 1) == 1 && $0.name == name }
        if let guildId, let command = interactions.guildCommands[guildId]?.first(where: isChatInput) {
            return command
        }
        return interactions.globalCommands.first(where: isChatInput)
    }

    /// `GET /applications/{app}/commands` and the guild variant.
    func applicationCommands(applicationId: Snowflake, guildId: Snowflake?) throws(DiscordAPIError) -> [ApplicationCommand] {
        try checkCommandScope(applicationId: applicationId, guildId: guildId)
        if let guildId { return interactions.guildCommands[guildId] ?? [] }
        return interactions.globalCommands
    }

    /// `PUT /applications/{app}/commands` (bulk overwrite) and the guild variant. Commands
    /// keep their id when one of the same name and type existed.
    func overwriteCommands(
        applicationId: Snowflake,
        guildId: Snowflake?,
        _ parsed: Result<[ApplicationCommand], DiscordAPIError>,
        now: Date = Date()
    ) throws(DiscordAPIError) -> [ApplicationCommand] {
        stats.commandPutRequests += 1
        try checkCommandScope(applicationId: applicationId, guildId: guildId)
        let requested = try parsed.get()
        if let errors = CommandValidation.errors(requested) {
            throw .invalidFormBody(errors)
        }
        let existing = guildId.map { interactions.guildCommands[$0] ?? [] } ?? interactions.globalCommands
        let version = snowflakes.next(at: now)
        let commands = requested.map { request -> ApplicationCommand in
            var command = request
            command.type = request.type ?? 1
            command.id = existing.first { $0.name == request.name && ($0.type ?? 1) == command.type }?.id ?? snowflakes.next(at: now)
            command.applicationId = Fixtures.botUser.id
            command.guildId = guildId
            command.description = request.description ?? ""
            command.nsfw = request.nsfw ?? false
            command.version = version
            if guildId == nil {
                command.integrationTypes = request.integrationTypes ?? [0]
                command.contexts = request.contexts
            }
            return command
        }
        if let guildId {
            interactions.guildCommands[guildId] = commands
        } else {
            interactions.globalCommands = commands
        }
        stats.commandPuts += 1
        return commands
    }

    private func checkCommandScope(applicationId: Snowflake, guildId: Snowflake?) throws(DiscordAPIError) {
        guard applicationId == Fixtures.botUser.id else { throw .missingAccess }
        if let guildId, guild(guildId) == nil { throw .unknownGuild }
    }
}

/// Discord's checks on application commands, as 50035 error trees indexed like the body.
enum CommandValidation {
    static func errors(_ commands: [ApplicationCommand]) -> JSONValue? {
        var tree: [String: JSONValue] = [:]
        if commands.filter({ ($0.type ?? 1) == 1 }).count > 100 {
            tree["_errors"] = .array([.object(["code": .string("BASE_TYPE_MAX_LENGTH"), "message": .string("Must be 100 or fewer in length.")])])
        }
        var seen = Set<String>()
        for (index, command) in commands.enumerated() {
            var problems: [String: JSONValue] = [:]
            let type = command.type ?? 1
            if ![1, 2, 3, 4].contains(type) {
                problems["type"] = .formError(code: "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4}.")
            }
            if let error = nameError(command.name, strict: type == 1) {
                problems["name"] = error
            } else if let name = command.name, !seen.insert("\(type):\(name)").inserted {
                problems["name"] = .formError(code: "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
            }
            if type == 1 {
                if let error = descriptionError(command.description) { problems["description"] = error }
            } else if let description = command.description, !description.isEmpty {
                problems["description"] = .formError(code: "APPLICATION_COMMAND_INVALID_DESCRIPTION", "Description must be empty for this command type.")
            }
            if let options = command.options, let error = optionsError(options) {
                problems["options"] = error
            }
            if !problems.isEmpty { tree[String(index)] = .object(problems) }
        }
        return tree.isEmpty ? nil : .object(tree)
    }

    /// CHAT_INPUT names: 1-32 characters, lowercase, letters, digits, `-`, `_` and `'` only.
    static func nameError(_ name: String?, strict: Bool) -> JSONValue? {
        guard let name, !name.isEmpty else {
            return .formError(code: "BASE_TYPE_REQUIRED", "This field is required")
        }
        guard (1...32).contains(name.count) else {
            return .formError(code: "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
        }
        if strict {
            let valid = name.unicodeScalars.allSatisfy { scalar in
                "-_'".unicodeScalars.contains(scalar) || scalar.properties.isAlphabetic || scalar.properties.numericType != nil
            }
            guard valid, name == name.lowercased() else {
                return .formError(code: "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
            }
        }
        return nil
    }

    static func descriptionError(_ description: String?) -> JSONValue? {
        guard let description, (1...100).contains(description.count) else {
            return .formError(code: "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        }
        return nil
    }

    static func optionsError(_ options: [CommandOption]) -> JSONValue? {
        var tree: [String: JSONValue] = [:]
        if options.count > 25 {
            tree["_errors"] = .array([.object(["code": .string("BASE_TYPE_MAX_LENGTH"), "message": .string("Must be 25 or fewer in length.")])])
        }
        var sawOptional = false
        var seen = Set<String>()
        for (index, option) in options.enumerated() {
            var problems: [String: JSONValue] = [:]
            if let type = option.type, !(1...11).contains(type) {
                problems["type"] = .formError(code: "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.")
            } else if option.type == nil {
                problems["type"] = .formError(code: "BASE_TYPE_REQUIRED", "This field is required")
            }
            if let error = nameError(option.name, strict: true) {
                problems["name"] = error
            } else if let name = option.name, !seen.insert(name).inserted {
                problems["name"] = .formError(code: "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME", "Option names must be unique")
            }
            if let error = descriptionError(option.description) { problems["description"] = error }
            if option.required == true, sawOptional {
                problems["required"] = .formError(code: "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options")
            }
            if option.required != true, option.type.map({ $0 > 2 }) ?? true { sawOptional = true }
            if let choices = option.choices, choices.count > 25 {
                problems["choices"] = .formError(code: "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            }
            if let nested = option.options, let error = optionsError(nested) {
                problems["options"] = error
            }
            if !problems.isEmpty { tree[String(index)] = .object(problems) }
        }
        return tree.isEmpty ? nil : .object(tree)
    }
}
