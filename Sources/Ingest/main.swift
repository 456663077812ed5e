import IngestCore
import Shared

await ServiceMain.run(
    .init(name: "Ingest", summary: "Discord gateway -> the connector's inbound stream", needsDiscordToken: true)
) { config, logger in
    [IngestService(config: config, logger: logger)]
}
