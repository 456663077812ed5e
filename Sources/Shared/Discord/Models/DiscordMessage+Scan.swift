import Foundation

extension DiscordMessage {
    public struct ScanError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a `MESSAGE_CREATE` payload with `JSONScan`: exactly the fields `init(from:)` reads,
    /// by the same rules (an optional field absent or null is nil or empty; a field present with
    /// the wrong type is an error), without `JSONDecoder`'s pass of the whole document (the
    /// referenced message, embeds, components, ...) into Foundation objects. Ingest's hot path.
    public init(gatewayPayload data: Data) throws(ScanError) {
        let reader = try ObjectReader(bytes: [UInt8](data))
        id = try reader.string("id")
        channelID = try reader.string("channel_id")
        guildID = try reader.optionalString("guild_id")
        author = try reader.user("author")
        content = try reader.optionalString("content") ?? ""
        timestamp = try reader.optionalString("timestamp") ?? ""
        mentions = try reader.optionalArray("mentions") { (element) throws(ScanError) in try element.user() } ?? []
        webhookID = try reader.optionalString("webhook_id")
        if let object = try reader.optionalObject("member") { member = Member(nick: try object.optionalString("nick")) } else { member = nil }
        attachments = try reader.optionalArray("attachments") { (element) throws(ScanError) in
            let object = try element.object()
            return Attachment(
                id: try object.string("id"), filename: try object.string("filename"), contentType: try object.optionalString("content_type"),
                size: try object.int("size"), url: try object.string("url")
            )
        } ?? []
        if let object = try reader.optionalObject("message_reference") {
            messageReference = Reference(type: try object.optionalInt("type"), messageID: try object.optionalString("message_id"))
        } else {
            messageReference = nil
        }
    }

    /// One JSON object's members, read on demand.
    struct ObjectReader {
        let bytes: [UInt8]
        let members: [String: Range<Int>]
        let path: String

        init(bytes: [UInt8], range: Range<Int>? = nil, path: String = "message") throws(ScanError) {
            self.bytes = bytes
            self.path = path
            do {
                var members: [String: Range<Int>] = [:]
                for member in try JSONScan.members(bytes, in: range ?? 0..<bytes.count) { members[member.name] = member.value }
                self.members = members
            } catch {
                throw ScanError(description: "\(path) is not a JSON object (at byte \(error.offset))")
            }
        }

        /// A member that is present and not null.
        func value(_ name: String) -> Range<Int>? {
            members[name].flatMap { JSONScan.isNull(bytes, $0) ? nil : $0 }
        }

        func mismatch(_ name: String, _ expected: String) -> ScanError {
            ScanError(description: "\(path).\(name) is not \(expected)")
        }

        func string(_ name: String) throws(ScanError) -> String {
            guard let value = try optionalString(name) else { throw ScanError(description: "\(path).\(name) is missing") }
            return value
        }

        func optionalString(_ name: String) throws(ScanError) -> String? {
            guard let range = value(name) else { return nil }
            guard let text = JSONScan.string(bytes, range) else { throw mismatch(name, "a string") }
            return text
        }

        func int(_ name: String) throws(ScanError) -> Int {
            guard let value = try optionalInt(name) else { throw ScanError(description: "\(path).\(name) is missing") }
            return value
        }

        func optionalInt(_ name: String) throws(ScanError) -> Int? {
            guard let range = value(name) else { return nil }
            guard let number = JSONScan.int(bytes, range) else { throw mismatch(name, "an integer") }
            return number
        }

        func optionalBool(_ name: String) throws(ScanError) -> Bool? {
            guard let range = value(name) else { return nil }
            guard let flag = JSONScan.bool(bytes, range) else { throw mismatch(name, "a boolean") }
            return flag
        }

        func optionalObject(_ name: String) throws(ScanError) -> ObjectReader? {
            guard let range = value(name) else { return nil }
            return try ObjectReader(bytes: bytes, range: range, path: path + "." + name)
        }

        func user(_ name: String) throws(ScanError) -> DiscordUser {
            guard let object = try optionalObject(name) else { throw ScanError(description: "\(path).\(name) is missing") }
            return try object.user()
        }

        /// This object as a user.
        func user() throws(ScanError) -> DiscordUser {
            DiscordUser(id: try string("id"), username: try string("username"), globalName: try optionalString("global_name"), bot: try optionalBool("bot"))
        }

        func optionalArray<T>(_ name: String, _ element: (Element) throws(ScanError) -> T) throws(ScanError) -> [T]? {
            guard let range = value(name) else { return nil }
            guard let elements = JSONScan.elements(bytes, range) else { throw mismatch(name, "an array") }
            var result: [T] = []
            for (index, item) in elements.enumerated() { result.append(try element(Element(bytes: bytes, range: item, path: "\(path).\(name)[\(index)]"))) }
            return result
        }

        struct Element {
            let bytes: [UInt8]
            let range: Range<Int>
            let path: String

            func object() throws(ScanError) -> ObjectReader {
                try ObjectReader(bytes: bytes, range: range, path: path)
            }

            func user() throws(ScanError) -> DiscordUser {
                try object().user()
            }
        }
    }
}
