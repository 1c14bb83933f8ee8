import Jarvis
import Telemetry
import Testing
@testable import NebulaApp

@Suite("Maintenance suggestions")
struct MaintenanceAdvisorTests {
    private func storage(buildCache: Int64, dangling: Int, danglingBytes: Int64) -> StorageSnapshot {
        StorageSnapshot(
            filesystems: [], directories: [],
            docker: .init(
                imagesBytes: 10 << 30, containersBytes: 0, volumesBytes: 0, buildCacheBytes: buildCache, danglingImages: dangling,
                danglingImagesBytes: danglingBytes, volumes: [], scannedAt: 0),
            updatedAt: 0)
    }

    @Test func whatCrossesAThresholdIsProposedWithItsReasonAndNothingElse() {
        let thresholds = MaintenanceThresholds()
        let quiet = MaintenanceAdvisor.suggestions(
            storage: storage(buildCache: (1 << 30) - 1, dangling: 3, danglingBytes: 10 << 20), containers: nil,
            logs: [("app", "small.log", 1 << 20)], thresholds: thresholds)
        #expect(quiet.isEmpty)

        let busy = MaintenanceAdvisor.suggestions(
            storage: storage(buildCache: 3 << 30, dangling: 2, danglingBytes: 700 << 20), containers: nil,
            logs: [("app", "small.log", 1 << 20), ("app", "huge.log", 150 << 20)], thresholds: thresholds)
        #expect(busy.map(\.tool) == ["prune_build_cache", "prune_dangling_images", "rotate_log"])
        #expect(busy[0].reason.contains("3.0 GiB") && busy[1].reason.hasPrefix("2 dangling Docker images") && busy[1].reason.contains("700.0 MiB"))
        #expect(busy[2].arguments == #"{"directory":"app","file":"huge.log"}"#)
        // Equal state, equal suggestions: a waiting one is recognised and not proposed again.
        #expect(busy == MaintenanceAdvisor.suggestions(
            storage: storage(buildCache: 3 << 30, dangling: 2, danglingBytes: 700 << 20), containers: nil,
            logs: [("app", "small.log", 1 << 20), ("app", "huge.log", 150 << 20)], thresholds: thresholds))
        // No engine: nothing about Docker.
        #expect(MaintenanceAdvisor.suggestions(storage: StorageSnapshot(filesystems: [], directories: [], docker: nil, updatedAt: 0),
                                               containers: nil, logs: [], thresholds: thresholds).isEmpty)
    }

    @Test func rotatedCopiesAndRotationsInProgressAreNotLogsToRotate() {
        for file in ["app.log.1", "app.log.12", ".app.log.rotating", ".hidden"] { #expect(MaintenanceAdvisor.isRotatedCopy(file), "\(file)") }
        for file in ["app.log", "app.log.old", "access.2026-11-22", "app.", "app.log.1a", "app.log.١"] { #expect(!MaintenanceAdvisor.isRotatedCopy(file), "\(file)") }
    }

    @Test func byteCountsReadLikeDf() {
        #expect(MaintenanceAdvisor.bytes(512) == "512 bytes")
        #expect(MaintenanceAdvisor.bytes(1536) == "1.5 KiB")
        #expect(MaintenanceAdvisor.bytes(5 << 30) == "5.0 GiB")
    }

    @Test func onlyChatsGoBackToTheModelAfterADecision() {
        #expect(JarvisService.continuesAfterDecisions("3f0c1d2e-aaaa-bbbb-cccc-000000000000"))
        #expect(!JarvisService.continuesAfterDecisions(MaintenanceAdvisor.conversationID))
        #expect(!JarvisService.continuesAfterDecisions("mcp-key-7"))
    }
}
