import Foundation

/// Server processes a test starts together and stops together (a Sentinel setup, a cluster).
public protocol ServerGroup: AnyObject {
    /// The servers' logs, for a failure message.
    var logs: String { get }
    /// Stops every process of the group by the pid it was started with.
    func stop() async
}

extension ServerGroup {
    /// Runs `body` against a fresh group made in a scratch directory and stops every process
    /// afterwards, pass or fail; a failure is rethrown with the servers' logs attached.
    static func withScratch(label: String, make: (String) async throws -> Self, _ body: (Self) async throws -> Void) async throws {
        let directory = try makeScratchDirectory(label)
        let group = try await make(directory)
        do {
            try await body(group)
        } catch {
            let logs = group.logs
            await group.stop()
            throw TestSupportError("\(error)\n--- redis servers ---\n\(logs)")
        }
        await group.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
