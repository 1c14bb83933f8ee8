import Foundation
import Docker
import Telemetry
import Testing

@testable import Alerts

@Suite("Alert evaluation")
struct AlertEvaluatorTests {
    let rule = AlertRule(name: "filesystem_full", condition: .filesystemUsedPercent(above: 80), duration: .seconds(60))

    func fs(_ percent: Double, mount: String = "/srv") -> HostSnapshot.Filesystem {
        HostSnapshot.Filesystem(mount: mount, device: "/dev/x", fsType: "ext4", totalBytes: 100, usedBytes: UInt64(percent), availableBytes: 100 - UInt64(percent), usedPercent: percent)
    }

    func observe(_ filesystems: [HostSnapshot.Filesystem]) -> [Observation] {
        Observations.of(filesystems: filesystems, containers: [], rules: [rule])
    }

    @Test("fires only after the condition held for the duration; a spike does nothing")
    func firesAfterDuration() {
        var evaluator = AlertEvaluator()
        #expect(evaluator.evaluate(observe([fs(85)]), now: 0).isEmpty)
        #expect(evaluator.evaluate(observe([fs(70)]), now: 30_000).isEmpty)  // spike over
        #expect(evaluator.evaluate(observe([fs(85)]), now: 40_000).isEmpty)
        #expect(evaluator.evaluate(observe([fs(86)]), now: 90_000).isEmpty)  // 50 s so far
        let fired = evaluator.evaluate(observe([fs(87)]), now: 100_000)
        guard case .fired(let alert)? = fired.first else { Issue.record("expected a firing alert: \(fired)"); return }
        #expect(alert.key == "filesystem_full:/srv" && alert.since == 40_000 && alert.firedAt == 100_000 && alert.value == 87)
        #expect(alert.summary == "/srv is 87 % full (limit 80 %)")
        #expect(evaluator.evaluate(observe([fs(88)]), now: 110_000).isEmpty)  // fires once
        #expect(evaluator.firing.map(\.key) == ["filesystem_full:/srv"])
    }

    @Test("resolves once the condition stayed away for the duration; flapping does not resolve")
    func resolves() {
        var evaluator = AlertEvaluator()
        _ = evaluator.evaluate(observe([fs(90)]), now: 0)
        _ = evaluator.evaluate(observe([fs(90)]), now: 60_000)
        #expect(evaluator.evaluate(observe([fs(50)]), now: 70_000).isEmpty)
        #expect(evaluator.evaluate(observe([fs(90)]), now: 100_000).isEmpty)  // back: still the same alert
        #expect(evaluator.evaluate(observe([fs(50)]), now: 110_000).isEmpty)
        let resolved = evaluator.evaluate(observe([fs(50)]), now: 170_000)
        guard case .resolved(let alert)? = resolved.first else { Issue.record("expected resolved: \(resolved)"); return }
        #expect(alert.state == .resolved && alert.resolvedAt == 170_000 && alert.firedAt == 60_000)
        #expect(evaluator.firing.isEmpty)
    }

