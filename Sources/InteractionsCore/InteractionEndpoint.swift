import Foundation
import Logging
import Shared

/// The Interactions Endpoint's request handling, apart from HTTP: Discord POSTs an interaction;
/// it is verified (Ed25519 over timestamp + body), decided (`InteractionIntake`) and, for a
/// request to an agent, written to the bus before the deferral is returned.
///
/// Written first, answered second: Discord does not retry an interaction, so an endpoint that
/// deferred and then died before the write would lose the request silently, while one that dies
/// before answering shows the person "This interaction failed" and they can ask again. A write
/// that Redis cannot take within `writeDeadline` (well inside Discord's 3 s) is answered with an
/// ephemeral apology instead.
public struct InteractionEndpoint: Sendable {
    public struct Reply: Sendable, Equatable {
        public var status: Int
        public var body: Data
    }

    let signature: InteractionSignature
    let intake: InteractionIntake
    let acceptor: InboundAcceptor
    let writeDeadline: Duration
    let ledger: InteractionLedger
    let logger: Logger

    /// The largest body accepted (Discord's interactions are a few KiB; resolved data can add some).
    public static let maxBodyBytes = 256 * 1024

    public init(signature: InteractionSignature, intake: InteractionIntake, acceptor: InboundAcceptor, writeDeadline: Duration = .milliseconds(2_000), ledger: InteractionLedger, logger: Logger) {
        self.signature = signature
        self.ledger = ledger
        self.intake = intake
        self.acceptor = acceptor
        self.writeDeadline = writeDeadline
        self.logger = logger
    }

    public func handle(body: Data, signatureHeader: String?, timestampHeader: String?) async -> Reply {
        let received = ContinuousClock.now
        do {
            try signature.verify(signature: signatureHeader, timestamp: timestampHeader, body: body)
        } catch {
            await ledger.record(type: "unknown", outcome: .refusedSignature)
            logger.notice("refused an interaction request: \(error)")
            return Self.error(401, "invalid request signature")
        }
        let interaction: Interaction
        do {
            interaction = try JSON.decode(Interaction.self, from: body)
        } catch {
            await ledger.record(type: "unknown", outcome: .undecodable)
            logger.error("cannot decode a signed interaction: \(error)")
            return Self.error(400, "cannot decode the interaction")
        }
        let decision = intake.decide(interaction)
        let (response, outcome) = await answer(interaction, decision)
        let answeredIn = ContinuousClock.now - received
        // Counted once the answer is on its way, not before.
        let ledger = ledger
        Task { await ledger.record(type: InteractionLedger.typeName(interaction), outcome: outcome, answeredIn: answeredIn) }
        return Self.json(response)
    }

    /// The HTTP answer to a verified interaction, and how it is counted. A request for an agent
    /// is on the bus before its deferral is returned.
    private func answer(_ interaction: Interaction, _ decision: InteractionIntake.Decision) async -> (InteractionResponse, InteractionLedger.Outcome) {
        switch decision {
        case .pong:
            return (.pong, .pong)
        case .refuse(let text):
            logger.info("refused interaction \(interaction.id): \(text)")
            return (.ephemeral(text), .refused)
        case .accept(let message, let reply):
            return written(interaction, await bounded { await acceptor.accept(message, cursorChannel: nil, interaction: reply) }, decision)
        case .click(let click):
            return written(interaction, await bounded { await acceptor.accept(click: click) }, decision)
        }
    }

    private func written(_ interaction: Interaction, _ outcome: InboundAcceptor.Outcome?, _ decision: InteractionIntake.Decision) -> (InteractionResponse, InteractionLedger.Outcome) {
        switch outcome {
        case .accepted?, .duplicate?:
            return (decision.response, .deferred)
        case .expired?:
            return (.ephemeral(InteractionIntake.expiredComponents), .expired)
        case .stopped?, .failed?, nil:
            logger.error("could not write interaction \(interaction.id) to the bus in time; told the person to try again")
            return (.ephemeral("The agents cannot take requests right now; please try again in a minute."), .failed)
        }
    }


    /// The bus write, bounded by `writeDeadline`; nil when it did not finish in time.
    private func bounded(_ write: @escaping @Sendable () async -> InboundAcceptor.Outcome) async -> InboundAcceptor.Outcome? {
        await withTaskGroup(of: InboundAcceptor.Outcome?.self) { group in
            group.addTask { await write() }
            group.addTask {
                try? await Task.sleep(for: writeDeadline)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    static func json(_ response: InteractionResponse) -> Reply {
        Reply(status: 200, body: (try? JSON.encode(response)) ?? Data("{}".utf8))
    }

    static func error(_ status: Int, _ message: String) -> Reply {
        Reply(status: status, body: (try? JSON.encode(["message": message])) ?? Data())
    }
}
