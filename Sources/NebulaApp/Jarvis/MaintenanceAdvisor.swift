import Foundation
import Jarvis
import Logging
import Realtime
import ServiceLifecycle
import Store
import Telemetry

/// Proactive maintenance: on a schedule, on the leading replica, looks at the lab and proposes what
/// would help — prune Docker's build cache or dangling images, restart an unhealthy container, rotate
/// a log that grew large — as tool calls in the `Maintenance` conversation (admins see it in their
/// list). Each is decided by the tool policy like any other call: by default it waits for approval;
/// an admin who sets a proactive tool to `auto` has it run on the schedule. A proposal still
/// waiting is not repeated.
final class MaintenanceAdvisor: Service, Sendable {
    static let conversationID = "maintenance"
    static let owner = Principal.server.id

    struct Suggestion: Equatable, Sendable {
        let tool: String
        /// JSON text, stable for equal suggestions (keys sorted), so a waiting one is recognised.
        let arguments: String
        let reason: String
    }

    private let interval: Duration?
    private let thresholds: MaintenanceThresholds
    private let storage: StorageService
    private let containers: ContainerTelemetryService
    private let logDirectories: [NamedDirectory]
    private let tools: ToolCallHandler
    private let hub: Hub
    private let coordination: ReplicaCoordination
    private let logger: Logger

    init(
        interval: Duration?, thresholds: MaintenanceThresholds = MaintenanceThresholds(), storage: StorageService, containers: ContainerTelemetryService,
        logDirectories: [NamedDirectory], tools: ToolCallHandler, hub: Hub, coordination: ReplicaCoordination, logger: Logger
    ) {
        self.interval = interval
        self.thresholds = thresholds
        self.storage = storage
        self.containers = containers
        self.logDirectories = logDirectories
        self.tools = tools
        self.hub = hub
        self.coordination = coordination
        self.logger = logger
    }

    func run() async throws {
        guard let interval else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isCancelledOrShuttingDown {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            guard !Task.isCancelledOrShuttingDown, coordination.isLeader else { continue }
            do {
                try await advise()
            } catch {
                logger.warning("maintenance suggestions not made", metadata: ["error": "\(error)"])
            }
        }
    }

    /// One round: proposes what the current state calls for and is not already waiting.
    func advise() async throws {
        let found = Self.suggestions(
            storage: storage.snapshot, containers: containers.snapshot, logs: Self.logFiles(in: logDirectories), thresholds: thresholds)
        guard !found.isEmpty else { return }
        let conversations = tools.conversations
        let conversation = try await conversation(conversations)
        let waiting = Set(try await tools.toolbox.calls.calls(conversationID: conversation.id).filter { !$0.state.isFinal }.map { "\($0.tool) \($0.arguments)" })
        let channel = JarvisConversationOwners.channel(of: conversation.id)
        for suggestion in found where !waiting.contains("\(suggestion.tool) \(suggestion.arguments)") {
            let call = ChatMessage.ToolCall(id: "maintenance-\(UUID().uuidString.lowercased())", name: suggestion.tool, arguments: suggestion.arguments)
            let message = try await conversations.append(ConversationMessageRecord(
                conversationID: conversation.id, role: "assistant", content: suggestion.reason,
                toolCalls: JarvisService.toolCallsJSON([call]), state: "complete", provider: "maintenance", finishReason: "tool_calls",
                createdAt: Clock.nowMilliseconds()))
            // Published like an answer, so an open Maintenance conversation shows it at once.
            var outcome = AnswerOutcome(state: .complete, content: suggestion.reason, toolCalls: [call], finishReason: "tool_calls")
            outcome.provider = "maintenance"
            for event in [
                JSONValue.object([("type", .string("answer.start")), ("answer", .number(String(message.id)))]),
                .object([("type", .string("answer.delta")), ("answer", .number(String(message.id))), ("text", .string(suggestion.reason))]),
                AnswerRunner.endEvent(outcome, answerID: message.id),
            ] {
                _ = try await hub.publish(event, to: channel, by: .server)
            }
            _ = await tools.handle([call], answer: message, channel: channel, actor: .server) { _ in true }
            logger.info("maintenance suggested", metadata: ["tool": "\(suggestion.tool)", "arguments": "\(suggestion.arguments)"])
        }
        try await conversations.touch(id: conversation.id, at: Clock.nowMilliseconds())
    }

