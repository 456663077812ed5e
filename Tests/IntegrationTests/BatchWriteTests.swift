import Foundation
import Logging
import Shared
import Testing
import TestSupport
@testable import IngestCore

/// The batched writes of the inbound path against a real redis-server: one round trip for many
/// messages, with each message's guarantees those of a write on its own.
@Suite(.timeLimit(.minutes(1)))
struct BatchWriteTests {
    func message(_ index: Int, id: String? = nil) -> InboundMessage {
        InboundMessage(
            requestID: UUID().uuidString.lowercased(), kind: .mention, guildID: "1", channelID: "300000000000000001", threadID: "",
            messageID: id ?? String(1_300_000_000_000_000_000 + index), authorID: "2", authorName: "alice", content: "m\(index)", timestamp: ""
        )
    }

    @Test("a batch with an already accepted message and scripts flushed from Redis: the new ones written once, in order, the seen one not again")
    func acceptBatch() async throws {
        try await RedisServer.with(label: "batch-accept") { server in
            let redis = try server.makeClient()
            let acceptor = InboundAcceptor(redis: redis, keys: BusKeys(connectorAgentName: "discord-connector"), pendingTTL: 60, noticeAfter: 0, logger: Logger(label: "batch"))
            #expect(await acceptor.accept(message(3), cursorChannel: "300000000000000001") == .accepted)
            // After a Redis restart its scripts are gone: the pipeline meets NOSCRIPT.
            try await redis.send("SCRIPT", "FLUSH")
            let batch = (0..<6).map { (message: message($0), cursorChannel: Optional("300000000000000001")) }
            let outcomes = await acceptor.accept(batch: batch)
            #expect(outcomes == [.accepted, .accepted, .accepted, .duplicate, .accepted, .accepted])
            let contents = try await redis.run(XRANGE("discord:inbound")).compactMap { $0.fields["content"] }
            #expect(contents == ["m3", "m0", "m1", "m2", "m4", "m5"])
            // The catch-up cursor is the newest message id; every new one has its pending context.
            #expect(try await redis.run(HGET("discord:cursors", field: "300000000000000001")) == String(1_300_000_000_000_000_005))
            for item in batch where item.message.content != "m3" {
                #expect(try await redis.run(EXISTS("discord:pending:\(item.message.requestID)")))
            }
            // The same batch again (a resume replay): nothing written.
            #expect(await acceptor.accept(batch: batch).allSatisfy { $0 == .duplicate })
            #expect(try await redis.run(XLEN("discord:inbound")) == 6)
        }
    }

    @Test("the gateway's frame buffer hands over frames in order, in batches of what has arrived, and ends once finished and drained")
    func frameBuffer() async throws {
        let buffer = FrameBuffer()
        for index in 0..<5 { #expect(buffer.append("f\(index)") == index + 1) }
        #expect(buffer.count == 5)
        #expect(await buffer.next(max: 3) == ["f0", "f1", "f2"])
        #expect(await buffer.next(max: 3) == ["f3", "f4"])
        // Waits for the next frame: idle (every frame handed over is handled), so a frame may be skipped.
        #expect(!buffer.isIdle)
        let waiting = Task { await buffer.next(max: 10) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(buffer.isIdle)
        buffer.noteSkipped(9)
        buffer.noteSkipped(7)
        #expect(buffer.takeSkipped() == 9)
        #expect(buffer.takeSkipped() == nil)
        buffer.append("f5")
        #expect(await waiting.value == ["f5"])
        buffer.append("f6")
        buffer.finish()
        #expect(await buffer.next(max: 10) == ["f6"])
        #expect(await buffer.next(max: 10) == nil)
    }
}
