import InteractionsCore
import Shared

await ServiceMain.run(
    .init(name: "Interactions", summary: "the Interactions Endpoint: Discord's signed interaction POSTs -> the connector's inbound stream", needsDiscordToken: false)
) { config, logger in
    try InteractionsService.validate(config)
    return [InteractionsService(config: config, logger: logger)]
}
