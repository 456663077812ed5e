// swift-tools-version: 6.1
import PackageDescription

/// One set of compiler settings for every target.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "discord-connector",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "Ingest", targets: ["Ingest"]),
        .executable(name: "Dispatcher", targets: ["Dispatcher"]),
        .executable(name: "Replier", targets: ["Replier"]),
        .executable(name: "Interactions", targets: ["Interactions"]),
        .executable(name: "DiscordSimulator", targets: ["DiscordSimulator"]),
        .executable(name: "EchoAgent", targets: ["EchoAgent"]),
        .executable(name: "connector", targets: ["ConnectorCLI"]),
        .executable(name: "ConnectorMCP", targets: ["ConnectorMCP"]),
        .executable(name: "ConnectorBench", targets: ["ConnectorBench"]),
        .library(name: "Shared", targets: ["Shared"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // Observability: counters through swift-metrics, exposed in Prometheus' text format.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // 0.x: pinned exactly, as a minor release may break the API.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", exact: "0.12.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "Shared",
            dependencies: [
                "CHiredis",
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                // Observability: /metrics, /healthz, /readyz (Sources/Shared/Observability).
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // The HTTP/1.1 server alone (no router, no date cache), for the three endpoints.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Each stage's logic is a library, so tests (and other services) can reach it; the
        // executables are a few lines of `main` over them.
        // The gateway's WebSocket and TLS stacks are linked only where the gateway is read.
        .target(
            name: "IngestCore",
            dependencies: [
                "Shared",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "DispatcherCore", dependencies: ["Shared", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .target(name: "ReplierCore", dependencies: ["Shared", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .target(
            name: "InteractionsCore",
            dependencies: [
                "Shared",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "Interactions", dependencies: ["InteractionsCore", "Shared", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")], swiftSettings: swiftSettings),
        .executableTarget(name: "Ingest", dependencies: ["IngestCore", "Shared", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")], swiftSettings: swiftSettings),
        .executableTarget(name: "Dispatcher", dependencies: ["DispatcherCore", "Shared", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")], swiftSettings: swiftSettings),
        .executableTarget(name: "Replier", dependencies: ["ReplierCore", "Shared", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")], swiftSettings: swiftSettings),
        .executableTarget(
            name: "EchoAgent",
            dependencies: ["Shared", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ConnectorCLI",
            dependencies: ["Shared", .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Its own executable: the MCP SDK pulls in all of Foundation.
        .executableTarget(
            name: "ConnectorMCP",
            dependencies: ["Shared", .product(name: "MCP", package: "swift-sdk")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "DiscordSimulator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                // Ed25519 signatures of HTTP deliveries to an Interactions Endpoint.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // `make bench`: drives the services as real processes and measures them.
        .executableTarget(name: "ConnectorBench", dependencies: ["Shared", "IngestCore", "TestSupport"], swiftSettings: swiftSettings),
        .target(
            name: "TestSupport",
            dependencies: [
                "Shared",
                // InteractionsEndpointStub: a small HTTP server the simulator delivers interactions to.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SharedTests", dependencies: ["Shared", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: swiftSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Shared", "TestSupport", "IngestCore", "DispatcherCore", "ReplierCore", "InteractionsCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
