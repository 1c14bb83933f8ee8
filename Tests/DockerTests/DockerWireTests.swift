import Foundation
import Testing

@testable import Docker

@Suite("Docker wire formats")
struct DockerWireTests {
    static func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        let n = UInt32(payload.count)
        return [stream, 0, 0, 0, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
    }

    @Test("multiplexed logs: 8-byte headers, chunks split anywhere, lines across frames")
    func multiplexed() {
        let bytes = Self.frame(1, "line 1\nline") + Self.frame(2, "err 1\n") + Self.frame(1, " 2\r\n") + Self.frame(1, "tail")
        // Every split point, including inside headers, gives the same lines.
        for split in 0...bytes.count {
            var decoder = LogStreamDecoder(tty: false)
            let lines = decoder.feed(bytes[..<split]) + decoder.feed(bytes[split...]) + decoder.finish()
            #expect(lines == [
                LogLine(stream: .stdout, text: "line 1"), LogLine(stream: .stderr, text: "err 1"),
                LogLine(stream: .stdout, text: "line 2"), LogLine(stream: .stdout, text: "tail"),
            ], "split at \(split)")
        }
    }

    @Test("TTY logs are raw bytes; overlong lines are cut, not buffered forever")
    func tty() {
        var decoder = LogStreamDecoder(tty: true)
        #expect(decoder.feed(Array("a\nb".utf8)) == [LogLine(stream: .stdout, text: "a")])
        #expect(decoder.feed(Array("c\n".utf8)) == [LogLine(stream: .stdout, text: "bc")])
        let long = decoder.feed(Array(repeating: UInt8(ascii: "x"), count: 100_000) + [UInt8(ascii: "\n")])
        #expect(long.count == 1 && long[0].text.utf8.count == LogStreamDecoder.maxLineBytes)
        #expect(decoder.finish().isEmpty)
    }

    @Test("endpoints: unix sockets and tcp; DOCKER_HOST when no flag")
    func endpoints() throws {
        #expect(DockerEndpoint("unix:///var/run/docker.sock")?.transport == .unixSocket(path: "/var/run/docker.sock"))
        #expect(DockerEndpoint("tcp://127.0.0.1:2375")?.transport == .tcp(host: "127.0.0.1", port: 2375))
        for bad in ["", "/var/run/docker.sock", "unix://relative", "tcp://host", "tcp://host:99999", "http://x"] {
            #expect(DockerEndpoint(bad) == nil, "\(bad)")
        }
        #expect(DockerEndpoint("unix:///tmp/a b.sock")?.baseURL == "http+unix://%2Ftmp%2Fa%20b%2Esock")
        #expect(DockerEndpoint.resolve(flag: nil, environment: ["DOCKER_HOST": "unix:///run/podman/podman.sock"]) == "unix:///run/podman/podman.sock")
        #expect(DockerEndpoint.resolve(flag: "tcp://h:1", environment: ["DOCKER_HOST": "unix:///x"]) == "tcp://h:1")
        #expect(DockerEndpoint.resolve(flag: nil, environment: [:]) == DockerEndpoint.defaultSocket)
    }

    @Test("API versions compare as numbers and are capped at the newest we know")
    func versions() throws {
        #expect(try #require(APIVersion("1.9")) < #require(APIVersion("1.41")))
        #expect(min(try #require(APIVersion("1.47")), DockerClient.newestKnownVersion).description == "1.43")
        #expect(APIVersion("one.two") == nil)
    }

    @Test("events: container actions with their detail")
    func events() throws {
        let line = #"{"status":"health_status: unhealthy","id":"abc","from":"img","Type":"container","Action":"health_status: unhealthy","Actor":{"ID":"abc","Attributes":{"name":"web","image":"img"}},"scope":"local","time":1,"timeNano":1000}"#
        let event = try JSONDecoder().decode(DockerEvent.self, from: Data(line.utf8))
        #expect(event.kind == "health_status" && event.containerID == "abc" && event.attributes["name"] == "web")
    }

    @Test("system/df: dangling images are the untagged ones no container uses; prune reports count what was deleted")
    func danglingImagesAndPruneReports() throws {
        let df = """
            {"LayersSize": 3000, "Images": [
              {"Id": "sha256:a", "RepoTags": ["busybox:latest"], "Containers": 0, "Size": 1000},
              {"Id": "sha256:b", "RepoTags": null, "Containers": 0, "Size": 700},
              {"Id": "sha256:c", "RepoTags": ["<none>:<none>"], "Containers": -1, "Size": 300},
              {"Id": "sha256:d", "RepoTags": [], "Containers": 2, "Size": 900}],
             "Containers": [], "Volumes": [], "BuildCache": [{"Size": 50}]}
            """
        let usage = try JSONDecoder().decode(DiskUsage.self, from: Data(df.utf8))
        #expect(usage.danglingImages == 2 && usage.danglingImagesBytes == 1000 && usage.buildCacheBytes == 50)
        let report = try JSONDecoder().decode(PruneReport.self, from: Data(#"""
            {"ImagesDeleted": [{"Untagged": "x"}, {"Deleted": "sha256:b"}, {"Deleted": "sha256:c"}], "SpaceReclaimed": 1000}
            """#.utf8))
        #expect(report.imagesDeleted == 2 && report.spaceReclaimed == 1000)
        let empty = try JSONDecoder().decode(PruneReport.self, from: Data(#"{"ImagesDeleted": null, "SpaceReclaimed": 0}"#.utf8))
        #expect(empty.imagesDeleted == 0)
    }
}
