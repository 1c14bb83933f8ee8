import Foundation
import Hummingbird
import Jarvis
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import Realtime
import ServiceLifecycle
import Store
import Docker
import Alerts
import Telemetry
import Accounts
import WSCompression
import WSCore

/// Composition root: builds the hub, the HTTP/WebSocket server and the producers, and runs them
/// as one service group that shuts down on SIGTERM/SIGINT.
public enum NebulaServer {
    public static let version = "0.1.0"

    /// Runs until a shutdown signal. `announce` receives the lines a person starting the server
    /// needs (where to open it, a freshly generated key).
    public static func run(_ configuration: ServerConfiguration, logger: Logger, announce: @escaping @Sendable (String) -> Void) async throws {
        try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
        let (adminKey, keySource) = try AdminKeyStore(dataDirectory: configuration.dataDirectory)
            .load(environmentKey: configuration.apiKey)

        let database = try await StoreBootstrap.open(configuration, logger: logger)
        let vault: SecretVault
        do {
            vault = try await SecretVault.open(database: database, environmentKey: configuration.secretKey, dataDirectory: configuration.dataDirectory)
        } catch {
            await database.close()
            throw error
        }
        logger.info("secret key loaded", metadata: ["source": "\(vault.keySource)"])
        let keys = APIKeyService(database: database)
        let directory = UserDirectory(database: database)
        let secondFactor = SecondFactor(database: database, box: vault.box)
        let setup = try await directory.count() == 0 ? SetupToken.generate() : nil

        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
        let metrics = RealtimeMetrics()
        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
        var registry = ChannelRegistry.standard
        registry.register(JarvisChannels.family)
        let broker = BrokerChoice(configuration, registry: registry, group: eventLoopGroup, logger: logger)
        let conversations = ConversationRepository(database)
        let hub = Hub(
            registry: registry, broker: broker.broker, metrics: metrics,
            ownership: JarvisConversationOwners(conversations: conversations), logger: logger)
        let audit = AuditTrail(repository: AuditLogRepository(database), hub: hub, logger: logger)
        let sessions = SessionService(database: database, secondFactor: secondFactor, audit: audit)
        let authenticator = ChainedAuthenticator(authenticators: [
            adminKey, StoredKeyAuthenticator(keys: keys, logger: logger), SessionAuthenticator(sessions: sessions, logger: logger),
        ])
        let connections = ConnectionRegistry()
        let coordination = broker.coordination
        let telemetry = HostTelemetryService(hub: hub, coordination: coordination, interval: configuration.telemetryInterval, logger: logger)
        guard let dockerEndpoint = DockerEndpoint(configuration.dockerHost) else {
            throw ConfigurationError(message: "--docker-host '\(configuration.dockerHost)' is not unix:///path or tcp://host:port")
        }
        let docker = DockerClient(endpoint: dockerEndpoint, eventLoopGroup: eventLoopGroup)
        let containers = ContainerTelemetryService(
            client: docker, cgroups: configuration.containerStatsFromCgroups ? CgroupStatsReader.available(logger: logger) : nil,
            hub: hub, coordination: coordination, interval: configuration.telemetryInterval, logger: logger
        )
        let logTails = LogTailService(client: docker, hub: hub, coordination: coordination, logger: logger)
        let storage = StorageService(
            configuration: .init(
                directories: configuration.storageDirectories, filesystemInterval: configuration.telemetryInterval,
                scanInterval: configuration.storageScanInterval
            ),
            docker: docker, hub: hub, coordination: coordination, logger: logger
        )
        let notifier = Notifier(
            targets: configuration.notificationTargets, eventLoopGroup: eventLoopGroup, server: "Nebula Command on \(Hostname.current())",
            logger: logger
        )
        let history = HistoryService(
            repository: MetricHistoryRepository(database), host: telemetry, containers: containers, storage: storage,
            coordination: coordination, interval: min(configuration.telemetryInterval, .seconds(5)), logger: logger
        )
        let alerts = AlertService(
            rules: configuration.alertRules, interval: configuration.telemetryInterval, storage: storage, containers: containers,
            repository: AlertRepository(database), notifier: notifier, hub: hub, coordination: coordination, logger: logger
        )
        let webSocketRoutes = WebSocketRoutes(authenticator: authenticator, connections: connections, echoEnabled: configuration.echoEndpoint)

        let router = Router(context: NebulaRequestContext.self)
        router.add(middleware: ClientAddressMiddleware(trustedProxies: configuration.trustedProxies))
        router.add(middleware: AccessLogMiddleware(logger: logger))
        router.add(middleware: SecurityHeadersMiddleware())
        if let web = configuration.webDirectory {
            router.add(middleware: FileMiddleware(web.path, searchForIndexHtml: true, logger: logger))
        }
        OperationsRoutes(
            hub: hub, telemetry: telemetry, containers: containers, connections: connections, database: database, prometheus: prometheus,
            startedAt: .now, version: version
        ).register(on: router)
        APIRoutes(hub: hub, authenticator: authenticator, maxBodyBytes: configuration.maxFrameBytes).register(on: router)
        KeyRoutes(keys: keys, audit: audit, authenticator: authenticator).register(on: router)
        AuthRoutes(sessions: sessions, authenticator: authenticator, connections: connections, audit: audit).register(on: router)
        SetupRoutes(directory: directory, sessions: sessions, setupToken: setup?.holder ?? SetupToken(digest: nil), audit: audit).register(on: router)
        AccountRoutes(directory: directory, sessions: sessions, secondFactor: secondFactor, authenticator: authenticator, connections: connections, audit: audit)
            .register(on: router)
        UserRoutes(directory: directory, authenticator: authenticator, connections: connections, audit: audit).register(on: router)
        AuditRoutes(repository: AuditLogRepository(database), authenticator: authenticator).register(on: router)
        SecretRoutes(vault: vault, authenticator: authenticator, audit: audit).register(on: router)
        AlertRoutes(repository: AlertRepository(database), authenticator: authenticator).register(on: router)
        HistoryRoutes(repository: MetricHistoryRepository(database), authenticator: authenticator).register(on: router)
        ContainerRoutes(service: containers, client: docker, authenticator: authenticator, audit: audit).register(on: router)
        let jarvisHTTP = OpenAICompatibleProvider.makeHTTPClient(eventLoopGroup: eventLoopGroup)
        let jarvisProviders = JarvisProviders(
            repository: JarvisProviderRepository(database), box: vault.box, client: jarvisHTTP,
            breakerPolicy: CircuitBreaker.Policy(), logger: logger)
        let jarvisTools = JarvisToolbox(
            catalog: ToolCatalog([
                HostMetricsTool(telemetry: telemetry), ContainerListTool(containers: containers), ContainerLogsTool(client: docker),
                DiskUsageTool(storage: storage), DNSResolveTool(), HTTPCheckTool(client: jarvisHTTP), TLSCertificateTool(group: eventLoopGroup),
                RestartContainerTool(client: docker, containers: containers),
                PruneBuildCacheTool(client: docker), PruneDanglingImagesTool(client: docker),
                ClearCacheTool(directories: configuration.cacheDirectories.map { NamedDirectory(name: $0.name, path: $0.path) }),
                RotateLogTool(directories: configuration.logDirectories.map { NamedDirectory(name: $0.name, path: $0.path) }),
            ]),
            calls: ToolCallRepository(database))
        let jarvis = JarvisService(
            conversations: conversations, providers: jarvisProviders,
            tools: ToolCallHandler(toolbox: jarvisTools, conversations: conversations, hub: hub, audit: audit, logger: logger), hub: hub, logger: logger)
        JarvisRoutes(service: jarvis, authenticator: authenticator, audit: audit).register(on: router)
        JarvisProviderRoutes(providers: jarvisProviders, authenticator: authenticator, audit: audit).register(on: router)
        JarvisToolRoutes(toolbox: jarvisTools, authenticator: authenticator, audit: audit).register(on: router)
        let maintenance = MaintenanceAdvisor(
            interval: configuration.maintenanceInterval, thresholds: configuration.maintenanceThresholds, storage: storage, containers: containers,
            logDirectories: configuration.logDirectories.map { NamedDirectory(name: $0.name, path: $0.path) }, tools: jarvis.tools, hub: hub,
            coordination: coordination, logger: logger)
        MCPRoutes(
            server: MCPToolServer(tools: jarvis.tools, version: version, approvalWait: configuration.mcpApprovalWait, logger: logger),
            authenticator: authenticator
        ).register(on: router)
        webSocketRoutes.register(on: router)

        let webSocketConfiguration = WebSocketUpgradeChannel.Configuration(
            maxFrameSize: configuration.maxFrameBytes,
            extensions: [
                // Small windows and memory level: zlib's defaults cost ~120 KiB per connection,
                // and our messages are small JSON that compresses well within 2 KiB of history.
                WebSocketExtensionFactory.perMessageDeflate(
                    clientMaxWindow: 11,
                    serverMaxWindow: 11,
                    compressionLevel: 6,
                    memoryLevel: 3,
                    maxDecompressedFrameSize: configuration.maxFrameBytes,
                    minFrameSizeToCompress: 256
                ).build()
            ],
            connection: ConnectionHandler.Configuration(
                pingInterval: TimeAmount(configuration.pingInterval),
                maxQueueBytes: configuration.maxQueueBytes,
                maxMessageSize: configuration.maxFrameBytes
            )
        )
        let runner = NebulaRouteRunner(hub: hub, connections: connections, maxMessageSize: configuration.maxFrameBytes, maxQueueBytes: configuration.maxQueueBytes)
        let app = Application(
            router: router,
            server: .nebula(configuration: webSocketConfiguration, policy: webSocketRoutes, runner: runner, metrics: metrics),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                let base = "http://\(configuration.host):\(port)"
                announce("Nebula Command \(version) listening on \(base)")
                if case .generated(let key) = keySource {
                    announce("API key: \(key)")
                    announce("This key is shown once; only its hash is kept in \(configuration.dataDirectory.path).")
                    announce("Open \(base)/#token=\(key)")
                } else {
                    announce("Open \(base)/")
                }
                if let setup {
                    announce("No accounts yet. Create the admin account (this link works once): \(base)/#setup=\(setup.token)")
                    announce("Or on the command line: nebula user create --username NAME --role admin")
                }
            },
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger
        )

        let group = ServiceGroup(
            configuration: .init(
                services: broker.services + [
                    .init(service: app),
                    .init(service: telemetry),
                    .init(service: containers),
                    .init(service: logTails),
                    .init(service: storage),
                    .init(service: alerts),
                    .init(service: history),
                    .init(service: maintenance),
                    .init(service: RevocationWatcher(keys: keys, sessions: sessions, connections: connections, interval: .milliseconds(250), logger: logger)),
                    // Last in the list, so first to shut down: it closes WebSockets with 1001
                    // before the HTTP server stops.
                    .init(service: ServerShutdown(connections: connections, grace: .seconds(3), logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            try? await jarvisHTTP.shutdown()
            await database.close()
            throw error
        }
        try? await jarvisHTTP.shutdown()
        await database.close()
    }
}

/// A configuration value that only shows its problem when the server assembles itself.
struct ConfigurationError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// One structured log line per HTTP request, at debug level.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = NebulaRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            logger.debug("http", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)", "ms": "\((ContinuousClock.now - start).components.attoseconds / 1_000_000_000_000_000)"])
            return response
        } catch {
            logger.debug("http", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "error": "\(error)"])
            throw error
        }
    }
}
