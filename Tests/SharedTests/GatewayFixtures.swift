/// Real-shaped gateway payloads for the gateway tests.
enum GatewayFixtures {
    static let sessionID = "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49"
    static let resumeURL = "wss://gateway-us-east1-b.discord.gg"
    static let botID = "900000000000000000"

    /// A READY dispatch as Discord sends it (abridged only in the lists).
    static func ready(sequence: Int = 1) -> String {
        """
        {"t":"READY","s":\(sequence),"op":0,"d":{"v":10,"user_settings":{},"user":{"verified":true,"username":"connector","mfa_enabled":false,"id":"\(botID)","global_name":null,"flags":0,"email":null,"discriminator":"0000","bot":true,"avatar":null},"session_type":"normal","session_id":"\(sessionID)","resume_gateway_url":"\(resumeURL)","relationships":[],"private_channels":[],"presences":[],"guilds":[{"unavailable":true,"id":"800000000000000000"}],"guild_join_requests":[],"geo_ordered_rtc_regions":["us-east","us-central"],"application":{"id":"\(botID)","flags":565248},"auth":{},"_trace":["[\\"gateway-prd-us-east1-b-0abc\\",{\\"micros\\":105123,\\"calls\\":[]}]"]}}
        """
    }

    static func messageCreate(sequence: Int) -> String {
        """
        {"t":"MESSAGE_CREATE","s":\(sequence),"op":0,"d":{"type":0,"tts":false,"timestamp":"2025-01-01T00:00:00.000000+00:00","pinned":false,"nonce":"1","mentions":[],"mention_roles":[],"mention_everyone":false,"id":"600000000000000000","flags":0,"embeds":[],"edited_timestamp":null,"content":"hi","components":[],"channel_id":"100000000000000001","author":{"username":"ada","public_flags":0,"id":"700000000000000000","global_name":"Ada","discriminator":"0","avatar":null},"attachments":[],"guild_id":"800000000000000000"}}
        """
    }

    static let hello = #"{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":45000,"_trace":["[\"gateway-prd\"]"]}}"#
    static let heartbeatAck = #"{"t":null,"s":null,"op":11,"d":null}"#
    static let heartbeatRequest = #"{"t":null,"s":null,"op":1,"d":null}"#
    static let reconnect = #"{"t":null,"s":null,"op":7,"d":null}"#
    static let invalidSessionResumable = #"{"t":null,"s":null,"op":9,"d":true}"#
    static let invalidSessionNotResumable = #"{"t":null,"s":null,"op":9,"d":false}"#
}