    @Test("a subject that disappears resolves at once; restored alerts resolve instead of firing again")
    func goneAndRestored() {
        var evaluator = AlertEvaluator()
        _ = evaluator.evaluate(observe([fs(90), fs(95, mount: "/media")]), now: 0)
        #expect(evaluator.evaluate(observe([fs(90), fs(95, mount: "/media")]), now: 60_000).count == 2)
        let gone = evaluator.evaluate(observe([fs(90)]), now: 61_000)
        #expect(gone.count == 1)
        if case .resolved(let alert)? = gone.first { #expect(alert.subject == "/media" && alert.summary == "/media is gone") }

        var restarted = AlertEvaluator()
        restarted.restore(evaluator.firing)
        #expect(restarted.evaluate(observe([fs(90)]), now: 200_000).isEmpty)
        #expect(restarted.evaluate(observe([fs(10)]), now: 210_000).isEmpty)
        #expect(restarted.evaluate(observe([fs(10)]), now: 270_000).count == 1)
    }

    @Test("container rules: unhealthy, restarting, CPU and memory over a limit")
    func containers() throws {
        let json = #"[{"Id":"a","Names":["/web"],"Image":"i","State":"restarting","Status":"Restarting (1) 2 seconds ago","Created":1},{"Id":"b","Names":["/db"],"Image":"i","State":"running","Status":"Up 1 hour (unhealthy)","Created":1}]"#
        let summaries = try JSONDecoder().decode([ContainerSummary].self, from: Data(json.utf8))
        var reports = summaries.map { ContainerReport($0, details: nil, usage: nil) }
        reports[1].usage.cpuPercent = 150
        reports[1].usage.memoryPercent = 95
        let rules = AlertRule.defaults(duration: .zero) + [
            AlertRule(name: "cpu", condition: .containerCPUPercent(above: 100), duration: .zero),
            AlertRule(name: "memory", condition: .containerMemoryPercent(above: 90), duration: .zero),
        ]
        var evaluator = AlertEvaluator()
        let fired = evaluator.evaluate(Observations.of(filesystems: [], containers: reports, rules: rules), now: 0)
        let keys = Set(fired.compactMap { if case .fired(let a) = $0 { a.key } else { nil } })
        #expect(keys == ["container_restarting:web", "container_unhealthy:db", "cpu:db", "memory:db"])
    }

    @Test("a crash loop fires although the container reads running between restarts, and resolves when it stops")
    func restartLoop() throws {
        let json = #"[{"Id":"a","Names":["/flaky"],"Image":"i","State":"running","Status":"Up 1 second","Created":1}]"#
        let summary = try #require(try JSONDecoder().decode([ContainerSummary].self, from: Data(json.utf8)).first)
        func report(restarts: Int) throws -> ContainerReport {
            let inspect = #"{"Id":"a","Name":"/flaky","RestartCount":\#(restarts),"State":{"Status":"running","Pid":42}}"#
            return ContainerReport(summary, details: try JSONDecoder().decode(ContainerDetails.self, from: Data(inspect.utf8)), usage: nil)
        }
        let rule = AlertRule(name: "container_restarting", condition: .containerRestarting, duration: .seconds(60))
        var history = RestartHistory(window: .seconds(600), threshold: 3)
        var evaluator = AlertEvaluator()
        var fired: [String] = []
        var resolved: [String] = []
        // A restart a minute for five minutes, then quiet for a quarter of an hour.
        for minute in 0...20 {
            let now = Int64(minute) * 60_000
            history.record([try report(restarts: min(minute, 5))], now: now)
            for transition in evaluator.evaluate(Observations.of(filesystems: [], containers: [try report(restarts: min(minute, 5))], rules: [rule], restarts: history), now: now) {
                switch transition {
                case .fired(let alert): fired.append("\(minute): \(alert.summary)")
                case .resolved: resolved.append("\(minute)")
                }
            }
        }
        // Three restarts by minute 3, held for a minute; from minute 13 only two are left in the window.
        #expect(fired == ["4: container flaky keeps restarting (4 restarts in 10 min, 4 in all)"])
        #expect(resolved == ["14"])

        // A recreated container (its count starts again at 0) is not a loop.
        history.record([try report(restarts: 0)], now: 21 * 60_000)
        #expect(history.recent("flaky") == 0)
    }
}

@Suite("Notification formats")
struct NotificationMessageTests {
    let alert = Alert.sample

    @Test("targets are kind=url, http(s) only; their description hides the token-bearing path")
    func targets() {
        let discord = NotificationTarget("discord=https://discord.com/api/webhooks/123/secret-token")
        #expect(discord?.kind == .discord && discord?.description == "discord://discord.com")
        for bad in ["discord", "slack=https://x", "ntfy=ftp://x/y", "webhook=not a url", "webhook=https://"] {
            #expect(NotificationTarget(bad) == nil, "\(bad)")
        }
    }

    @Test("Discord: content and an embed, no mentions")
    func discord() throws {
        let message = NotificationMessage(for: alert, kind: .discord, server: "nebula@box")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(message.body)) as? [String: Any])
        #expect((body["content"] as? String)?.contains("filesystem_full") == true)
        let embed = try #require((body["embeds"] as? [[String: Any]])?.first)
        #expect(embed["description"] as? String == alert.summary && embed["color"] as? Int == 0xF1C40F)
        #expect((body["allowed_mentions"] as? [String: Any])?["parse"] as? [String] == [])
    }

    @Test("ntfy: the summary as the body, title and priority in headers (RFC 2047 for non-ASCII)")
    func ntfy() {
        let message = NotificationMessage(for: alert, kind: .ntfy, server: "nebula")
        #expect(String(decoding: message.body, as: UTF8.self) == alert.summary)
        let headers = Dictionary(uniqueKeysWithValues: message.headers)
        #expect(headers["Priority"] == "high" && headers["Tags"] == "rotating_light")
        #expect(headers["Title"]?.hasPrefix("=?UTF-8?B?") == true)  // the title starts with an emoji
    }

    @Test("webhook: the alert as JSON")
    func webhook() throws {
        var resolved = alert
        resolved.state = .resolved
        resolved.resolvedAt = 90_000
        let message = NotificationMessage(for: resolved, kind: .webhook, server: "nebula")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(message.body)) as? [String: Any])
        #expect(body["state"] as? String == "resolved" && body["resolved_at"] as? Int == 90_000 && body["key"] as? String == alert.key)
    }
}
