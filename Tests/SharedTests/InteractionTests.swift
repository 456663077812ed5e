import Crypto
import Foundation
import Testing
@testable import Shared

@Suite("Interaction signatures, signed custom_ids and payloads")
struct InteractionTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var secret: String
        var publicKey: String
        var message: String
        var signature: String
        var testDescription: String { name }
    }

    /// RFC 8032 section 7.1, tests 1-3.
    static let vectors = [
        Vector(
            name: "TEST 1 (empty message)",
            secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            message: "",
            signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        ),
        Vector(
            name: "TEST 2 (one byte)",
            secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            message: "72",
            signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ),
        Vector(
            name: "TEST 3 (two bytes)",
            secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            message: "af82",
            signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
        ),
    ]

    @Test("RFC 8032 vectors verify, and fail with one bit flipped", arguments: vectors)
    func rfc8032(vector: Vector) throws {
        let verifier = try InteractionSignature(publicKeyHex: vector.publicKey)
        let message = Data(try #require(Hex.decode(vector.message)))
        var signature = try #require(Hex.decode(vector.signature))
        #expect(verifier.isValid(signature: signature, message: message))
        // The secret key derives the same public key.
        let secret = try Curve25519.Signing.PrivateKey(rawRepresentation: try #require(Hex.decode(vector.secret)))
        #expect(hexString(secret.publicKey.rawRepresentation) == vector.publicKey)
        signature[0] ^= 1
        #expect(!verifier.isValid(signature: signature, message: message))
        #expect(!verifier.isValid(signature: try #require(Hex.decode(vector.signature)), message: message + Data([0])))
    }

    /// A fixed test key (RFC 8032 TEST 1's secret), rebuilt where needed: CryptoKit keys are not Sendable.
    static var key: Curve25519.Signing.PrivateKey {
        try! Curve25519.Signing.PrivateKey(rawRepresentation: Hex.decode(vectors[0].secret)!)
    }
    static let now = Date(timeIntervalSince1970: 1_764_000_000)

    func signed(_ body: String, at timestamp: String) throws -> String {
        hexString(try Self.key.signature(for: Data((timestamp + body).utf8)))
    }

    @Test("a request signed over timestamp + body verifies; tampering, staleness and missing headers are refused")
    func requestSignature() throws {
        let verifier = try InteractionSignature(publicKeyHex: hexString(Self.key.publicKey.rawRepresentation))
        let body = #"{"type":1}"#
        let timestamp = String(Int(Self.now.timeIntervalSince1970))
        let signature = try signed(body, at: timestamp)
        try verifier.verify(signature: signature, timestamp: timestamp, body: Data(body.utf8), now: Self.now)
        let cases: [(String?, String?, String, InteractionSignature.Refusal)] = [
            (signature, timestamp, #"{"type":2}"#, .badSignature),
            (signature, String(Int(Self.now.timeIntervalSince1970) + 1), body, .badSignature),
            (nil, timestamp, body, .missingHeaders),
            (signature, nil, body, .missingHeaders),
            ("zz" + signature.dropFirst(2), timestamp, body, .malformedSignature),
            (String(signature.prefix(64)), timestamp, body, .malformedSignature),
        ]
        for (signature, timestamp, body, refusal) in cases {
            #expect(throws: refusal) { try verifier.verify(signature: signature, timestamp: timestamp, body: Data(body.utf8), now: Self.now) }
        }
        let old = String(Int(Self.now.timeIntervalSince1970) - 3600)
        #expect(throws: InteractionSignature.Refusal.stale(seconds: 3600)) {
            try verifier.verify(signature: try signed(body, at: old), timestamp: old, body: Data(body.utf8), now: Self.now)
        }
        #expect(throws: InteractionSignature.Refusal.malformedTimestamp) {
            try verifier.verify(signature: try signed(body, at: "soon"), timestamp: "soon", body: Data(body.utf8), now: Self.now)
        }
    }

    @Test("DISCORD_PUBLIC_KEY must be 32 bytes of hex", arguments: ["", "abc", String(repeating: "g", count: 64), String(repeating: "ab", count: 31)])
    func badPublicKey(text: String) {
        let error = #expect(throws: ConfigError.self) { try InteractionSignature(publicKeyHex: text) }
        #expect(error?.variable == "DISCORD_PUBLIC_KEY")
    }

    @Test("a signed custom_id names its component set and place; forged or tampered ones name nothing")
    func componentIDs() {
        let signer = ComponentIDSigner(key: "test-key")
        let target = ComponentIDSigner.Target(set: "1733250000123-17", index: 3)
        let id = signer.sign(target)
        #expect(id.utf8.count <= 64)
        #expect(signer.verify(id) == target)
        #expect(ComponentIDSigner(key: "another-key").verify(id) == nil)
        #expect(signer.verify(id.replacingOccurrences(of: ":3:", with: ":4:")) == nil)
        #expect(signer.verify(id.replacingOccurrences(of: "1733250000123-17", with: "1733250000123-18")) == nil)
        #expect(signer.verify(String(id.dropLast())) == nil)
        #expect(signer.verify("approve") == nil)
        #expect(signer.verify("") == nil)
    }

    /// Shapes from Discord's docs (interactions/receiving-and-responding).
    @Test("interaction payloads decode: PING, a guild slash command, a DM button click, a select")
    func payloads() throws {
        let ping = try JSON.decode(Interaction.self, from: Data(#"{"id":"1","application_id":"2","type":1,"token":"t","version":1}"#.utf8))
        #expect(ping.kind == .ping)

        let command = try JSON.decode(Interaction.self, from: Data(#"""
        {"id":"786008729715212338","application_id":"775799577604522054","type":2,"token":"A_UNIQUE_TOKEN","version":1,
         "guild_id":"290926798626357999","channel_id":"645027906669510667",
         "data":{"id":"771825006014889984","name":"ask","type":1,
                 "options":[{"name":"prompt","type":3,"value":"summarise today's deploys"},{"name":"agent","type":3,"value":"loom"},{"name":"count","type":4,"value":3}]},
         "member":{"user":{"id":"53908232506183680","username":"alice","discriminator":"0","avatar":null},"roles":[],"nick":null,"permissions":"2147483647"},
         "locale":"en-US","guild_locale":"en-US","app_permissions":"442368"}
        """#.utf8))
        #expect(command.kind == .applicationCommand)
        #expect(command.data?.name == "ask")
        #expect(command.option("prompt") == "summarise today's deploys")
        #expect(command.option("agent") == "loom")
        #expect(command.option("count") == "3")
        #expect(command.actor?.id == "53908232506183680")
        #expect(command.guildID == "290926798626357999")

        let click = try JSON.decode(Interaction.self, from: Data(#"""
        {"id":"846462639134605312","application_id":"775799577604522054","type":3,"token":"T","version":1,"channel_id":"345626669114982999",
         "user":{"id":"53908232506183680","username":"alice","discriminator":"0"},
         "message":{"id":"846462639134605300","channel_id":"345626669114982999","content":"Deploy 1.4.2 to prod?","components":[]},
         "data":{"custom_id":"c1:x:0:tag","component_type":2}}
        """#.utf8))
        #expect(click.kind == .messageComponent)
        #expect(click.data?.customID == "c1:x:0:tag")
        #expect(click.message?.id == "846462639134605300")
        #expect(click.actor?.username == "alice")
        #expect(click.guildID == nil)

        let select = try JSON.decode(Interaction.self, from: Data(#"{"id":"3","application_id":"2","type":3,"token":"t","data":{"custom_id":"s","component_type":3,"values":["mage","rogue"]}}"#.utf8))
        #expect(select.data?.values == ["mage", "rogue"])
    }

    @Test("responses encode as Discord expects: PONG, deferrals, an ephemeral refusal")
    func responses() throws {
        #expect(try JSON.encodeString(InteractionResponse.pong) == #"{"type":1}"#)
        #expect(try JSON.encodeString(InteractionResponse.deferred) == #"{"type":5}"#)
        #expect(try JSON.encodeString(InteractionResponse.deferredUpdate) == #"{"type":6}"#)
        let refusal = try JSON.decode(JSONValue.self, from: try JSON.encode(InteractionResponse.ephemeral("not for you")))
        #expect(refusal["type"]?.intValue == 4)
        #expect(refusal["data"]?["flags"]?.intValue == 64)
        #expect(refusal["data"]?["allowed_mentions"]?["parse"] == .array([]))
    }
}
