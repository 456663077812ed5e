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
    let logger: Logger

    /// The largest body accepted (Discord's interactions are a few KiB; resolved data can add some).
    public static let maxBodyBytes = 256 * 1024

    public init(signature: InteractionSignature, intake: InteractionIntake, acceptor: InboundAcceptor, writeDeadline: Duration = .milliseconds(2_000), logger: Logger) {
        self.signature = signature
        self.intake = intake
        self.acceptor = acceptor
        self.writeDeadline = writeDeadline
        self.logger = logger
    }

    public func handle(body: Data, signatureHeader: String?, timestampHeader: String?) async -> Reply {
        do {
            try signature.verify(signature: signatureHeader, timestamp: timestampHeader, body: body)
        } catch {
            ConnectorMetrics.interactions(type: "unknown", outcome: "refused_signature").increment()
            logger.notice("refused an interaction request: \(error)")
            return Self.error(401, "invalid request signature")
        }
        let interaction: Interaction
        do {
            interaction = try JSON.decode(Interaction.self, from: body)
        } catch {
            ConnectorMetrics.interactions(type: "unknown", outcome: "undecodable").increment()
            logger.error("cannot decode a signed interaction: \(error)")
            return Self.error(400, "cannot decode the interaction")
        }
        let type = Self.typeName(interaction)
        switch intake.decide(interaction) {
        case .pong:
            ConnectorMetrics.interactions(type: type, outcome: "pong").increment()
            return Self.json(.pong)
        case .refuse(let text):
            ConnectorMetrics.interactions(type: type, outcome: "refused").increment()
            logger.info("refused interaction \(interaction.id): \(text)")
            return Self.json(.ephemeral(text))
        case .accept(let message, let reply):
            switch await write(message, reply) {
            case .accepted?, .duplicate?:
                ConnectorMetrics.interactions(type: type, outcome: "deferred").increment()
                return Self.json(.deferred)
            case .stopped?, .failed?, nil:
                ConnectorMetrics.interactions(type: type, outcome: "failed").increment()
                logger.error("could not write interaction \(interaction.id) to the bus in time; told the person to try again")
                return Self.json(.ephemeral("The agents cannot take requests right now; please try again in a minute."))
            }
        }
    }

    /// The bus write, bounded by `writeDeadline`; nil when it did not finish in time.
    private func write(_ message: InboundMessage, _ reply: PendingContext.InteractionReply) async -> InboundAcceptor.Outcome? {
        await withTaskGroup(of: InboundAcceptor.Outcome?.self) { group in
            group.addTask { await acceptor.accept(message, cursorChannel: nil, interaction: reply) }
            group.addTask {
                try? await Task.sleep(for: writeDeadline)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    static func typeName(_ interaction: Interaction) -> String {
        switch interaction.kind {
        case .ping?: "ping"
        case .applicationCommand?: "command"
        case .messageComponent?: "component"
        case .autocomplete?: "autocomplete"
        case .modalSubmit?: "modal"
        case nil: "unknown"
        }
    }

    static func json(_ response: InteractionResponse) -> Reply {
        Reply(status: 200, body: (try? JSON.encode(response)) ?? Data("{}".utf8))
    }

    static func error(_ status: Int, _ message: String) -> Reply {
        Reply(status: status, body: (try? JSON.encode(["message": message])) ?? Data())
    }
}