    private func conversation(_ conversations: ConversationRepository) async throws -> ConversationRecord {
        if let existing = try await conversations.find(id: Self.conversationID) { return existing }
        let now = Clock.nowMilliseconds()
        let created = ConversationRecord(id: Self.conversationID, owner: Self.owner, title: "Maintenance suggestions", createdAt: now, updatedAt: now)
        do {
            try await conversations.create(created)
        } catch {
            if let existing = try await conversations.find(id: Self.conversationID) { return existing }  // another replica was first
            throw error
        }
        return created
    }

    /// What the state calls for, in a stable order.
    static func suggestions(
        storage: StorageSnapshot, containers: ContainerSnapshot?, logs: [(directory: String, file: String, bytes: UInt64)], thresholds: MaintenanceThresholds
    ) -> [Suggestion] {
        var found: [Suggestion] = []
        if let docker = storage.docker {
            if docker.buildCacheBytes >= thresholds.buildCacheBytes {
                found.append(Suggestion(
                    tool: "prune_build_cache", arguments: "{}",
                    reason: "Docker's build cache takes \(bytes(docker.buildCacheBytes)). Pruning it frees that space; images and containers stay."))
            }
            if docker.danglingImages > 0, docker.danglingImagesBytes >= thresholds.danglingImagesBytes {
                found.append(Suggestion(
                    tool: "prune_dangling_images", arguments: "{}",
                    reason: "\(docker.danglingImages) dangling Docker image\(docker.danglingImages == 1 ? "" : "s") (untagged, used by no container) take \(bytes(docker.danglingImagesBytes))."))
            }
        }
        for container in (containers?.containers ?? []).sorted(by: { $0.name < $1.name }) where container.state == "running" && container.health == "unhealthy" {
            found.append(Suggestion(
                tool: "restart_container", arguments: json([("container", container.name)]),
                reason: "Container \(container.name) is unhealthy (\(container.status)). Restarting it often brings it back; its logs may say why it failed."))
        }
        for log in logs where log.bytes >= UInt64(max(0, thresholds.logBytes)) {
            found.append(Suggestion(
                tool: "rotate_log", arguments: json([("directory", log.directory), ("file", log.file)]),
                reason: "The log \(log.file) in '\(log.directory)' has grown to \(bytes(Int64(clamping: log.bytes))). Rotating it keeps the last copies and empties it."))
        }
        return found
    }

    /// Regular files directly inside the log directories, with their sizes.
    static func logFiles(in directories: [NamedDirectory]) -> [(directory: String, file: String, bytes: UInt64)] {
        var found: [(directory: String, file: String, bytes: UInt64)] = []
        for directory in directories {
            for file in ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted() where !isRotatedCopy(file) {
                let attributes = try? FileManager.default.attributesOfItem(atPath: directory.path + "/" + file)
                guard attributes?[.type] as? FileAttributeType == .typeRegular else { continue }
                found.append((directory.name, file, (attributes?[.size] as? NSNumber)?.uint64Value ?? 0))
            }
        }
        return found
    }

    /// Hidden files (a rotation in progress) and rotated copies (`app.log.1`) are not logs to rotate.
    static func isRotatedCopy(_ file: String) -> Bool {
        if file.hasPrefix(".") { return true }
        guard let dot = file.lastIndex(of: "."), file.index(after: dot) < file.endIndex else { return false }
        return file[file.index(after: dot)...].allSatisfy(\.isASCII) && file[file.index(after: dot)...].allSatisfy(\.isNumber)
    }

    private static func json(_ members: [(String, String)]) -> String {
        String(decoding: JSONValue.object(members.map { (key: $0.0, value: .string($0.1)) }).jsonBytes, as: UTF8.self)
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) bytes" : "\(String(format: "%.1f", value)) \(units[unit])"
    }
}
