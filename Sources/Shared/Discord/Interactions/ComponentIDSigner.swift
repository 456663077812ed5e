import Crypto
import Foundation

/// The `custom_id`s the connector puts on an agent's buttons and selects instead of the agent's
/// own: `c1:<set>:<n>:<tag>`, naming the component set (the connector-inbox entry whose record
/// carried the components) and the component's place in it, with a tag (the first 12 bytes of HMAC-SHA256 under the ctx
/// signing key, base64url) that only this connector can make. A click whose id does not verify
/// reaches no agent; the agent's own `custom_id` is looked up in the set's `ComponentContext`.
/// At most 64 characters, well within Discord's 100.
public struct ComponentIDSigner: Sendable {
    private let mac: HMACTag

    public init(key: String) {
        self.mac = HMACTag(key: key, length: 12)
    }

    public struct Target: Sendable, Equatable {
        /// The entry id of the record that carried the components.
        public var set: String
        public var index: Int

        public init(set: String, index: Int) {
            self.set = set
            self.index = index
        }
    }

    public func sign(_ target: Target) -> String {
        let body = "c1:\(target.set):\(target.index)"
        return body + ":" + tag(body)
    }

    /// What a signed id names; nil for an id this connector did not sign (or one tampered with).
    public func verify(_ customID: String) -> Target? {
        guard customID.utf8.count <= 100, let colon = customID.lastIndex(of: ":") else { return nil }
        let body = String(customID[..<colon])
        guard mac.matches(customID[customID.index(after: colon)...], for: "cid1:\(body)") else { return nil }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "c1", let index = Int(parts[2]), index >= 0 else { return nil }
        return Target(set: String(parts[1]), index: index)
    }

    private func tag(_ body: String) -> String {
        mac.tag("cid1:\(body)")
    }
}
