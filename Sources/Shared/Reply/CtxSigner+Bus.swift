import Logging

extension CtxSigner {
    /// The signer for this deployment: `CTX_SIGNING_KEY` when set; otherwise a key generated once
    /// and kept in Redis, so every Dispatcher and Replier copy agrees on it.
    public static func resolve(config: ConnectorConfig, redis: RedisClient, keys: BusKeys, logger: Logger) async throws(RedisError) -> CtxSigner? {
        try await resolveKey(config: config, redis: redis, keys: keys, logger: logger).map(CtxSigner.init(key:))
    }

    /// The deployment's signing key (also the component-id signer's, under another label);
    /// nil when the process stopped before Redis answered.
    public static func resolveKey(config: ConnectorConfig, redis: RedisClient, keys: BusKeys, logger: Logger) async throws(RedisError) -> String? {
        if let key = config.ctxSigningKey { return key }
        let key = try await RedisClient.retrying(logger: logger, what: "loading the ctx signing key") { () throws(RedisError) -> String in
            try await redis.run(SET(keys.ctxSigningKey, RedisBytes(generateKey()), onlyIfAbsent: true))
            guard let key = try await redis.run(GET(keys.ctxSigningKey)) else {
                throw RedisError(.protocolViolation, "ctx signing key vanished")
            }
            return key
        }
        guard let key else { return nil }
        logger.warning("CTX_SIGNING_KEY is not set: using a generated key kept in Redis at \(keys.ctxSigningKey); set CTX_SIGNING_KEY in production")
        return key
    }
}
