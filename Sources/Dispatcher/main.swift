import DispatcherCore
import Shared

await ServiceMain.run(
    .init(name: "Dispatcher", summary: "routes inbound Discord messages to agents' inbox streams", needsDiscordToken: false)
) { config, logger in
    [DispatcherService(config: config, logger: logger)]
}
