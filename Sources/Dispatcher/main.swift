import DispatcherCore
import Shared

await ServiceMain.run(
    .init(name: "Dispatcher", summary: "routes inbound Discord messages to agents' inbox streams", needsDiscordToken: false)
) { config, logger in
    // The janitor runs in every Dispatcher copy, one at a time (a lease): off the hot path.
    [DispatcherService(config: config, logger: logger), Janitor(config: config, logger: logger)]
}
