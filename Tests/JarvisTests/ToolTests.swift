import AsyncHTTPClient
import Foundation
import NIOPosix
import NIOSSL
import Realtime
import Testing
@testable import Jarvis

private struct FakeTool: JarvisTool {
    let name: String
    let tier: ToolTier
    var description: String { "fake \(name)" }
    var parameters: JSONValue { .object([("type", .string("object"))]) }
    func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue { .null }
}

@Suite("Tool catalog and policy")
struct ToolPolicyTests {
    @Test func diagnoseRunsRemediationAndProactiveWaitForApprovalOverridesWin() {
        let logs = FakeTool(name: "container_logs", tier: .diagnose)
        let restart = FakeTool(name: "restart_container", tier: .remediate)
        let suggest = FakeTool(name: "suggest_maintenance", tier: .proactive)
        let defaults = ToolPolicy()
        #expect(defaults.decision(for: logs) == .auto)
        #expect(defaults.decision(for: restart) == .approval)
        #expect(defaults.decision(for: suggest) == .approval)
        let strict = ToolPolicy(overrides: ["container_logs": .approval, "restart_container": .forbidden])
        #expect(strict.decision(for: logs) == .approval)
        #expect(strict.decision(for: restart) == .forbidden)
        let catalog = ToolCatalog([logs, restart, suggest, FakeTool(name: "container_logs", tier: .remediate)])
        #expect(catalog.tools.count == 3)
        #expect(catalog.tool(named: "container_logs")?.tier == .diagnose)
        // A forbidden tool is not even described to the model.
        #expect(catalog.definitions(under: strict).map(\.name) == ["container_logs", "suggest_maintenance"])
    }
}

@Suite("Diagnose tools against real services")
struct DiagnoseToolTests {
    @Test func dnsResolvesLocalhostAndReportsWhatCannotBeResolved() async throws {
        let tool = DNSResolveTool()
        let result = try await tool.run(.object([("name", .string("localhost"))]))
        let addresses = result["addresses"].flatMap { value -> [String]? in
            guard case .array(let items) = value else { return nil }
            return items.compactMap(\.stringValue)
        } ?? []
        #expect(addresses.contains("127.0.0.1") || addresses.contains("::1"), "\(addresses)")
        await #expect(throws: ToolError.self) { try await tool.run(.object([("name", .string("no-such-host.invalid"))])) }
        do {
            _ = try await tool.run(.object([]))
            Issue.record("missing name accepted")
        } catch {
            #expect(error.code == .badArguments)
        }
    }

    @Test func httpCheckReportsStatusAndTimeAndTimesOut() async throws {
        let server = ScriptedHTTPServer { index in
            switch index {
            case 0: [.head(status: 200, contentType: "text/html"), .send("<html>up</html>"), .close]
            case 1: [.head(status: 503, contentType: "application/json"), .send("{}"), .close]
            default: [.wait(milliseconds: 5_000), .head(status: 200), .close]
            }
        }
        let base = try await server.start()
        let client = OpenAICompatibleProvider.makeHTTPClient()
        let tool = HTTPCheckTool(client: client)
        let root = String(base.dropLast(3))  // without "/v1"
        let up = try await tool.run(.object([("url", .string(root + "/status"))]))
        #expect(up["status"] == .number("200") && up["ok"] == .bool(true) && up["content_type"] == .string("text/html"))
        #expect(up["response_ms"]?.int64Value != nil)
        let down = try await tool.run(.object([("url", .string(root + "/status"))]))
        #expect(down["status"] == .number("503") && down["ok"] == .bool(false))
        do {
            _ = try await tool.run(.object([("url", .string(root + "/slow")), ("timeout_ms", .number("300"))]))
            Issue.record("a silent server did not time out")
        } catch {
            #expect(error.code == .timeout)
        }
        // Nothing listens on port 1: the error says so plainly.
        do {
            _ = try await tool.run(.object([("url", .string("http://127.0.0.1:1/"))]))
            Issue.record("a closed port answered")
        } catch {
            #expect(error.code == .failed && error.message == "http://127.0.0.1:1/: connection refused (errno 111)")
        }
        for bad: JSONValue in [.object([("url", .string("ftp://x"))]), .object([("url", .string(root)), ("timeout_ms", .number("5"))])] {
            do {
                _ = try await tool.run(bad)
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.code == .badArguments)
            }
        }
        try await client.shutdown()
        try await server.shutdown()
    }

    @Test func tlsCertificateOfALocalServerNamesDaysLeftAndTrust() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nebula-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        try run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "30",
            "-subj", "/CN=nas.lan", "-addext", "subjectAltName=DNS:localhost,DNS:nas.lan",
        ])
        let port = Int.random(in: 20_000..<40_000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        server.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key, "-www", "-quiet"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate() }

        let group = MultiThreadedEventLoopGroup.singleton
        let arguments: JSONValue = .object([("host", .string("localhost")), ("port", .number(String(port)))])
        var result: JSONValue = .null
        for _ in 0..<50 {  // until s_server listens
            if let found = try? await TLSCertificateTool(group: group).run(arguments) {
                result = found
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(result["dns_names"] == .array([.string("localhost"), .string("nas.lan")]))
        #expect(result["days_left"]?.int64Value.map { (28...30).contains($0) } == true, "\(result)")
        #expect(result["expired"] == .bool(false))
        #expect(result["trusted"] == .bool(false))  // self-signed: not trusted by the system's roots
        #expect(result["trust_error"]?.stringValue?.isEmpty == false)
        // Trusting that certificate makes it trusted for the name it carries.
        let roots = NIOSSLTrustRoots.certificates(try NIOSSLCertificate.fromPEMFile(cert))
        let trusted = try await TLSCertificateTool(group: group, trustRoots: roots).run(arguments)
        #expect(trusted["trusted"] == .bool(true) && trusted["trust_error"] == .null)
        do {
            _ = try await TLSCertificateTool(group: group).run(.object([("host", .string("127.0.0.1")), ("port", .number("9"))]))
            Issue.record("nothing listening, yet a certificate")
        } catch {
            #expect(error.code == .failed)
        }
    }

    private func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
