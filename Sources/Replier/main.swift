import ReplierCore
import Shared

await ServiceMain.run(
    .init(name: "Replier", summary: "posts agents' replies from the connector's inbox to Discord", needsDiscordToken: true)
) { config, logger in
    try ReplierServices.make(config: config, logger: logger)
}
