import Shared

/// Holds back posts to a channel whose rate-limit bucket Discord reported as empty, until it
/// resets, so this process does not provoke 429s it could foresee.
actor ChannelGate {
    private var openAt: [String: ContinuousClock.Instant] = [:]

    func wait(for channelID: String) async {
        guard let until = openAt[channelID] else { return }
        if until > .now { try? await Task.sleep(until: until) }
        openAt[channelID] = nil
    }

    func record(_ info: RateLimitInfo, for channelID: String) {
        if info.remaining == 0, let resetAfter = info.resetAfter {
            openAt[channelID] = .now + .milliseconds(Int64(resetAfter * 1000))
        }
    }

    func pause(_ channelID: String, seconds: Double) {
        openAt[channelID] = .now + .milliseconds(Int64(seconds * 1000))
    }
}
